"""The web page of `assistant serve` in a real browser: headless Chromium (Debian's package) driven by Selenium.

`scripts/test.sh` installs Chromium and its driver when they are missing (CI runs as root); without them this
test fails, saying how to install them: the page is a feature, not an optional extra.
"""

import shutil
import signal
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import free_port, start_server

pytestmark = [pytest.mark.integration, pytest.mark.slow]


@pytest.fixture(scope="module")
def page_url(seed_store: Path) -> Iterator[str]:
    port = free_port()
    command = [sys.executable, "-m", "assistant", "serve", "--store", str(seed_store), "--port", str(port)]
    proc = start_server(command, port, health=f"http://127.0.0.1:{port}/healthz", timeout=120)
    yield f"http://127.0.0.1:{port}/"
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    chromium, driver = shutil.which("chromium"), shutil.which("chromedriver")
    if not (chromium and driver):
        pytest.fail("Chromium is not installed: `apt-get install chromium chromium-driver` (scripts/test.sh does it as root)")
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for flag in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1280,900"):
        options.add_argument(flag)
    chrome = webdriver.Chrome(service=Service(driver), options=options)
    yield chrome
    chrome.quit()


def ask_on_page(b: object, url: str, document: str, question: str) -> Any:
    """Open the page, wait for ``document`` in its list, ask ``question``, wait for a citation; the wait, for more."""
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    b.get(url)  # type: ignore[attr-defined]
    wait = WebDriverWait(b, 120)
    wait.until(shown.text_to_be_present_in_element((By.ID, "documents"), document))
    b.find_element(By.ID, "question").send_keys(question)  # type: ignore[attr-defined]
    b.find_element(By.ID, "send").click()  # type: ignore[attr-defined]
    wait.until(shown.visibility_of_element_located((By.CSS_SELECTOR, "#citations a.citation")))
    return wait


def test_ask_on_the_page_and_open_a_citation(page_url: str, browser: object) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown

    b: object = browser
    wait = ask_on_page(b, page_url, "000_72ac5f2f8dcbec1b.txt", "What deadline did the US set?")
    assert "8 août" in b.find_element(By.ID, "answer").text  # type: ignore[attr-defined]
    assert "Extractive answer" in b.find_element(By.ID, "mode").text  # type: ignore[attr-defined]
    citation = b.find_element(By.CSS_SELECTOR, "#citations a.citation")  # type: ignore[attr-defined]
    assert "8 août" in citation.text
    citation.click()
    wait.until(shown.visibility_of_element_located((By.ID, "passage")))
    marked = b.find_element(By.CSS_SELECTOR, "#passage-text mark")  # type: ignore[attr-defined]
    assert "date limite au 8 août" in marked.text, "the quoted span is highlighted inside its passage"
    passage = b.find_element(By.ID, "passage-text").text  # type: ignore[attr-defined]
    assert len(passage) > len(marked.text), "the whole passage is shown around the span"
    assert "000_72ac5f2f8dcbec1b.txt" in b.find_element(By.ID, "passage-title").text  # type: ignore[attr-defined]
    errors = [e for e in b.get_log("browser") if e["level"] == "SEVERE"]  # type: ignore[attr-defined]
    assert errors == [], errors


def test_an_unanswerable_question_shows_the_abstention(page_url: str, browser: object) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as shown
    from selenium.webdriver.support.ui import WebDriverWait

    b: object = browser
    b.get(page_url)  # type: ignore[attr-defined]
    b.find_element(By.ID, "question").send_keys("What is the boiling point of mercury on Mars?")  # type: ignore[attr-defined]
    b.find_element(By.ID, "send").click()  # type: ignore[attr-defined]
    WebDriverWait(b, 120).until(shown.text_to_be_present_in_element((By.ID, "mode"), "No answer in the documents"))
    assert "abstained" in b.find_element(By.ID, "answer").get_attribute("class")  # type: ignore[attr-defined]


@pytest.fixture(scope="module")
def table_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    import subprocess

    root = tmp_path_factory.mktemp("web-table")
    (root / "contacts.md").write_text("# Contacts\n\nWho to call for help inside the company.\n\n| Service | Contact | Extension |\n"
                                      "|---|---|---|\n| Payroll | Sophie Roux | 4420 |\n| Helpdesk | Marc Petit | 4410 |\n", encoding="utf-8")
    subprocess.run([sys.executable, "-m", "assistant", "ingest", str(root / "contacts.md"), "--store", str(root / "store")],
                   check=True, capture_output=True, timeout=300)
    port = free_port()
    command = [sys.executable, "-m", "assistant", "serve", "--store", str(root / "store"), "--port", str(port)]
    proc = start_server(command, port, health=f"http://127.0.0.1:{port}/healthz", timeout=120)
    yield f"http://127.0.0.1:{port}/"
    proc.send_signal(signal.SIGTERM)
    proc.wait(timeout=60)


def test_a_quoted_table_row_shows_its_header(table_url: str, browser: object) -> None:
    from selenium.webdriver.common.by import By

    b: object = browser
    ask_on_page(b, table_url, "contacts.md", "What is the extension of the helpdesk?")
    item = b.find_element(By.CSS_SELECTOR, "#citations li")  # type: ignore[attr-defined]
    assert "Helpdesk | Marc Petit | 4410" in item.text
    assert "table: Service | Contact | Extension" in item.find_element(By.CSS_SELECTOR, ".table-header").text
