"""Shared fixtures: a deterministic fake embedder, an isolated store, a network guard.

Every test runs with no ``ASSISTANT_*`` or ``OPENAI_*`` variables from the
machine, a store under ``tmp_path``, and sockets that may only reach loopback:
a request to any other host fails loudly instead of leaking.
"""

from __future__ import annotations

import hashlib
import ipaddress
import re
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from assistant.text.lexicon import fold

ROOT = Path(__file__).resolve().parent.parent
SEED = ROOT / "seeds" / "000_72ac5f2f8dcbec1b.txt"
SHARED_DATASETS = ROOT.parent / "shared" / "datasets"


class FakeEmbedder:
    """Deterministic bag-of-words embedder: each folded word maps to a fixed random vector.

    Texts that share words get similar vectors, so retrieval tests are meaningful
    without a model. Counts every text it embeds (``calls``), to prove caching.
    """

    name = "fake/bag-of-words-64"
    dim = 64

    def __init__(self) -> None:
        self.embedded = 0
        self.calls = 0

    def _vector(self, text: str) -> np.ndarray:
        total = np.zeros(self.dim, dtype=np.float32)
        for word in re.findall(r"\w+", fold(text)):
            seed = int.from_bytes(hashlib.blake2b(word.encode(), digest_size=4).digest(), "little")
            total += np.random.default_rng(seed).standard_normal(self.dim).astype(np.float32)
        norm = np.linalg.norm(total)
        if norm == 0:
            total[0] = 1.0
            return total
        return total / norm

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.calls += 1
        self.embedded += len(texts)
        return np.asarray([self._vector(t) for t in texts], dtype=np.float32).reshape(len(texts), self.dim)

    def embed_query(self, text: str) -> np.ndarray:
        return self._vector(text)


class NetworkGuardError(RuntimeError):
    pass


@pytest.fixture(autouse=True)
def _isolated(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    import os

    for name in list(os.environ):
        if name.startswith(("ASSISTANT_", "OPENAI_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("ASSISTANT_STORE", str(tmp_path / "store"))
    real_connect = socket.socket.connect

    def guarded_connect(self: socket.socket, address: object) -> object:
        if self.family in (socket.AF_INET, socket.AF_INET6):
            host = address[0] if isinstance(address, tuple) else str(address)
            try:
                loopback = ipaddress.ip_address(host).is_loopback
            except ValueError:
                loopback = host == "localhost"
            if not loopback:
                raise NetworkGuardError(f"test tried to reach {host}: only 127.0.0.1 is allowed in tests")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded_connect)
    yield


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(command: Sequence[str], port: int, health: str | None = None, timeout: float = 60.0, log: Path | None = None,
                 env: dict[str, str] | None = None) -> subprocess.Popen[bytes]:
    """Start a server on 127.0.0.1 and wait until it is ready: ``health`` answers 200, or else ``port`` accepts.

    Its output goes to ``log`` (when given). Fails the test, naming the command, when the process exits or is not ready in time.
    """
    out: Any = open(log, "wb") if log else subprocess.DEVNULL  # noqa: SIM115 - the server process owns it
    proc = subprocess.Popen(list(command), stdout=out, stderr=out, env=env)
    name = " ".join(Path(part).name for part in command[:2])
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            pytest.fail(f"{name} exited at start (code {proc.returncode})")
        try:
            if health is None:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                return proc
            with urllib.request.urlopen(health, timeout=2) as response:
                if response.status == 200:
                    return proc
        except OSError:
            pass
        time.sleep(0.2)
    proc.kill()
    pytest.fail(f"{name} was not ready within {timeout:.0f} s")


@pytest.fixture(scope="module")
def seed_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store of the seed article, built with the real embedder (once per test module)."""
    from assistant import Assistant

    store = tmp_path_factory.mktemp("seed") / "store"
    with Assistant(store=str(store)) as bot:
        bot.ingest([SEED.parent])
    return store


@pytest.fixture
def fake_embedder() -> FakeEmbedder:
    return FakeEmbedder()


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    """A small folder of English and French documents."""
    folder = tmp_path / "docs"
    folder.mkdir()
    (folder / "cats.txt").write_text(
        "Cats sleep for about sixteen hours a day. A cat purrs when it is content.\n\n"
        "The oldest cat on record lived to 38 years.",
        encoding="utf-8",
    )
    (folder / "paris.md").write_text(
        "# Paris\n\nLa tour Eiffel mesure 330 mètres. Elle a été construite en 1889 pour l'Exposition universelle.\n",
        encoding="utf-8",
    )
    (folder / "volcano.html").write_text(
        "<html><head><title>x</title><style>body{color:red}</style></head><body>"
        "<h1>Volcanoes</h1><p>Mount Etna is the most active volcano in Europe.</p>"
        "<script>var secret = 'do not index me';</script></body></html>",
        encoding="utf-8",
    )
    return folder


@pytest.fixture
def bot(fake_embedder: FakeEmbedder, tmp_path: Path) -> Iterator[object]:
    from assistant import Assistant

    with Assistant(embedder=fake_embedder, store=str(tmp_path / "store"), min_confidence=0.0) as assistant:
        yield assistant


class FakeChatModel:
    """A scripted chat model: each call takes the next script item (text to answer, or an exception to raise).

    Streams its text word by word. Records every message list it was sent.
    """

    name = "fake-chat"

    def __init__(self, *script: str | Exception) -> None:
        self.script = list(script)
        self.sent: list[list[dict[str, str]]] = []

    def _next(self, messages: list[dict[str, str]]) -> str:
        self.sent.append(messages)
        item = self.script.pop(0) if len(self.script) > 1 else self.script[0]
        if isinstance(item, Exception):
            raise item
        return item

    def complete(self, messages: list[dict[str, str]], max_tokens: int) -> object:
        from assistant.llm import Completion

        return Completion(self._next(messages), {"prompt_tokens": 11, "completion_tokens": 7})

    def stream(self, messages: list[dict[str, str]], max_tokens: int) -> Iterator[object]:
        from assistant.llm import Completion

        text = self._next(messages)
        yield from re.findall(r"\S+\s*", text)
        yield Completion(text, {})


class HashEmbedder:
    """The cheapest deterministic embedder, for scale tests: a vector from the text's hash (no similarity)."""

    name = "fake/hash-64"

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        rows = [np.frombuffer(hashlib.blake2b(t.encode(), digest_size=64).digest(), dtype=np.uint8) for t in texts]
        matrix = np.asarray(rows, dtype=np.float32).reshape(len(texts), 64) - 127.5
        return matrix / np.linalg.norm(matrix, axis=1, keepdims=True)

    def embed_query(self, text: str) -> np.ndarray:
        return self.embed_passages([text])[0]


@pytest.fixture
def busy() -> Iterator[None]:
    """Two CPU-bound processes beside the test, as on a machine doing other work (readers failed, and Ctrl-C waited, only under load)."""
    burners = [subprocess.Popen([sys.executable, "-c", "while True: pass"]) for _ in range(2)]
    yield
    for burner in burners:
        burner.kill()
        burner.wait()
