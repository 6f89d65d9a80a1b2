"""CPU per readings frame on the socket's path: decode and validate, arrays, answer encoding.

The frames are the simulator's, as in ``benchmarks/server_load.py``: ``DISTINCT_VISITS`` demo-store
visits sensed once (``simulator.live.load_cast`` in load mode), every window's ``readings`` frame
as JSON text, and the same frames as binary frames (``simulator.wire.binary_readings_frame``).
Each step runs over all the frames, the variants of a step interleaved round by round so machine
load hits them alike; the table gives the best round's process CPU per frame.

    python benchmarks/frame_path.py [--seconds 30] [--rounds 7]

Closing lines: ``frame_path: before=XX.Xus after=XX.Xus ratio=X.XX`` — decode + validate +
``sensor_batch`` + one ``readings_ack`` and one ``position`` encoded, pydantic and ``json.dumps``
(before) against the msgspec readings path and encoder (after); and ``frame_path-bin: json=XX.Xus
binary=XX.Xus ratio=X.XX`` — the event loop's share (size check, decode + validate, answers) of a
JSON text frame (the msgspec path) against the binary frame of the same readings.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

import msgspec  # noqa: E402

from aislecast.bench import format_table  # noqa: E402
from positioning.batch_input import SensorBatch  # noqa: E402
from server.batch_tracking import sensor_batch  # noqa: E402
from server.raw_frames_codec import encode_frame  # noqa: E402
from server.realtime.frames import SHOPPER_FRAME, ReadingsBatch  # noqa: E402
from server.realtime.readings_binary import decode_binary_readings  # noqa: E402
from server.realtime.readings_wire import decode_shopper_frame  # noqa: E402
from simulator.live import load_cast  # noqa: E402
from simulator.wire import binary_readings_frame, readings_frames  # noqa: E402

DISTINCT_VISITS = 8
SEED = 0
STOPS_PER_VISIT = 3
ACK = {"type": "readings_ack", "accepted": 268, "positioning": "server"}
POSITION = {"type": "position", "t_ms": 1795505354850, "x": 12.345678, "y": 3.14159,
            "heading_deg": 123.456, "accuracy_m": 2.5, "zone_id": "dairy"}  # fmt: skip
_JSON = msgspec.json.Encoder()


def phone_frames(seconds: float) -> list[dict[str, Any]]:
    """Every readings frame of the visits, as the phones build them."""
    cast = load_cast("demo", DISTINCT_VISITS, SEED, STOPS_PER_VISIT,
                     distinct_visits=DISTINCT_VISITS, max_visit_s=seconds)  # fmt: skip
    return [f for _, _, windows in cast.visits for _, rows in windows
            for f in readings_frames(rows)]  # fmt: skip


def json_answers(_frame: Any) -> list[str]:
    return [json.dumps(frame, separators=(",", ":")) for frame in (ACK, POSITION)]


def msgspec_answers(_frame: Any) -> list[str]:
    return [_JSON.encode(frame).decode() for frame in (ACK, POSITION)]


def size_of_text(text: str) -> int:
    """``FramedSocket._check``'s size check of a text frame (its UTF-8 length)."""
    return len(text.encode("utf-8"))


def arrays(decode: Callable[[Any], Any]) -> Callable[[Any], SensorBatch]:
    """Decode, then the tracker's arrays (as the tick does)."""

    def run(frame: Any) -> SensorBatch:
        batch = decode(frame)
        assert isinstance(batch, ReadingsBatch)
        return sensor_batch(batch)

    return run


def both(*steps: Callable[[Any], Any]) -> Callable[[Any], list[Any]]:
    return lambda frame: [step(frame) for step in steps]


# step → variant → (function, which frames it takes: "text" or "binary")
Variant = tuple[Callable[[Any], Any], str]
STEPS: dict[str, dict[str, Variant]] = {
    "size check": {"after": (size_of_text, "text"), "binary": (len, "binary")},
    "decode + validate": {
        "before": (SHOPPER_FRAME.validate_json, "text"),
        "after": (decode_shopper_frame, "text"),
        "binary": (decode_binary_readings, "binary"),
    },
    "decode + validate + sensor_batch": {
        "before": (arrays(SHOPPER_FRAME.validate_json), "text"),
        "after": (arrays(decode_shopper_frame), "text"),
        "binary": (arrays(decode_binary_readings), "binary"),
    },
    "answers (ack + position)": {
        "before": (json_answers, "text"),
        "after": (msgspec_answers, "text"),
        "binary": (msgspec_answers, "binary"),
    },
    "all of the above": {
        "before": (both(arrays(SHOPPER_FRAME.validate_json), json_answers), "text"),
        "after": (both(arrays(decode_shopper_frame), msgspec_answers), "text"),
        "binary": (both(arrays(decode_binary_readings), msgspec_answers), "binary"),
    },
    "event loop (size + decode + answers)": {
        "after": (both(size_of_text, decode_shopper_frame, msgspec_answers), "text"),
        "binary": (both(len, decode_binary_readings, msgspec_answers), "binary"),
    },
    "raw frame: Zstandard (own thread)": {
        "after": (encode_frame, "text"),
        "binary": (encode_frame, "binary"),
    },
}


def cpu_per_frame(fn: Callable[[Any], Any], frames: list[Any]) -> float:
    start = time.process_time()
    for frame in frames:
        fn(frame)
    return (time.process_time() - start) / len(frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    frames = phone_frames(args.seconds)
    inputs: dict[str, list[Any]] = {"text": [json.dumps(f) for f in frames],
              "binary": [binary_readings_frame(f) for f in frames]}  # fmt: skip
    best: dict[tuple[str, str], float] = {}
    for _ in range(args.rounds):
        for step, variants in STEPS.items():
            for name, (fn, kind) in variants.items():
                took = cpu_per_frame(fn, inputs[kind])
                best[step, name] = min(best.get((step, name), took), took)
    sizes = {kind: sum(map(len, items)) / len(items) / 1000 for kind, items in inputs.items()}
    stored = {kind: sum(len(encode_frame(x)) for x in items) / len(items) / 1000
              for kind, items in inputs.items()}  # fmt: skip
    print(f"{len(frames)} frames, best of {args.rounds} rounds; on average {sizes['text']:.1f} KB "
          f"of JSON text ({stored['text']:.1f} KB stored) against a {sizes['binary']:.1f} KB "
          f"binary frame ({stored['binary']:.1f} KB stored)")  # fmt: skip

    def cell(step: str, name: str) -> str:
        return f"{best[step, name] * 1e6:.1f}" if (step, name) in best else "–"

    def ratio(step: str, a: str, b: str) -> str:
        return f"{best[step, a] / best[step, b]:.2f}" if (step, a) in best else "–"

    rows = [[step, cell(step, "before"), cell(step, "after"), cell(step, "binary"),
             ratio(step, "before", "after"), ratio(step, "after", "binary")]
            for step in STEPS]  # fmt: skip
    print(format_table(["step", "before µs", "after (JSON) µs", "binary µs", "before/after",
                        "JSON/binary"], rows))  # fmt: skip
    before, after = best["all of the above", "before"], best["all of the above", "after"]
    print(f"frame_path: before={before * 1e6:.1f}us after={after * 1e6:.1f}us "
          f"ratio={before / after:.2f}")  # fmt: skip
    loop = "event loop (size + decode + answers)"
    text_us, binary_us = best[loop, "after"], best[loop, "binary"]
    print(f"frame_path-bin: json={text_us * 1e6:.1f}us binary={binary_us * 1e6:.1f}us "
          f"ratio={text_us / binary_us:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
