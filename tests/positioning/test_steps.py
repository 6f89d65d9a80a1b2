import math

import numpy as np

from positioning.steps import (
    GRAVITY,
    StepDetector,
    calibrate_weinberg_k,
    detect_steps,
    path_length_m,
    weinberg_length,
)


def walking_signal(seconds: float, cadence_hz: float, amplitude: float, seed: int):
    rng = np.random.default_rng(seed)
    for i in range(int(seconds * 50)):
        t = i / 50
        z = GRAVITY + amplitude * math.sin(2 * math.pi * cadence_hz * t) + rng.normal(0, 0.2)
        yield 1_000 + i * 20, rng.normal(0, 0.1), rng.normal(0, 0.1), z


def test_counts_one_step_per_bounce_at_walking_cadences():
    for cadence in (1.5, 1.9, 2.4):
        steps = detect_steps(walking_signal(20.0, cadence, 2.5, seed=1))
        assert abs(len(steps) - 20.0 * cadence) <= 2, (cadence, len(steps))


def test_standing_still_makes_no_steps():
    assert detect_steps(walking_signal(20.0, 1.9, 0.0, seed=2)) == []


def test_steps_are_reported_causally_so_a_cut_signal_gives_a_prefix():
    samples = list(walking_signal(10.0, 1.9, 2.5, seed=3))
    full = detect_steps(samples)
    cut = detect_steps(samples[:250])
    assert cut == [s for s in full if s.t_ms <= samples[249][0]]


def test_a_sample_from_the_past_is_ignored():
    detector = StepDetector()
    assert detector.push(2_000, 0.0, 0.0, GRAVITY) is None
    assert detector.push(1_000, 0.0, 0.0, GRAVITY + 30) is None


def test_weinberg_length_is_k_times_feature_within_limits():
    assert math.isclose(weinberg_length(1.5, 0.45), 0.675)
    assert weinberg_length(100.0, 0.45) == 1.2
    assert weinberg_length(0.0, 0.45) == 0.3


def test_weinberg_k_is_distance_over_summed_features():
    assert math.isclose(calibrate_weinberg_k([(30.0, 60.0), (10.0, 40.0)]), 0.4)
    assert path_length_m([(0, 0.0, 0.0), (1, 3.0, 4.0), (2, 3.0, 0.0)], 0, 2) == 9.0
