"""The batched EKF is filterpy's ``StepEKF`` row by row: same x, P, gate and reset."""

import math

import numpy as np

from positioning.batch_ekf import BatchEKF
from positioning.ekf import StepEKF

SHOPPERS = 40
ROUNDS = 120


def _random_round(rng: np.random.Generator, truth: np.ndarray) -> tuple[np.ndarray, ...]:
    """Per shopper: does it step (and how), does it get a fix (good, or an outlier)."""
    steps = rng.random(SHOPPERS) < 0.6
    length = rng.uniform(0.4, 0.9, SHOPPERS)
    heading = rng.uniform(-math.pi, math.pi, SHOPPERS)
    truth[steps, 0] += length[steps] * np.cos(heading[steps])
    truth[steps, 1] += length[steps] * np.sin(heading[steps])
    fixes = rng.random(SHOPPERS) < 0.4
    sigma = rng.uniform(0.5, 4.0, SHOPPERS)
    outlier = rng.random(SHOPPERS) < 0.25  # far enough to be gated out, often in a row: resets
    fix_xy = truth + rng.normal(0.0, 1.0, (SHOPPERS, 2)) * sigma[:, None]
    fix_xy[outlier] += rng.choice([-1.0, 1.0], (int(outlier.sum()), 2)) * 40.0
    return steps, length, heading, fixes, fix_xy, sigma


def test_random_steps_and_fixes_give_filterpys_x_and_p_to_1e_9() -> None:
    rng = np.random.default_rng(3)
    singles = [StepEKF() for _ in range(SHOPPERS)]
    batch = BatchEKF(SHOPPERS)
    truth = rng.uniform(0.0, 50.0, (SHOPPERS, 2))
    outcomes = {"accepted": 0, "gated": 0, "reset": 0}
    for _ in range(ROUNDS):
        steps, length, heading, fixes, fix_xy, sigma = _random_round(rng, truth)
        batch.predict_step(steps, length, heading)
        accepted = batch.update_position(fixes, fix_xy[:, 0], fix_xy[:, 1], sigma)
        for i, ekf in enumerate(singles):
            if steps[i]:
                ekf.predict_step(float(length[i]), float(heading[i]))
            if fixes[i]:
                took = ekf.update_position(float(fix_xy[i, 0]), float(fix_xy[i, 1]), sigma[i])
                assert took == accepted[i]
                reset = took and ekf.filter.x.tolist() == [*fix_xy[i], 0.0, 1.0]
                outcomes["reset" if reset else "accepted" if took else "gated"] += 1
            else:
                assert not accepted[i]
        for i, ekf in enumerate(singles):
            assert batch.ready[i] == ekf.ready
            assert batch.rejects[i] == ekf.rejects
            if ekf.ready:
                np.testing.assert_allclose(batch.x[i], ekf.filter.x, rtol=0, atol=1e-9)
                np.testing.assert_allclose(batch.P[i], ekf.filter.P, rtol=0, atol=1e-9)
    # The sequences exercised every branch, not only the happy path.
    assert min(outcomes.values()) >= 20, outcomes
    sigma = np.array([e.sigma_m if e.ready else np.nan for e in singles])
    np.testing.assert_allclose(batch.sigma_m()[batch.ready], sigma[batch.ready], atol=1e-9)


def test_masked_out_rows_are_untouched_bit_for_bit() -> None:
    rng = np.random.default_rng(5)
    batch = BatchEKF(6)
    everyone = np.ones(6, dtype=bool)
    batch.reset(everyone, rng.uniform(0, 9, 6), rng.uniform(0, 9, 6), np.full(6, 2.0))
    before_x, before_p = batch.x.copy(), batch.P.copy()
    only = np.zeros(6, dtype=bool)
    only[[1, 4]] = True
    batch.predict_step(only, np.full(6, 0.7), np.full(6, 0.3))
    batch.update_position(only, np.full(6, 50.0), np.full(6, 50.0), np.full(6, 1.0))  # gated
    batch.update_position(only, batch.x[:, 0] + 0.5, batch.x[:, 1], np.full(6, 1.0))
    others = ~only
    assert np.array_equal(batch.x[others], before_x[others])
    assert np.array_equal(batch.P[others], before_p[others])
    assert np.array_equal(batch.rejects[others], np.zeros(4))
    assert not np.array_equal(batch.x[only], before_x[only])


def test_a_cleared_row_starts_again_from_its_next_fix() -> None:
    batch = BatchEKF(2)
    both = np.ones(2, dtype=bool)
    batch.update_position(both, np.array([1.0, 2.0]), np.array([1.0, 2.0]), np.ones(2))
    batch.clear(np.array([True, False]))
    assert batch.ready.tolist() == [False, True]
    batch.grow(3)
    assert batch.ready.tolist() == [False, True, False]
    assert batch.x[1, :2].tolist() == [2.0, 2.0]
    first = np.array([True, False, False])
    batch.update_position(first, np.full(3, 7.0), np.full(3, 8.0), np.full(3, 3.0))
    assert batch.x[0].tolist() == [7.0, 8.0, 0.0, 1.0]
