"""A built wheel carries what the package needs at run time: the prompt files."""

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT

pytestmark = pytest.mark.integration


def test_wheel_ships_the_prompts_and_uses_them(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", str(ROOT), "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path / "dist")],
        check=True, capture_output=True, timeout=300,
    )
    (wheel,) = (tmp_path / "dist").glob("assistant-*.whl")
    unpacked = tmp_path / "site"
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(unpacked)
    names = {p.name for p in (ROOT / "prompts").glob("*.txt")}
    assert names and {p.name for p in (unpacked / "assistant" / "_prompts").glob("*.txt")} == names
    # the unpacked wheel, away from the source tree, finds and checks every prompt it ships
    script = (
        "import assistant.prompts as p; "
        "[p.load_prompt(n) for n in p.FIELDS]; "
        "print(p.PROMPTS_DIR)"
    )
    result = subprocess.run([sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, timeout=60,
                            env={"PYTHONPATH": str(unpacked), "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    assert Path(result.stdout.strip()) == (unpacked / "assistant" / "_prompts").resolve()
