"""CPU per binary readings frame on the event loop, session 4's code against session 5's.

The frames are the simulator's binary frames, as ``benchmarks/server_load.py`` sends them
(``DISTINCT_VISITS`` demo-store visits sensed once, ``simulator.wire.binary_readings_frame``).
Steps, each before (session 4) and after (session 5), interleaved round by round in one process so
machine load hits both alike; the table gives the best round's process CPU per frame:

- decode + validate: session 4's bulk checks (frozen in ``tests/server/readings_binary_session4``)
  against ``server.realtime.readings_binary`` now;
- answers: a ``readings_ack`` and a ``position`` built and encoded (two frames) against the
  ``position`` carrying ``accepted`` (hello ``answers: position``: one frame). What sending the
  second frame costs uvicorn and the kernel is ``benchmarks/answer_sends.py``'s ``extra_frame``;
- live feed, nobody watching: the live ``position`` built and handed to the in-process bus (which
  drops it) against ``DeliveryBus.watched`` saying nobody would get it.

Session 6 (a tick's binary frames checked together, ``server.tick_readings``): the frame's path
up to the batched push, one by one (session 5: ``decode_binary_readings`` on the event loop, then
``sensor_batch`` in the tick) against deferred (``decode_binary_deferred`` on the loop: MessagePack
and lengths; ``checked_columns`` in the tick: the numbers of all the tick's frames and the
tracker's arrays — since session 8 the tick's joined ``TickColumns``, before it ``checked_together``
and a ``SensorBatch`` a frame), per frame, on the loop and in the tick, for ticks of ``--ticks``
frames.

    python benchmarks/binary_path.py [--seconds 30] [--rounds 9] [--ticks 1 50 500]

Closing line: ``binary_path: before=XX.Xus after=XX.Xus ratio=X.XX`` (session 4 against 5, the
three steps together) then, per tick size N, ``tickN=B/A`` (session 5 against 6: loop + tick µs a
frame).
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]
sys.path.insert(0, str(_HERE.parent))  # the frozen session-4 decoder lives in tests/

import msgspec  # noqa: E402

from aislecast.bench import format_table  # noqa: E402
from server.realtime.bus import DeliveryBus, live_channel  # noqa: E402
from server.realtime.readings_binary import (  # noqa: E402
    decode_binary_deferred,
    decode_binary_readings,
)
from server.tick_readings import checked_columns, sensor_batch  # noqa: E402
from simulator.live import load_cast  # noqa: E402
from simulator.wire import binary_readings_frame, readings_frames  # noqa: E402
from tests.server import readings_binary_session4 as session4  # noqa: E402

DISTINCT_VISITS = 8
SEED = 0
STOPS_PER_VISIT = 3
POSITION = {"type": "position", "t_ms": 1795505354850, "x": 12.345678, "y": 3.14159,
            "heading_deg": 123.456, "accuracy_m": 2.5, "zone_id": "dairy"}  # fmt: skip
_JSON = msgspec.json.Encoder()
BUS = DeliveryBus()
STORE_ID = 1


def two_answers(_data: bytes) -> list[bytes]:
    ack = {"type": "readings_ack", "accepted": 268, "positioning": "server"}
    return [_JSON.encode(ack), _JSON.encode(dict(POSITION))]


def one_answer(_data: bytes) -> list[bytes]:
    return [_JSON.encode({**POSITION, "accepted": 268, "positioning": "server"})]


def live_always(_data: bytes) -> None:
    BUS.publish_soon(live_channel(STORE_ID), {**POSITION, "shopper": "ab12", "floor_id": 3})


def live_if_watched(_data: bytes) -> None:
    if BUS.watched(live_channel(STORE_ID)):
        BUS.publish_soon(live_channel(STORE_ID), {**POSITION, "shopper": "ab12", "floor_id": 3})


def both(*steps: Callable[[bytes], Any]) -> Callable[[bytes], list[Any]]:
    return lambda data: [step(data) for step in steps]


STEPS: dict[str, dict[str, Callable[[bytes], Any]]] = {
    "decode + validate": {
        "before": session4.decode_binary_readings,
        "after": decode_binary_readings,
    },
    "answers built and encoded": {"before": two_answers, "after": one_answer},
    "live feed, nobody watching": {"before": live_always, "after": live_if_watched},
    "all of the above": {
        "before": both(session4.decode_binary_readings, two_answers, live_always),
        "after": both(decode_binary_readings, one_answer, live_if_watched),
    },
}


def cpu_per_frame(fn: Callable[[bytes], Any], frames: list[bytes]) -> float:
    start = time.process_time()
    for data in frames:
        fn(data)
    return (time.process_time() - start) / len(frames)


def loop_then_tick(
    frames: list[bytes], ticks: list[int], rounds: int
) -> dict[tuple[str, str, int], float]:
    """Best CPU µs a frame of each part ("loop", "tick") of each path ("one by one", "deferred")
    for each tick size; the tick part of a path runs over the objects its loop part made."""
    loop: dict[str, Callable[[bytes], Any]] = {
        "one by one": decode_binary_readings,
        "deferred": decode_binary_deferred,
    }
    tick: dict[str, Callable[[list[Any]], Any]] = {
        "one by one": lambda batches: [sensor_batch(b) for b in batches],
        "deferred": checked_columns,  # (since session 8: the tick's joined columns, no batches)
    }
    best: dict[tuple[str, str, int], float] = {}
    for _ in range(rounds):
        for path in loop:
            start = time.process_time()
            decoded = [loop[path](data) for data in frames]
            took = (time.process_time() - start) / len(frames)
            for n in ticks:
                best[path, "loop", n] = min(best.get((path, "loop", n), took), took)
                chunks = [decoded[i : i + n] for i in range(0, len(decoded) - n + 1, n)]
                start = time.process_time()
                for chunk in chunks:
                    tick[path](chunk)
                took_tick = (time.process_time() - start) / (len(chunks) * n)
                best[path, "tick", n] = min(best.get((path, "tick", n), took_tick), took_tick)
    return best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--rounds", type=int, default=9)
    parser.add_argument("--ticks", type=int, nargs="+", default=[1, 50, 500])
    args = parser.parse_args()
    cast = load_cast("demo", DISTINCT_VISITS, SEED, STOPS_PER_VISIT,
                     distinct_visits=DISTINCT_VISITS, max_visit_s=args.seconds)  # fmt: skip
    frames = [binary_readings_frame(f) for _, _, windows in cast.visits for _, rows in windows
              for f in readings_frames(rows)]  # fmt: skip
    best: dict[tuple[str, str], float] = {}
    for _ in range(args.rounds):
        for step, variants in STEPS.items():
            for name, fn in variants.items():
                took = cpu_per_frame(fn, frames)
                best[step, name] = min(best.get((step, name), took), took)
    print(f"{len(frames)} binary frames ({sum(map(len, frames)) / len(frames) / 1000:.1f} KB "
          f"on average), best of {args.rounds} rounds")  # fmt: skip
    rows = [[step, f"{best[step, 'before'] * 1e6:.1f}", f"{best[step, 'after'] * 1e6:.1f}",
             f"{best[step, 'before'] / best[step, 'after']:.2f}"] for step in STEPS]  # fmt: skip
    print(format_table(["step", "session 4 µs", "session 5 µs", "before/after"], rows))
    before, after = best["all of the above", "before"], best["all of the above", "after"]
    # Session 6: enough frames for two ticks of the largest size, the visits' frames repeated.
    many = [frames[i % len(frames)] for i in range(max(2 * max(args.ticks), len(frames)))]
    parts = loop_then_tick(many, args.ticks, args.rounds)
    rows, sums = [], []
    for n in args.ticks:
        cells = [parts[path, part, n] * 1e6 for path in ("one by one", "deferred")
                 for part in ("loop", "tick")]  # fmt: skip
        was, now = cells[0] + cells[1], cells[2] + cells[3]
        sums.append(f"tick{n}={was:.1f}/{now:.1f}us")
        rows.append([str(n), *(f"{c:.1f}" for c in cells), f"{was:.1f}", f"{now:.1f}",
                     f"{was / now:.2f}"])  # fmt: skip
    print(f"session 6: {len(many)} frames, a frame's µs up to the batched push (best of "
          f"{args.rounds} rounds)")  # fmt: skip
    print(format_table(["frames a tick", "s5 loop", "s5 tick", "s6 loop", "s6 tick", "s5 µs",
                        "s6 µs", "s5/s6"], rows))  # fmt: skip
    print(f"binary_path: before={before * 1e6:.1f}us after={after * 1e6:.1f}us "
          f"ratio={before / after:.2f} " + " ".join(sums))  # fmt: skip


if __name__ == "__main__":
    main()
