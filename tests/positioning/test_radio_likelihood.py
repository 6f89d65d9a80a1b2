"""The tracker's radio likelihood where the survey did not go.

A corridor surveyed along y = 0 with access points on its south wall, and a parallel aisle at
y = 9 that no survey walk took. A scan from that aisle is matched by k-NN onto the surveyed
corridor: read at the particle itself, the candidate mixture calls the aisle unlikely; read at
the reference nearest each particle (``projected+model``) it does not, and the propagation
model then tells the aisle from the corridor.
"""

from __future__ import annotations

import numpy as np

from positioning.radiomap import RadioMap, SurveyFingerprint
from positioning.scans import Fingerprint
from positioning.tracker import Tracker, TrackerSettings

ACCESS_POINTS = [(float(x), -3.0) for x in range(0, 51, 10)]


def levels_at(x: float, y: float) -> dict[str, float]:
    """Log-distance RSSI, −40 dBm at 1 m, n = 2.5."""
    return {
        f"ap{i}": -40.0 - 25.0 * float(np.log10(max(1.0, np.hypot(x - ax, y - ay))))
        for i, (ax, ay) in enumerate(ACCESS_POINTS)
    }


def corridor_map() -> RadioMap:
    """References every 0.5 m along y = 0, x = 0…50 (ten survey walks of 5 m)."""
    survey = [
        SurveyFingerprint(f"walk{i // 10}", i / 2, 0.0, Fingerprint(i, i, levels_at(i / 2, 0.0)))
        for i in range(101)
    ]
    return RadioMap.from_survey(survey, frozenset())


def likelihood_grid(kind: str, truth: tuple[float, float]) -> tuple[np.ndarray, ...]:
    """Particles on a 1 m grid over both corridors; the likelihood of a scan taken at truth."""
    radio_map = corridor_map()
    scan = Fingerprint(0, 0, levels_at(*truth))
    fix = radio_map.match(scan)
    assert fix is not None
    xs, ys = np.meshgrid(np.arange(0.0, 51.0), np.arange(-1.0, 13.0))
    x, y = xs.ravel(), ys.ravel()
    tracker = Tracker(radio_map, None, settings=TrackerSettings(radio_likelihood=kind))
    return x, y, tracker._radio_likelihood(fix, scan, x, y)


def at(x: np.ndarray, y: np.ndarray, values: np.ndarray, px: float, py: float) -> float:
    return float(values[(x == px) & (y == py)][0])


def test_knn_fix_from_an_unsurveyed_aisle_lands_on_the_survey() -> None:
    fix = corridor_map().match(Fingerprint(0, 0, levels_at(25.0, 9.0)))
    assert fix is not None
    assert abs(fix.y) < 1.0  # the k-NN cannot name the aisle


def test_projected_likelihood_peaks_in_the_unsurveyed_aisle_where_the_scan_was_taken() -> None:
    x, y, projected = likelihood_grid("projected+model", (25.0, 9.0))
    peak = int(np.argmax(projected))
    assert np.hypot(x[peak] - 25.0, y[peak] - 9.0) <= 2.0
    # The truth beats the surveyed spot the k-NN fix named.
    assert at(x, y, projected, 25.0, 9.0) > 1.3 * at(x, y, projected, 25.0, 0.0)
    # Read at the particles themselves, the mixture pulls the peak toward the survey.
    x, y, direct = likelihood_grid("knn+model", (25.0, 9.0))
    peak = int(np.argmax(direct))
    assert np.hypot(x[peak] - 25.0, y[peak] - 9.0) > 3.0
    assert at(x, y, direct, 25.0, 9.0) < at(x, y, direct, 25.0, 0.0)


def test_projected_likelihood_still_peaks_on_the_survey_for_a_surveyed_scan() -> None:
    x, y, projected = likelihood_grid("projected+model", (25.0, 0.0))
    peak = int(np.argmax(projected))
    assert np.hypot(x[peak] - 25.0, y[peak] - 0.0) <= 2.0
    assert at(x, y, projected, 25.0, 0.0) > 1.3 * at(x, y, projected, 25.0, 9.0)
