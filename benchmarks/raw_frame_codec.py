"""Raw readings frame codecs: CPU per frame and ratio on real simulator frames.

The frames are ``benchmarks/server_load.py``'s (``DISTINCT_VISITS`` demo-store visits sensed in
load mode, one ``readings`` frame a second as JSON text, ≈ 16 KB). Each codec compresses every
frame; the figure is process CPU per frame, best of ``--repeats`` passes, all codecs interleaved in
one process so machine load hits them alike. ``zstandard`` and ``lz4`` are measured when installed
(they are not project dependencies).

    python benchmarks/raw_frame_codec.py [--seconds 60] [--repeats 7]

Closing line: ``raw_frame_codec: zlib1_us=XX zstd1_us=XX speedup=X.XX ratio_zlib=X.XX
ratio_zstd=X.XX`` (the stored codec, ``server.raw_frames_codec``, against zlib level 1 before).
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
import time
import zlib
from collections.abc import Callable, Sequence
from pathlib import Path

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))  # benchmarks.server_load, from any working directory


from aislecast.bench import format_table  # noqa: E402
from benchmarks.server_load import simulated_cast, visit_frames  # noqa: E402
from server.raw_frames_codec import decode_frame, encode_frame, zstd  # noqa: E402
from simulator.live import wall_ms  # noqa: E402

# A frame's text in, its stored bytes out: every codec pays the UTF-8 encode, as the server does.
Codec = Callable[[str], bytes]


def on_text(compress: Callable[[bytes], bytes]) -> Codec:
    return lambda text: compress(text.encode("utf-8"))


def zstd_reused(level: int) -> Codec:
    compressor = zstd.ZstdCompressor(level=level)
    return on_text(lambda data: compressor.compress(data, mode=zstd.ZstdCompressor.FLUSH_FRAME))


def codecs() -> dict[str, Codec]:
    out: dict[str, Codec] = {
        "zlib 1 (before)": on_text(lambda data: zlib.compress(data, 1)),
        "stored: encode_frame (zstd 1)": encode_frame,
        "zstd 1, context per call": on_text(lambda data: zstd.compress(data, level=1)),
    }
    for level in (3, 1, -1, -3, -5, -10):
        out[f"zstd {level}, reused context"] = zstd_reused(level)
    # Not project dependencies (untyped): measured when installed.
    if importlib.util.find_spec("zstandard"):
        zstandard = importlib.import_module("zstandard")
        out["zstandard 1"] = on_text(zstandard.ZstdCompressor(level=1).compress)
    if importlib.util.find_spec("lz4"):
        out["lz4 frame"] = on_text(importlib.import_module("lz4.frame").compress)
        out["lz4 block"] = on_text(importlib.import_module("lz4.block").compress)
    return out


def cpu_us_per_frame(codec: Codec, frames: Sequence[str]) -> float:
    start = time.process_time()
    for frame in frames:
        codec(frame)
    return (time.process_time() - start) / len(frames) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=60.0, help="of each simulated visit")
    parser.add_argument("--repeats", type=int, default=7)
    args = parser.parse_args()
    texts = [
        t
        for visit in visit_frames(simulated_cast(args.seconds), False, wall_ms())
        for t in visit
        if isinstance(t, str)  # JSON text frames (binary=False: all of them)
    ]
    frames = texts
    assert all(decode_frame(encode_frame(t)) == t for t in texts[:20])
    table = codecs()
    best = dict.fromkeys(table, float("inf"))
    for _ in range(args.repeats):
        for name, codec in table.items():
            best[name] = min(best[name], cpu_us_per_frame(codec, frames))
    raw = sum(len(t.encode("utf-8")) for t in frames)
    ratio = {name: raw / sum(len(codec(f)) for f in frames) for name, codec in table.items()}
    zlib_us, zstd_us = best["zlib 1 (before)"], best["stored: encode_frame (zstd 1)"]
    print(f"{len(frames)} frames, {raw / len(frames) / 1000:.1f} KB on average")
    print(format_table(["codec", "µs/frame", "ratio", "× cheaper than zlib 1"],
                       [[n, f"{best[n]:.1f}", f"{ratio[n]:.2f}", f"{zlib_us / best[n]:.2f}"]
                        for n in table]))  # fmt: skip
    print(f"raw_frame_codec: zlib1_us={zlib_us:.0f} zstd1_us={zstd_us:.0f} "
          f"speedup={zlib_us / zstd_us:.2f} ratio_zlib={ratio['zlib 1 (before)']:.2f} "
          f"ratio_zstd={ratio['stored: encode_frame (zstd 1)']:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
