"""Tempering fitted from the survey by held-out log score (positioning.tempering)."""

from __future__ import annotations

import numpy as np
import pytest

from positioning.radiomap import RadioMap, SurveyFingerprint
from positioning.scans import Fingerprint
from positioning.tempering import FIXED, Tempering, fit_tempering, held_out_terms, log_scores
from positioning.tracker import Tracker, TrackerSettings
from positioning.walkable import WalkableGrid

# Eight access points around a 40 m × 30 m open floor at 1 m cells.
ACCESS_POINTS = [(5.0, 5.0), (35.0, 5.0), (5.0, 25.0), (35.0, 25.0), (20.0, 15.0), (20.0, 2.0)]
ACCESS_POINTS += [(2.0, 15.0), (38.0, 15.0)]
FLOOR = WalkableGrid(np.ones((30, 40), dtype=bool), 1.0, 40.0, 30.0)


def survey(seed: int, noise_db: float, walks: int = 8) -> list[SurveyFingerprint]:
    """Walks along east-west lines, a scan every 1.5 m; every scan shares a body-shadow offset
    (``noise_db`` / 2) across its sources and adds ``noise_db`` per source."""
    rng = np.random.default_rng(seed)
    prints = []
    for walk in range(walks):
        y = 3.0 + 24.0 * walk / (walks - 1)
        for i in range(26):
            x = 1.0 + 1.5 * i
            shadow = float(rng.normal(0.0, noise_db / 2))
            levels = {}
            for k, (ax, ay) in enumerate(ACCESS_POINTS):
                d = max(1.0, float(np.hypot(x - ax, y - ay)))
                level = -40.0 - 25.0 * np.log10(d) + shadow + float(rng.normal(0.0, noise_db))
                levels[f"ap{k}"] = float(level)
            prints.append(SurveyFingerprint(f"walk{walk}", x, y, Fingerprint(i, i, levels)))
    return prints


def test_fitted_tempering_scores_better_than_the_hand_set_powers_on_fresh_scans() -> None:
    """Fitted on one survey, the tempering predicts an independent survey's scan places better
    than both the hand-set ½ powers and untempered (power 1) likelihoods."""
    noise_db = 6.0
    fit_map = RadioMap.from_survey(survey(1, noise_db), frozenset())
    fitted = fit_tempering(fit_map, FLOOR)
    test_map = RadioMap.from_survey(survey(2, noise_db), frozenset())
    scores = log_scores(held_out_terms(test_map, FLOOR, seed=7))
    untempered = Tempering(1.0, 1.0, 1.0)
    assert fitted not in (FIXED, untempered)
    assert scores[fitted] > scores[FIXED]
    assert scores[fitted] > scores[untempered]


def test_the_fit_never_reads_the_held_out_walk() -> None:
    """Fitted on ``without(walk)``, the result is the same whatever that walk heard."""
    prints = survey(3, 4.0)
    held = "walk4"
    scrambled = [
        SurveyFingerprint(
            s.walk,
            s.x,
            s.y,
            Fingerprint(0, 0, {k: -95.0 + 10 * i for i, k in enumerate(s.fingerprint.rssi_dbm)}),
        )
        if s.walk == held
        else s
        for s in prints
    ]
    a = fit_tempering(RadioMap.from_survey(prints, frozenset()).without([held]), FLOOR)
    b = fit_tempering(RadioMap.from_survey(scrambled, frozenset()).without([held]), FLOOR)
    others = RadioMap.from_survey([s for s in prints if s.walk != held], frozenset())
    assert a == b == fit_tempering(others, FLOOR)


def test_the_tracker_uses_the_fitted_tempering_only_when_asked() -> None:
    radio_map = RadioMap.from_survey(survey(4, 4.0), frozenset())
    given = Tempering(0.3, 1.5, 0.75)
    fitted = Tracker(
        radio_map, FLOOR, settings=TrackerSettings(tempering="fitted"), tempering=given
    )
    fixed = Tracker(radio_map, FLOOR, settings=TrackerSettings(), tempering=given)
    assert fitted.tempering == given
    assert fixed.tempering == FIXED
    with pytest.raises(ValueError, match="tempering"):
        Tracker(radio_map, FLOOR, settings=TrackerSettings(tempering="guessed"))


def test_pair_scores_penalise_powers_that_count_alike_scans_twice() -> None:
    """Scored in consecutive pairs of one walk, the best powers are no larger than scored
    one scan at a time (two scans of one place are not two independent witnesses)."""
    radio_map = RadioMap.from_survey(survey(5, 6.0), frozenset())
    single = fit_tempering(radio_map, FLOOR)
    pairs = fit_tempering(radio_map, FLOOR, pairs=True)
    assert pairs.knn_power <= single.knn_power
    assert pairs.field_power <= single.field_power
    assert (pairs.knn_power, pairs.field_power) != (single.knn_power, single.field_power)
