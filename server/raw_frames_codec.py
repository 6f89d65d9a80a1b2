"""Compress a raw readings frame (its JSON text as received) for ``reading_batches.payload``, and
back.

New rows are Zstandard level 1: ≈ 27 µs for a 16 KB simulator frame against zlib level 1's ≈ 82 µs,
and smaller (ratio 4.25 against 3.70; ``benchmarks/raw_frame_codec.py``). Rows written before are
zlib. The payload says which it is by its first bytes, so no codec column is needed: a Zstandard
frame starts with the magic number 28 B5 2F FD, a zlib stream with the CMF byte 0x78 (deflate, 32 KB
window). Every reader of raw frames goes through ``decode_frame``.

``backports.zstd`` is Python 3.14's ``compression.zstd`` for older Pythons (same API); from 3.14
the standard library's is imported.
"""

from __future__ import annotations

import sys
import threading
import zlib

if sys.version_info >= (3, 14):
    from compression import zstd
else:
    from backports import zstd

# Level 1 is zstd's fastest positive level: negative levels save 4-10 µs more at a ratio of 2.9 and
# below (docs/server.md, "Round 2: storage").
RAW_FRAME_ZSTD_LEVEL = 1
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
# zlib's CMF byte: compression method 8 (deflate), window 2^(7+8) = 32 KB, as zlib.compress writes.
ZLIB_CMF = 0x78

# A compressor per thread, reused: a fresh context per frame costs ≈ 8 µs more, and one context
# shared by the compressor thread and a flushing thread would make one wait on the other's lock.
_local = threading.local()


class UnknownRawFrameCodec(ValueError):
    """A payload that is neither Zstandard nor zlib."""


def _compressor() -> zstd.ZstdCompressor:
    compressor: zstd.ZstdCompressor | None = getattr(_local, "compressor", None)
    if compressor is None:
        compressor = _local.compressor = zstd.ZstdCompressor(level=RAW_FRAME_ZSTD_LEVEL)
    return compressor


def encode_frame(text: str) -> bytes:
    """The frame's UTF-8 text as one complete Zstandard frame (releases the GIL while it works)."""
    return _compressor().compress(text.encode("utf-8"), mode=zstd.ZstdCompressor.FLUSH_FRAME)


def decode_frame(payload: bytes) -> str:
    """The frame's JSON text from a payload of either codec (Zstandard now, zlib before)."""
    if payload[:4] == ZSTD_MAGIC:
        return zstd.decompress(payload).decode("utf-8")
    if payload[:1] == bytes([ZLIB_CMF]):
        return zlib.decompress(payload).decode("utf-8")
    raise UnknownRawFrameCodec(f"raw frame payload starts with {payload[:4].hex()}")
