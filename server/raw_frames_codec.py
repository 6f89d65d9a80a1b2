"""Compress a raw readings frame (its JSON text, or a binary frame's bytes, as received) for
``reading_batches.payload``, and back.

New rows are Zstandard level 1: ≈ 27 µs for a 16 KB simulator frame against zlib level 1's ≈ 82 µs,
and smaller (ratio 4.25 against 3.70; ``benchmarks/raw_frame_codec.py``). Rows written before are
zlib. The payload says which it is by its first bytes, so no codec column is needed: a Zstandard
frame starts with the magic number 28 B5 2F FD, a zlib stream with the CMF byte 0x78 (deflate, 32 KB
window). Every reader of raw frames goes through ``decode_frame``.

A binary readings frame (MessagePack, ``server.realtime.readings_binary``) is stored byte for byte
the same way; ``decode_frame`` gives it back as ``bytes`` and a JSON frame as ``str``. The two
cannot be confused: a stored frame passed validation, so its first byte is a MessagePack map
marker (0x80-0x8f, 0xde, 0xdf) or the ``{`` (or whitespace) a JSON object starts with.

Since session 9 a row holds a visit's buffered frames together, a **segment**: ``SEGMENT_MAGIC``,
the number of frames (uint32), then per frame its ``t_first_ms``, ``t_last_ms`` (int64),
``n_readings`` and payload size (uint32), all little-endian, then the payloads, each the Zstandard
frame it was compressed to on arrival. The row's own times and count span its frames. One row
for ten frames: a frame's share of the tick's insert 13.5 → 7.6 µs of CPU on SQLite, 17.0 → 5.0 on
PostgreSQL (``benchmarks/tick_writes.py --segments``). Read a row of either form with
``stored_frames``.

``backports.zstd`` is Python 3.14's ``compression.zstd`` for older Pythons (same API); from 3.14
the standard library's is imported.
"""

from __future__ import annotations

import struct
import sys
import threading
import zlib
from collections.abc import Sequence
from dataclasses import dataclass

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

# Neither Zstandard's magic number nor a zlib stream's first byte.
SEGMENT_MAGIC = b"ACSG"
_SEGMENT_COUNT = struct.Struct("<I")
_SEGMENT_ENTRY = struct.Struct("<qqII")  # t_first_ms, t_last_ms, n_readings, payload size

# A MessagePack map's first byte: fixmap 0x80-0x8f, map16 0xde, map32 0xdf (never ``{`` nor JSON's
# whitespace).
MSGPACK_MAP_FIRST_BYTES = frozenset(range(0x80, 0x90)) | {0xDE, 0xDF}

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


def encode_frame(frame: str | bytes) -> bytes:
    """The frame (UTF-8 text, or a binary frame's bytes as they are) as one complete Zstandard
    frame (releases the GIL while it works)."""
    data = frame.encode("utf-8") if isinstance(frame, str) else frame
    return _compressor().compress(data, mode=zstd.ZstdCompressor.FLUSH_FRAME)


def decode_frame(payload: bytes) -> str | bytes:
    """The frame as received from a payload of either codec (Zstandard now, zlib before): the
    JSON text as ``str``, a binary frame as ``bytes`` (``is_binary_frame`` tells them apart)."""
    if payload[:4] == ZSTD_MAGIC:
        data = zstd.decompress(payload)
    elif payload[:1] == bytes([ZLIB_CMF]):
        data = zlib.decompress(payload)  # zlib rows predate binary frames: always JSON text
    else:
        raise UnknownRawFrameCodec(f"raw frame payload starts with {payload[:4].hex()}")
    return data if is_binary_frame(data) else data.decode("utf-8")


@dataclass(frozen=True, slots=True)
class StoredFrame:
    """One received frame as a ``reading_batches`` row keeps it."""

    t_first_ms: int
    t_last_ms: int
    n_readings: int
    frame: str | bytes  # as ``decode_frame`` gives it


def pack_segment(entries: Sequence[tuple[int, int, int, bytes]]) -> bytes:
    """One row's payload for frames given as (t_first_ms, t_last_ms, n_readings, payload), each
    payload an ``encode_frame`` result."""
    parts = [SEGMENT_MAGIC, _SEGMENT_COUNT.pack(len(entries))]
    parts += [_SEGMENT_ENTRY.pack(t0, t1, n, len(payload)) for t0, t1, n, payload in entries]
    parts += [payload for *_, payload in entries]
    return b"".join(parts)


def stored_frames(
    t_first_ms: int, t_last_ms: int, n_readings: int, payload: bytes
) -> list[StoredFrame]:
    """A ``reading_batches`` row's frames, in order: a segment's, or the row's one frame (rows
    written before session 9)."""
    if payload[:4] != SEGMENT_MAGIC:
        return [StoredFrame(t_first_ms, t_last_ms, n_readings, decode_frame(payload))]
    if len(payload) < 8:
        raise UnknownRawFrameCodec("raw frame segment cut short")
    (count,) = _SEGMENT_COUNT.unpack_from(payload, 4)
    start = 8 + count * _SEGMENT_ENTRY.size
    entries = [
        _SEGMENT_ENTRY.unpack_from(payload, 8 + k * _SEGMENT_ENTRY.size) for k in range(count)
    ]
    if start + sum(size for *_, size in entries) != len(payload):
        raise UnknownRawFrameCodec("raw frame segment whose sizes do not add up")
    frames = []
    for t0, t1, n, size in entries:
        frames.append(StoredFrame(t0, t1, n, decode_frame(payload[start : start + size])))
        start += size
    return frames


def is_binary_frame(data: bytes) -> bool:
    """True for a binary (MessagePack) readings frame, False for JSON text."""
    return bool(data) and data[0] in MSGPACK_MAP_FIRST_BYTES
