"""CPU per readings frame on the socket's path: decode and validate, arrays, answer encoding.

The frames are the simulator's, as in ``benchmarks/server_load.py``: ``DISTINCT_VISITS`` demo-store
visits sensed once (``simulator.live.load_cast`` in load mode), every window's ``readings`` frame
as JSON text. Each step runs over all the frames, the variants of a step interleaved round by
round so machine load hits them alike; the table gives the best round's process CPU per frame.

    python benchmarks/frame_path.py [--seconds 30] [--rounds 7]

Closing line: ``frame_path: before=XX.Xus after=XX.Xus ratio=X.XX`` — decode + validate +
``sensor_batch`` + one ``readings_ack`` and one ``position`` encoded, pydantic and ``json.dumps``
(before) against the msgspec readings path and encoder (after).
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
from server.realtime.frames import SHOPPER_FRAME, ReadingsBatch  # noqa: E402
from server.realtime.readings_wire import decode_shopper_frame  # noqa: E402
from simulator.live import load_cast  # noqa: E402
from simulator.wire import readings_frames  # noqa: E402

DISTINCT_VISITS = 8
SEED = 0
STOPS_PER_VISIT = 3
ACK = {"type": "readings_ack", "accepted": 268, "positioning": "server"}
POSITION = {"type": "position", "t_ms": 1795505354850, "x": 12.345678, "y": 3.14159,
            "heading_deg": 123.456, "accuracy_m": 2.5, "zone_id": "dairy"}  # fmt: skip
_JSON = msgspec.json.Encoder()


def phone_texts(seconds: float) -> list[str]:
    """Every readings frame of the visits, as the phones send it."""
    cast = load_cast("demo", DISTINCT_VISITS, SEED, STOPS_PER_VISIT,
                     distinct_visits=DISTINCT_VISITS, max_visit_s=seconds)  # fmt: skip
    return [json.dumps(f) for _, _, windows in cast.visits for _, rows in windows
            for f in readings_frames(rows)]  # fmt: skip


def json_answers(_text: str) -> list[str]:
    return [json.dumps(frame, separators=(",", ":")) for frame in (ACK, POSITION)]


def msgspec_answers(_text: str) -> list[str]:
    return [_JSON.encode(frame).decode() for frame in (ACK, POSITION)]


def arrays(decode: Callable[[str], Any]) -> Callable[[str], SensorBatch]:
    """Decode, then the tracker's arrays (as the tick does)."""

    def run(text: str) -> SensorBatch:
        batch = decode(text)
        assert isinstance(batch, ReadingsBatch)
        return sensor_batch(batch)

    return run


def both(*steps: Callable[[str], Any]) -> Callable[[str], list[Any]]:
    return lambda text: [step(text) for step in steps]


STEPS: dict[str, dict[str, Callable[[str], Any]]] = {
    "decode + validate": {"before": SHOPPER_FRAME.validate_json, "after": decode_shopper_frame},
    "decode + validate + sensor_batch": {
        "before": arrays(SHOPPER_FRAME.validate_json),
        "after": arrays(decode_shopper_frame),
    },
    "answers (ack + position)": {"before": json_answers, "after": msgspec_answers},
    "all of the above": {
        "before": both(arrays(SHOPPER_FRAME.validate_json), json_answers),
        "after": both(arrays(decode_shopper_frame), msgspec_answers),
    },
}


def cpu_per_frame(fn: Callable[[str], Any], texts: list[str]) -> float:
    start = time.process_time()
    for text in texts:
        fn(text)
    return (time.process_time() - start) / len(texts)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    texts = phone_texts(args.seconds)
    best: dict[tuple[str, str], float] = {}
    for _ in range(args.rounds):
        for step, variants in STEPS.items():
            for name, fn in variants.items():
                took = cpu_per_frame(fn, texts)
                best[step, name] = min(best.get((step, name), took), took)
    size_kb = sum(map(len, texts)) / len(texts) / 1000
    print(f"{len(texts)} frames, {size_kb:.1f} KB on average, best of {args.rounds} rounds")
    rows = [[step, f"{best[step, 'before'] * 1e6:.1f}", f"{best[step, 'after'] * 1e6:.1f}",
             f"{best[step, 'before'] / best[step, 'after']:.2f}"] for step in STEPS]  # fmt: skip
    print(format_table(["step", "before µs", "after µs", "ratio"], rows))
    before, after = best["all of the above", "before"], best["all of the above", "after"]
    print(f"frame_path: before={before * 1e6:.1f}us after={after * 1e6:.1f}us "
          f"ratio={before / after:.2f}")  # fmt: skip


if __name__ == "__main__":
    main()
