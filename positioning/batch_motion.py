"""``StepDetector`` and ``HeadingFilter`` for many shoppers at once, one row per shopper.

Each shopper's accelerometer, gyroscope and rotation-vector samples arrive as flat arrays (all
rows' samples, row by row, each row's in time order: ``MotionSamples``). ``run`` gives the same
steps and headings as the per-shopper objects fed the merged samples one by one — ties in the
order accelerometer, gyroscope, rotation vector, as ``Tracker``'s ``heapq.merge`` gives them — with
the per-row state (filtered |a|, hysteresis, last step; heading, variance, last rotation vector)
carried from one batch to the next (``tests/positioning/test_batch_motion.py``). The equations are
the per-shopper modules' (``positioning.steps``, ``positioning.heading``); only the order of work
differs, so that a second of 50 Hz samples costs a few dozen numpy calls, not a few per sample:

- step detector: the low-pass y ← y + α(x − y) is a linear IIR, run over every row's samples at
  once (``scipy.signal.lfilter``, each row's y carried in its initial condition). The hysteresis
  is a two-state machine whose state after a sample is the label of the latest sample above
  ``PEAK_THRESHOLD`` (armed) or below ``VALLEY_THRESHOLD`` (disarmed): a forward fill. Arming and
  falling events are where that state changes; the peak and valley of each step are segment
  maxima and minima between events (``ufunc.reduceat``); only the minimum step spacing is
  sequential, a round per step of a row (≈ 2 a second).
- heading filter: a gyroscope predict is ψ ← ψ + ω·dt, P ← P + q·dt, so between two rotation
  vectors it adds a sum of increments (a cumulative sum per row); ω uses the latest rotation
  vector before the gyroscope sample, known from the merged order (``searchsorted``). Only the
  gated rotation-vector updates are sequential: a round per rotation vector (50 a second), each
  a handful of numpy calls across the rows that have one.

Each sensor drops samples older than that sensor's latest (a batch from the past), as ``Tracker``
does; within a batch each series is in time order (``SensorBatch``, the server validates it).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray
from scipy.signal import lfilter

from positioning.heading import (
    GYRO_HEADING_VAR_PER_S,
    HEADING_GATE_SIGMA,
    HEADING_MAX_REJECTS,
    ROTVEC_HEADING_VAR,
)
from positioning.steps import (
    GRAVITY,
    LOWPASS_ALPHA,
    MIN_STEP_INTERVAL_MS,
    PEAK_THRESHOLD,
    VALLEY_THRESHOLD,
)

Array = NDArray[np.float64]
IntArray = NDArray[np.int64]
Mask = NDArray[np.bool_]

# "No time yet" for the per-row last-sample times.
NEVER = np.iinfo(np.int64).min
# y[n] = α·x[n] + (1 − α)·y[n−1]: the step detector's low-pass as lfilter's (b, a).
_LOWPASS_B = np.array([LOWPASS_ALPHA])
_LOWPASS_A = np.array([1.0, -(1.0 - LOWPASS_ALPHA)])
# Merge keys: (row, ms since the batch's first sample); 2⁴⁰ ms is 34 years, 2²³ rows are plenty.
_ROW_SHIFT = 40
_TWO_PI = 2.0 * np.pi


@dataclass
class SensorSamples:
    """One sensor's samples for some rows: ``row`` (n,) non-decreasing (index into the batch's
    rows), ``t_ms`` (n,) in time order within a row, ``xyz`` (n, 3)."""

    row: IntArray
    t_ms: IntArray
    xyz: Array

    def __len__(self) -> int:
        return len(self.row)

    def newer(self, last_ms: IntArray) -> SensorSamples:
        """The samples not older than their row's ``last_ms`` (a batch from the past drops)."""
        keep = self.t_ms >= last_ms[self.row]
        if keep.all():
            return self
        return SensorSamples(self.row[keep], self.t_ms[keep], self.xyz[keep])


@dataclass
class MotionSamples:
    """One batch of motion samples; ``rows`` are the state rows they belong to."""

    rows: IntArray
    accel: SensorSamples
    gyro: SensorSamples
    rotation: SensorSamples


@dataclass
class MotionSteps:
    """Steps found in a ``MotionSamples``, by row (index into its ``rows``) then time, with the
    Weinberg feature and the heading at that instant (NaN: no heading yet)."""

    row: IntArray
    t_ms: IntArray
    feature: Array
    heading_rad: Array


def _wrap(angle: Array) -> Array:
    """Angle in [−π, π): ``heading.wrap_rad`` up to rounding and the ±π edge, without trig.
    a − 2π·⌊(a + π)/2π⌋: a third of ``np.remainder``'s cost (which fixes up signs per element)."""
    return np.asarray(angle - _TWO_PI * np.floor((angle + np.pi) * (1.0 / _TWO_PI)))


@dataclass
class _Layout:
    """Where each row's samples of one sensor sit in its flat arrays: ``start`` (rows,) and
    ``count`` (rows,); ``position`` (n,) of each sample within its row; ``width`` the longest
    row and ``cell`` (n,) each sample's index in a flattened (rows, width) array."""

    start: IntArray
    count: IntArray
    position: IntArray
    width: int
    cell: IntArray

    @classmethod
    def of(cls, row: IntArray, rows: int) -> _Layout:
        count = np.bincount(row, minlength=rows).astype(np.int64)
        start = np.cumsum(count) - count
        position = np.arange(len(row)) - start[row]
        width = int(count.max(initial=0))
        # Flat indices (one ``take``/``put`` each) rather than (row, position) pairs: numpy's
        # two-array fancy indexing costs about twice as much per sample.
        return cls(start, count, position, width, row * width + position)

    def padded(self, values: Array, fill: float = 0.0) -> Array:
        """(rows, longest row) with each row's values from column 0 on."""
        out = np.full(len(self.count) * self.width, fill)
        out[self.cell] = values
        return out.reshape(len(self.count), self.width)


def _pick(values: np.ndarray, index: IntArray, use: Mask, otherwise: np.ndarray) -> np.ndarray:
    """``values[index]`` where ``use``, else ``otherwise`` (``index`` is ignored where not)."""
    if len(values) == 0:
        return np.asarray(otherwise).copy()
    return np.where(use, values[np.where(use, index, 0)], otherwise)


def _counts_before(layout: _Layout, keys: IntArray, at: IntArray, at_row: IntArray,
                   inclusive: bool) -> IntArray:  # fmt: skip
    """Per query key, how many of its row's samples come before it in the merged order
    (``inclusive``: also those at the same time)."""
    found = np.searchsorted(keys, at, side="right" if inclusive else "left")
    return np.asarray(found, dtype=np.int64) - layout.start[at_row]


class BatchMotion:
    """Per-row step-detector and heading-filter state; ``run`` feeds one batch of samples."""

    def __init__(self, rows: int = 0) -> None:
        self._fields: dict[str, np.ndarray] = {}
        self._defaults = {
            # StepDetector
            "filtered": np.nan,
            "armed": False,
            "peak": -np.inf,
            "valley": np.inf,
            "last_step_ms": NEVER,
            "last_accel_ms": NEVER,
            # HeadingFilter
            "heading": np.nan,
            "var": np.nan,
            "rotvec_x": np.nan,
            "rotvec_y": np.nan,
            "rotvec_z": np.nan,
            "last_gyro_ms": NEVER,
            "last_rotation_ms": NEVER,
            "rejects": 0,
        }
        for name, value in self._defaults.items():
            self._fields[name] = np.full(rows, value)

    def __len__(self) -> int:
        return len(self._fields["armed"])

    def grow(self, rows: int) -> None:
        extra = rows - len(self)
        if extra > 0:
            for name, value in self._defaults.items():
                self._fields[name] = np.concatenate([self._fields[name], np.full(extra, value)])

    def clear(self, rows: Mask) -> None:
        for name, value in self._defaults.items():
            self._fields[name][rows] = value

    def heading_rad(self, rows: IntArray) -> Array:
        """Current heading of the rows (NaN before the first rotation vector)."""
        return np.asarray(self._fields["heading"][rows])

    def run(self, samples: MotionSamples) -> MotionSteps:
        """Feed every sample in merged time order; return the steps found."""
        f = {name: values[samples.rows] for name, values in self._fields.items()}
        n = len(samples.rows)
        accel = samples.accel.newer(f["last_accel_ms"])
        gyro = samples.gyro.newer(f["last_gyro_ms"])
        rotation = samples.rotation.newer(f["last_rotation_ms"])
        step_at, feature = _steps(f, accel, n)
        heading = _headings(f, accel, gyro, rotation, n, step_at)
        for name, values in f.items():
            self._fields[name][samples.rows] = values
        return MotionSteps(accel.row[step_at], accel.t_ms[step_at], feature, heading)


def _steps(f: dict[str, np.ndarray], accel: SensorSamples, rows: int) -> tuple[IntArray, Array]:
    """``StepDetector.push`` over each row's samples: (sample index, Weinberg feature) of the
    steps, in sample order; updates the detector fields of ``f``."""
    layout = _Layout.of(accel.row, rows)
    ax, ay, az = accel.xyz.T  # x² + y² + z² in sum(axis=1)'s order, without its small-axis loop
    magnitude = np.sqrt(ax * ax + ay * ay + az * az) - GRAVITY
    a = _lowpass(f, layout, magnitude)
    row, i = accel.row, np.arange(len(a))
    start = layout.start[row]
    # Armed after sample i ⇔ the latest sample ≤ i above the peak or below the valley threshold
    # was above (it arms, or keeps armed; below disarms, or keeps disarmed); none yet: as before.
    above, below = a > PEAK_THRESHOLD, a < VALLEY_THRESHOLD
    latest = np.maximum.accumulate(np.where(above | below, i, -1)) if len(a) else i
    armed_after = np.where(latest >= start, above[np.maximum(latest, 0)], f["armed"][row] != 0)
    armed_before = np.where(i == start, f["armed"][row] != 0, np.roll(armed_after, 1))
    arm, fall = above & ~armed_before, below & armed_before
    event = np.flatnonzero(arm | fall)
    event_row = row[event]
    # Each event's segment: back to the row's previous event (or the row's first sample).
    previous = np.concatenate([[-1], event[:-1]])
    chained = previous >= layout.start[event_row]
    segment_start = np.where(chained, previous, layout.start[event_row])
    bounds = np.column_stack([segment_start, event]).ravel()
    # Peak: max of |a| from arming to falling; valley: min from the last fall (or the batch's
    # start, with the carried valley) to arming — both including the event's own sample.
    peak = np.maximum(np.maximum.reduceat(a, bounds)[::2], a[event]) if len(event) else a[event]
    peak = np.maximum(peak, np.where(chained, -np.inf, f["peak"][event_row]))
    valley = np.minimum(np.minimum.reduceat(a, bounds)[::2], a[event]) if len(event) else a[event]
    valley = np.minimum(valley, np.where(chained, np.inf, f["valley"][event_row]))
    is_fall = fall[event]
    valley_at_arm = np.where(chained, np.roll(valley, 1), f["valley"][event_row])
    swing = peak - np.minimum(valley_at_arm, a[event])
    falls = event[is_fall]
    step = _spaced(f, row[falls], accel.t_ms[falls])
    _carry_hysteresis(f, layout, a, event, peak, valley, armed_after)
    has = layout.count > 0
    last = np.where(has, layout.start + layout.count - 1, 0)
    f["last_accel_ms"] = _pick(accel.t_ms, last, has, f["last_accel_ms"])
    return falls[step], np.asarray(swing[is_fall][step] ** 0.25)


def _lowpass(f: dict[str, np.ndarray], layout: _Layout, magnitude: Array) -> Array:
    """y ← y + α(x − y) per row from the carried y (a row's first sample ever starts y at x)."""
    if len(magnitude) == 0:
        return magnitude
    x = layout.padded(magnitude)
    first = x[:, 0]
    carried = np.where(np.isnan(f["filtered"]), first, f["filtered"])
    # lfilter's state for y[−1] = carried is z = (1 − α)·carried (direct form II transposed).
    y, _ = lfilter(_LOWPASS_B, _LOWPASS_A, x, axis=1, zi=(-_LOWPASS_A[1] * carried)[:, None])
    has = layout.count > 0
    f["filtered"] = np.where(has, y[np.arange(len(has)), np.maximum(layout.count - 1, 0)],
                             f["filtered"])  # fmt: skip
    return np.asarray(y.ravel()[layout.cell])


def _spaced(f: dict[str, np.ndarray], row: IntArray, t_ms: IntArray) -> Mask:
    """Which falls are steps: at least ``MIN_STEP_INTERVAL_MS`` after the row's last step (a
    round per fall of a row, in time order); updates ``last_step_ms``."""
    step = np.zeros(len(row), dtype=bool)
    rank = np.arange(len(row)) - np.searchsorted(row, row, side="left")
    last = f["last_step_ms"]
    for j in range(int(rank.max(initial=-1)) + 1):
        at = np.flatnonzero(rank == j)
        r, t = row[at], t_ms[at]
        ok = (last[r] == NEVER) | (
            t - np.where(last[r] == NEVER, 0, last[r]) >= MIN_STEP_INTERVAL_MS
        )
        step[at] = ok
        last[r[ok]] = t[ok]
    return step


def _carry_hysteresis(f: dict[str, np.ndarray], layout: _Layout, a: Array, event: IntArray,
                      peak: Array, valley: Array, armed_after: Mask) -> None:  # fmt: skip
    """The detector's state after each row's last sample: armed, and the running peak (armed)
    or valley (disarmed) over the samples since the row's last event."""
    has = np.flatnonzero(layout.count > 0)
    last = layout.start[has] + layout.count[has] - 1
    # The row's last event (its index into ``event``), −1 if none in this batch.
    last_event = np.searchsorted(event, last, side="right") - 1
    own = last_event >= 0
    own[own] = event[last_event[own]] >= layout.start[has][own]
    tail_start = _pick(event, last_event, own, layout.start[has])
    padded_a = np.append(a, 0.0)  # reduceat's bounds must be < len: row ends may equal len(a)
    bounds = np.column_stack([tail_start, last + 1]).ravel()
    tail_max = np.maximum.reduceat(padded_a, bounds)[::2]
    tail_min = np.minimum.reduceat(padded_a, bounds)[::2]
    armed = armed_after[last]
    old_peak, old_valley = f["peak"][has], f["valley"][has]
    event_peak = _pick(peak, last_event, own, old_peak)
    event_valley = _pick(valley, last_event, own, old_valley)
    # Armed: the peak runs on from the arming (or the carried peak); the valley is the one the
    # arming saw. Disarmed: the valley runs on from the fall (or the carried valley).
    f["peak"][has] = np.where(armed, np.maximum(tail_max, np.where(own, -np.inf, old_peak)),
                              event_peak)  # fmt: skip
    running_valley = np.minimum(tail_min, np.where(own, np.inf, old_valley))
    f["valley"][has] = np.where(armed, event_valley, running_valley)
    f["armed"][has] = armed


def _headings(f: dict[str, np.ndarray], accel: SensorSamples, gyro: SensorSamples,
              rotation: SensorSamples, rows: int, step_at: IntArray) -> Array:  # fmt: skip
    """``HeadingFilter`` over each row's merged gyroscope and rotation-vector samples; returns
    the heading at each step (accelerometer sample ``step_at``) and updates the filter fields."""
    t0 = min((int(s.t_ms.min()) for s in (accel, gyro, rotation) if len(s)), default=0)
    g_layout, r_layout = _Layout.of(gyro.row, rows), _Layout.of(rotation.row, rows)
    g_keys = (gyro.row << _ROW_SHIFT) + (gyro.t_ms - t0)
    r_keys = (rotation.row << _ROW_SHIFT) + (rotation.t_ms - t0)
    # Gyroscope: rotation vectors strictly before it (at a tie the gyroscope comes first);
    # rotation vector: the gyroscope samples up to it (at the same time too).
    seen, gyro_before_rv = _interleaved(g_keys, r_keys)
    seen -= r_layout.start[gyro.row]
    gyro_before_rv -= g_layout.start[rotation.row]
    yaw_dt, var_dt = _gyro_increments(f, gyro, g_layout, r_layout, rotation, seen)
    # Per row, Σ of the increments over its first j gyroscope samples, j = 0 … count.
    yaw_rows = g_layout.padded(yaw_dt)
    turned = np.zeros((rows, yaw_rows.shape[1] + 1))
    turned[:, 1:] = np.cumsum(yaw_rows, axis=1)
    spread = np.zeros_like(turned)
    spread[:, 1:] = np.cumsum(g_layout.padded(var_dt), axis=1)
    start_heading = f["heading"].copy()
    after_rv, rank = _rotation_updates(f, rotation, r_layout, turned, spread, gyro_before_rv)
    # Heading at a step: after the rotation vectors and gyroscope samples strictly before it.
    step_row, step_keys = accel.row[step_at], (accel.row[step_at] << _ROW_SHIFT)
    step_keys = step_keys + (accel.t_ms[step_at] - t0)
    rv_seen = _counts_before(r_layout, r_keys, step_keys, step_row, inclusive=False)
    g_seen = _counts_before(g_layout, g_keys, step_keys, step_row, inclusive=False)
    heading = _heading_at(start_heading, step_row, rv_seen, g_seen, r_layout, after_rv, rank,
                          gyro_before_rv, turned)  # fmt: skip
    return _wrap(heading)


def _interleaved(first: IntArray, second: IntArray) -> tuple[IntArray, IntArray]:
    """Two sorted key arrays merged, ties ``first`` first: per key of ``first``, how many of
    ``second`` come before it, and per key of ``second``, how many of ``first``. One stable
    sort of the two sorted runs (a linear merge) instead of two binary searches a key: a
    stable sort keeps each run's order, so the i-th ``first`` key in the merge is ``first[i]``.
    """
    from_second = np.argsort(np.concatenate([first, second]), kind="stable") >= len(first)
    before_first = np.flatnonzero(~from_second) - np.arange(len(first))
    before_second = np.flatnonzero(from_second) - np.arange(len(second))
    return before_first, before_second


def _gyro_increments(f: dict[str, np.ndarray], gyro: SensorSamples, g_layout: _Layout,
                     r_layout: _Layout, rotation: SensorSamples,
                     seen: IntArray) -> tuple[Array, Array]:  # fmt: skip
    """Per gyroscope sample, (R·ω)_z·dt and q·dt where ``HeadingFilter.on_gyro`` integrates
    (a heading and a rotation vector exist, 0 < dt < 1 s), else 0; updates ``last_gyro_ms``."""
    row = gyro.row
    # Each sample's rotation vector: the row's latest before it, else the one carried over
    # (NaN before the first: no heading yet), looked up in one table, component by component.
    carried = np.column_stack([f["rotvec_x"], f["rotvec_y"], f["rotvec_z"]])
    latest = np.where(seen > 0, r_layout.start[row] + seen - 1, len(rotation) + row)
    # Component by component: a 1-D ``take`` costs a tenth of gathering (n, 3) rows.
    table = np.concatenate([rotation.xyz, carried]).T.copy()
    up_x, up_y, up_z = _up_row(*(np.take(component, latest) for component in table))
    first = g_layout.position == 0
    previous = np.where(first, f["last_gyro_ms"][row], np.roll(gyro.t_ms, 1))
    dt = (gyro.t_ms - np.where(previous == NEVER, gyro.t_ms, previous)) / 1000.0
    valid = (previous != NEVER) & ~np.isnan(up_x) & (dt > 0.0) & (dt < 1.0)
    # (R·ω)_z = R₂₀ωx + R₂₁ωy + R₂₂ωz (heading.world_yaw_rate)
    omega = gyro.xyz
    yaw_rate = up_x * omega[:, 0] + up_y * omega[:, 1] + up_z * omega[:, 2]
    has = g_layout.count > 0
    last = g_layout.start + g_layout.count - 1
    f["last_gyro_ms"] = _pick(gyro.t_ms, last, has, f["last_gyro_ms"])
    return np.where(valid, yaw_rate * dt, 0.0), np.where(valid, GYRO_HEADING_VAR_PER_S * dt, 0.0)


def _up_row(x: Array, y: Array, z: Array) -> tuple[Array, Array, Array]:
    """Bottom row of ``heading.rotation_matrix`` (phone axes → world up) per rotation vector
    (x, y, z), as three arrays. 2·(xz − yw) is 2xz − 2yw to the bit (×2 is exact)."""
    w = np.sqrt(np.maximum(0.0, 1.0 - x * x - y * y - z * z))
    return 2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * x * x - 2 * y * y


def _measured_heading(xyz: Array) -> Array:
    """π/2 − Android azimuth of each rotation vector (``heading.map_heading_rad``)."""
    x, y, z = xyz[:, 0], xyz[:, 1], xyz[:, 2]
    w = np.sqrt(np.maximum(0.0, 1.0 - x * x - y * y - z * z))
    return _wrap(np.pi / 2 - np.arctan2(2 * x * y - 2 * z * w, 1 - 2 * x * x - 2 * z * z))


def _rotation_updates(f: dict[str, np.ndarray], rotation: SensorSamples, r_layout: _Layout,
                      turned: Array, spread: Array,
                      gyro_before: IntArray) -> tuple[Array, IntArray]:  # fmt: skip
    """``HeadingFilter.on_rotation_vector`` for each row's rotation vectors in turn (a round per
    rotation vector, over the rows that have one); returns the heading after each, unwrapped,
    as (k, rows in the rounds' order) with each row's place in that order, and leaves the
    filter fields as after the row's last gyroscope sample."""
    rows, row = len(r_layout.count), rotation.row
    # Increments of the gyroscope samples between rotation vector k − 1 (or the batch start)
    # and rotation vector k.
    previous = np.where(r_layout.position == 0, 0, np.roll(gyro_before, 1))
    # (row, j) of turned and spread as flat indices: 1-D takes, not two-array fancy indexing.
    at, since = row * turned.shape[1] + gyro_before, row * turned.shape[1] + previous
    turned_flat, spread_flat = turned.ravel(), spread.ravel()
    d_heading = np.take(turned_flat, at) - np.take(turned_flat, since)
    d_var = np.take(spread_flat, at) - np.take(spread_flat, since)
    measured = _measured_heading(rotation.xyz)
    # Rows by decreasing count, so that round k works on a prefix of the rows (views, no masks).
    order = np.argsort(-r_layout.count, kind="stable")
    rank = np.empty(rows, dtype=np.int64)
    rank[order] = np.arange(rows)
    width = int(r_layout.count.max(initial=0))
    # (k, rows): round k reads a contiguous prefix of row k.
    shape = (width, rows)
    pad_at = r_layout.position * rows + rank[row]  # flat index into (k, rows)
    z, dh, dv = np.zeros(width * rows), np.zeros(width * rows), np.zeros(width * rows)
    z[pad_at], dh[pad_at], dv[pad_at] = measured, d_heading, d_var
    z, dh, dv = z.reshape(shape), dh.reshape(shape), dv.reshape(shape)
    active = rows - np.searchsorted(np.sort(r_layout.count), np.arange(width), side="right")
    heading, var = f["heading"][order], f["var"][order]
    rejects = f["rejects"][order].astype(np.int64)
    after = np.zeros(shape)
    for k in range(width):
        m = int(active[k])
        h, p, rejected = heading[:m], var[:m], rejects[:m]  # views: updated in place
        h += dh[k, :m]  # the gyroscope's turn since the last rotation vector: ψ⁻, P⁻
        p += dv[k, :m]
        # ν = z − ψ⁻ (wrapped), S = P⁻ + R, K = P⁻/S; taken inside the gate or after too many
        # rejections in a row (heading.heading_update, HeadingFilter.on_rotation_vector);
        # K = 0 where not taken leaves ψ⁻ and P⁻ as they are.
        innovation = _wrap(z[k, :m] - h)
        s = p + ROTVEC_HEADING_VAR
        gain = p / s
        take = np.abs(innovation / np.sqrt(s)) <= HEADING_GATE_SIGMA
        take |= rejected >= HEADING_MAX_REJECTS
        gain *= take
        h += gain * innovation
        p *= 1 - gain
        rejected += 1
        rejected *= ~take
        if k == 0:  # a row's first rotation vector ever starts its heading
            first = np.flatnonzero(np.isnan(h))
            heading[first], var[first], rejects[first] = z[0, first], ROTVEC_HEADING_VAR, 0
        after[k, :m] = h
    # Back to the rows' own order; then the gyroscope samples after each row's last rotation
    # vector (all of them if it had none).
    heading_rows, var_rows = np.empty(rows), np.empty(rows)
    heading_rows[order], var_rows[order] = heading, var
    f["rejects"][order] = rejects
    has = r_layout.count > 0
    last = np.where(has, r_layout.start + r_layout.count - 1, 0)
    since = _pick(gyro_before, last, has, np.zeros(rows, dtype=np.int64))
    everything = turned.shape[1] - 1
    all_rows = np.arange(rows)
    total_turn = turned[all_rows, everything] - turned[all_rows, since]
    total_spread = spread[all_rows, everything] - spread[all_rows, since]
    f["heading"] = _wrap(heading_rows + total_turn)
    f["var"] = var_rows + total_spread
    for axis, name in enumerate(("rotvec_x", "rotvec_y", "rotvec_z")):
        f[name] = _pick(rotation.xyz[:, axis], last, has, f[name])
    f["last_rotation_ms"] = _pick(rotation.t_ms, last, has, f["last_rotation_ms"])
    return after, rank


def _heading_at(start_heading: Array, row: IntArray, rv_seen: IntArray, g_seen: IntArray,
                r_layout: _Layout, after_rv: Array, rank: IntArray, gyro_before_rv: IntArray,
                turned: Array) -> Array:  # fmt: skip
    """Heading (unwrapped) after a row's first ``rv_seen`` rotation vectors and ``g_seen``
    gyroscope samples: the heading after the last of those rotation vectors (or the batch's
    starting heading) plus the gyroscope's turn since."""
    own = rv_seen > 0
    k = np.maximum(rv_seen - 1, 0)
    base = np.where(own, after_rv[k, rank[row]] if after_rv.size else 0.0,
                    start_heading[row])  # fmt: skip
    since = _pick(gyro_before_rv, r_layout.start[row] + k, own, np.zeros(len(row), np.int64))
    return np.asarray(base + turned[row, g_seen] - turned[row, since])
