"""Property tests: no flapping for a still shopper, well-formed sequences, batch == loop."""

from __future__ import annotations

import itertools
import math
from typing import Any

import numpy as np
import shapely
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from positioning import Estimate
from zones import Zone, ZoneEventDetector, ZoneSettings

from .helpers import assert_well_formed, box_zone, kinds, run_loop

DEFAULTS = ZoneSettings()
T0 = 1_700_000_000_000


def _noise_in_disk(
    rng: np.random.Generator, radius: float, n: int
) -> tuple[np.ndarray, np.ndarray]:
    """Points uniformly inside a disk of ``radius`` (the properties need bounded noise)."""
    r = radius * np.sqrt(rng.uniform(0, 1, n))
    a = rng.uniform(0, 2 * np.pi, n)
    return r * np.cos(a), r * np.sin(a)


def _still_rows(
    seed: int, x: float, y: float, noise_m: float, n: int, max_accuracy: float
) -> list[tuple[str, Estimate]]:
    rng = np.random.default_rng(seed)
    dx, dy = _noise_in_disk(rng, noise_m, n)
    t = T0 + np.cumsum(rng.integers(100, 3000, n))
    accuracy = rng.uniform(0.1, max_accuracy, n)
    heading = rng.uniform(0, 360, n)
    return [
        ("sam", Estimate(int(t[k]), x + dx[k], y + dy[k], float(heading[k]), float(accuracy[k])))
        for k in range(n)
    ]


def _columns(rows: list[tuple[str, Estimate]]) -> tuple[list[Any], ...]:
    """Rows as the batch form's columns: shopper ids, t_ms, x, y, heading_deg, accuracy_m."""
    fields = ("t_ms", "x", "y", "heading_deg", "accuracy_m")
    return ([s for s, _ in rows], *([getattr(e, f) for _, e in rows] for f in fields))


def _loop_and_batch_agree(zones: list[Zone], rows: list[tuple[str, Estimate]]) -> None:
    loop = run_loop(ZoneEventDetector(zones), rows)
    assert ZoneEventDetector(zones).update_batch(*_columns(rows)) == loop


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    width=st.floats(2.0, 8.0),
    height=st.floats(2.0, 8.0),
    noise_m=st.floats(0.0, 0.9),
    n=st.integers(2, 60),
    where=st.tuples(st.floats(0, 1), st.floats(0, 1)),
)
def test_a_still_shopper_inside_enters_once_and_never_flaps(
    seed: int, width: float, height: float, noise_m: float, n: int, where: tuple[float, float]
) -> None:
    # Keep the whole noise disk at least enter_margin_m deep inside.
    keep_in = DEFAULTS.enter_margin_m + noise_m + 0.01
    assume(width > 2 * keep_in and height > 2 * keep_in)
    x = keep_in + where[0] * (width - 2 * keep_in)
    y = keep_in + where[1] * (height - 2 * keep_in)
    zone = box_zone("z", 0, 0, width, height)
    rows = _still_rows(seed, x, y, noise_m, n, max_accuracy=0.95 * min(width, height))
    events = run_loop(ZoneEventDetector([zone]), rows)
    membership = [k for k in kinds(events) if k in ("enter", "exit")]
    lasted = rows[-1][1].t_ms - rows[0][1].t_ms >= DEFAULTS.enter_confirm_ms
    assert membership == (["enter"] if lasted else [])
    _loop_and_batch_agree([zone], rows)


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    outside_m=st.floats(0.0, 3.0),
    noise_share=st.floats(0.0, 0.99),
    n=st.integers(2, 60),
    accuracy=st.floats(0.1, 12.0),
)
def test_a_still_shopper_just_outside_never_enters(
    seed: int, outside_m: float, noise_share: float, n: int, accuracy: float
) -> None:
    # Noise smaller than (distance outside + enter margin) can never put an estimate deep inside.
    noise_m = noise_share * (outside_m + DEFAULTS.enter_margin_m)
    zone = box_zone("z", 0, 0, 4, 4)
    rows = _still_rows(seed, 4 + outside_m, 2.0, noise_m, n, max_accuracy=accuracy)
    assert [e for e in run_loop(ZoneEventDetector([zone]), rows) if e.kind != "facing"] == []


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    edge_m=st.floats(-1.0, 1.5),
    noise_share=st.floats(0.0, 0.99),
    n=st.integers(2, 60),
)
def test_a_shopper_who_entered_and_stands_in_the_hysteresis_band_never_exits(
    seed: int, edge_m: float, noise_share: float, n: int
) -> None:
    # edge_m: metres outside the polygon (negative: inside). Noise stays within the exit margin.
    noise_m = noise_share * max(DEFAULTS.exit_margin_m - max(edge_m, 0.0), 0.0)
    zone = box_zone("z", 0, 0, 4, 4)
    settle = _still_rows(seed, 2.0, 2.0, 0.0, 5, max_accuracy=1.0)
    start = settle[-1][1].t_ms
    band = [
        (s, Estimate(e.t_ms - T0 + start, e.x, e.y, e.heading_deg, e.accuracy_m))
        for s, e in _still_rows(seed + 1, 4 + edge_m, 2.0, noise_m, n, max_accuracy=1.5)
    ]
    events = run_loop(ZoneEventDetector([zone]), settle + band)
    assert [k for k in kinds(events) if k in ("enter", "exit")] == ["enter"]


def _zones(rng: np.random.Generator, n: int) -> list[Zone]:
    zones = []
    for i in range(n):
        cx, cy = rng.uniform(0, 30, 2)
        # Some shelves thinner than twice the enter margin: facing-only zones.
        w, h = rng.uniform(1.2, 6), rng.choice([rng.uniform(1.2, 6), rng.uniform(0.3, 0.9)])
        facing = int(rng.integers(3)) if h >= 1.0 else 1
        fields: dict[str, object] = {}
        if facing == 1:
            fields = {"facing_edge": int(rng.integers(4)), "view_distance_m": 2.5}
        elif facing == 2:
            fields = {"view_distance_m": 2.0}
        zones.append(box_zone(f"z{i}", cx - w / 2, cy - h / 2, cx + w / 2, cy + h / 2, **fields))
    return zones


def _random_walks(
    rng: np.random.Generator, n_shoppers: int, n: int, shuffle_share: float
) -> list[tuple[str, Estimate]]:
    shopper = rng.integers(n_shoppers, size=n)
    position = rng.uniform(0, 30, (n_shoppers, 2))
    clock = np.full(n_shoppers, T0, dtype=np.int64)
    rows: list[tuple[str, Estimate]] = []
    for k in range(n):
        s = int(shopper[k])
        position[s] += rng.normal(0, 1.0, 2)
        clock[s] += int(rng.integers(0, 2500))
        t = int(clock[s])
        if rng.random() < shuffle_share:
            t -= int(rng.integers(0, 8000))  # late or out of order
        accuracy = float(
            rng.choice([rng.uniform(0.1, 4), rng.uniform(4, 20), math.nan], p=[0.8, 0.17, 0.03])
        )
        heading = float(rng.uniform(0, 360)) if rng.random() > 0.05 else math.nan
        x, y = (
            float(position[s, 0] + rng.normal(0, 0.5)),
            float(position[s, 1] + rng.normal(0, 0.5)),
        )
        rows.append((f"s{s}", Estimate(t, x, y, heading, accuracy)))
    return rows


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    n_shoppers=st.integers(1, 6),
    n=st.integers(1, 400),
    shuffle_share=st.sampled_from([0.0, 0.05, 0.3]),
    splits=st.lists(st.integers(0, 400), max_size=4),
    store_outline=st.booleans(),
)
def test_random_walks_give_well_formed_sequences_and_batch_equals_loop(
    seed: int, n_shoppers: int, n: int, shuffle_share: float, splits: list[int], store_outline: bool
) -> None:
    rng = np.random.default_rng(seed)
    zones = _zones(rng, 12)
    rows = _random_walks(rng, n_shoppers, n, shuffle_share)
    # With the outline, walks that wander off the 30 m x 30 m floor end their visits themselves.
    outline = shapely.box(0, 0, 30, 30) if store_outline else None
    settings = ZoneSettings(leave_grace_ms=3_000)
    loop_detector = ZoneEventDetector(zones, settings, outline)
    loop = run_loop(loop_detector, rows)
    batch_detector = ZoneEventDetector(zones, settings, outline)
    batch = []
    cuts = [0, *sorted(min(c, n) for c in splits), n]
    for k, (a, b) in enumerate(itertools.pairwise(cuts)):
        # Alternate the forms on the same detector: they share its state.
        if k % 2:
            batch += run_loop(batch_detector, rows[a:b])
        else:
            batch += batch_detector.update_batch(*_columns(rows[a:b]))
    assert batch == loop
    assert batch_detector.shoppers == loop_detector.shoppers
    assert batch_detector.late_estimates == loop_detector.late_estimates
    ends = [e for s in sorted(loop_detector.shoppers) for e in loop_detector.end_visit(s, T0)]
    assert_well_formed(loop + ends)
