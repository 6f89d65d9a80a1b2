import math

import numpy as np
import pytest
from filterpy.kalman import KalmanFilter

from positioning.ekf import (
    GATE_MAHALANOBIS2,
    H_POSITION,
    MAX_CONSECUTIVE_REJECTS,
    StepEKF,
    mahalanobis2,
    step_noise,
    step_transition,
)
from positioning.heading import HeadingState, heading_predict, heading_update


def test_step_jacobian_matches_numeric_differentiation():
    state = np.array([3.0, 4.0, 0.1, 1.1])
    _, jac = step_transition(state, 0.7, 0.6)
    eps = 1e-6
    numeric = np.zeros((4, 4))
    for j in range(4):
        d = np.zeros(4)
        d[j] = eps
        numeric[:, j] = (
            step_transition(state + d, 0.7, 0.6)[0] - step_transition(state - d, 0.7, 0.6)[0]
        ) / (2 * eps)
    assert jac == pytest.approx(numeric, abs=1e-8)


def test_predict_is_f_of_x_and_f_p_ft_plus_q():
    ekf = StepEKF()
    ekf.reset(10.0, 5.0, 2.0)
    x0, p0 = ekf.filter.x.copy(), ekf.filter.P.copy()
    ekf.predict_step(0.7, math.radians(30))
    expected_x, jac = step_transition(x0, 0.7, math.radians(30))
    q = step_noise(x0, 0.7, math.radians(30))
    assert ekf.filter.x == pytest.approx(expected_x, abs=1e-12)
    assert pytest.approx(jac @ p0 @ jac.T + q, abs=1e-12) == ekf.filter.P


def test_position_update_matches_the_textbook_equations():
    ekf = StepEKF()
    ekf.reset(10.0, 5.0, 2.0)
    ekf.predict_step(0.7, 0.0)
    x, p = ekf.filter.x.copy(), ekf.filter.P.copy()
    z, r = np.array([11.5, 4.0]), np.eye(2) * 3.0**2
    assert ekf.update_position(11.5, 4.0, 3.0)
    s = H_POSITION @ p @ H_POSITION.T + r
    k = p @ H_POSITION.T @ np.linalg.inv(s)
    expected_x = x + k @ (z - H_POSITION @ x)
    i_kh = np.eye(4) - k @ H_POSITION
    expected_p = i_kh @ p @ i_kh.T + k @ r @ k.T  # Joseph form, as filterpy
    assert ekf.filter.x == pytest.approx(expected_x, abs=1e-9)
    assert pytest.approx(expected_p, abs=1e-9) == ekf.filter.P


def test_position_update_equals_filterpys_linear_kalman_filter():
    ekf = StepEKF()
    ekf.reset(0.0, 0.0, 1.5)
    kf = KalmanFilter(dim_x=4, dim_z=2)
    kf.x, kf.P, kf.H = ekf.filter.x.copy(), ekf.filter.P.copy(), H_POSITION
    ekf.update_position(1.0, -1.0, 2.0)
    kf.update(np.array([1.0, -1.0]), R=np.eye(2) * 4.0)
    assert ekf.filter.x == pytest.approx(kf.x, abs=1e-9)
    assert pytest.approx(kf.P, abs=1e-9) == ekf.filter.P


def test_gate_rejects_an_outlier_and_resets_after_repeated_rejections():
    ekf = StepEKF()
    ekf.reset(0.0, 0.0, 1.0)
    far = 100.0
    s = H_POSITION @ ekf.filter.P @ H_POSITION.T + np.eye(2)
    assert mahalanobis2(np.array([far, 0.0]), s) > GATE_MAHALANOBIS2
    for _ in range(MAX_CONSECUTIVE_REJECTS - 1):
        assert not ekf.update_position(far, 0.0, 1.0)
        assert ekf.x == pytest.approx(0.0)
    assert ekf.update_position(far, 0.0, 1.0)  # the filter, not the fixes, was wrong
    assert ekf.x == pytest.approx(far)


def test_scalar_heading_filter_equals_filterpy():
    kf = KalmanFilter(dim_x=1, dim_z=1)
    kf.x, kf.P, kf.F, kf.H = np.array([0.3]), np.array([[0.02]]), np.eye(1), np.eye(1)
    state = HeadingState(0.3, 0.02)
    rate, dt, meas, meas_var = 0.2, 0.02, 0.4, 0.03
    state = heading_predict(state, rate, dt)
    from positioning.heading import GYRO_HEADING_VAR_PER_S

    kf.predict(u=None, Q=np.array([[GYRO_HEADING_VAR_PER_S * dt]]))
    kf.x = kf.x + rate * dt
    state, _ = heading_update(state, meas, meas_var)
    kf.update(np.array([meas]), R=np.array([[meas_var]]))
    assert state.heading_rad == pytest.approx(float(kf.x[0]), abs=1e-12)
    assert state.var_rad2 == pytest.approx(float(kf.P[0, 0]), abs=1e-12)


def test_batched_step_maths_equal_one_shopper_at_a_time():
    rng = np.random.default_rng(4)
    states = np.column_stack(
        [
            rng.uniform(0, 50, 5),
            rng.uniform(0, 50, 5),
            rng.normal(0, 0.2, 5),
            rng.uniform(0.8, 1.2, 5),
        ]
    )
    lengths, headings = rng.uniform(0.4, 0.9, 5), rng.uniform(-3, 3, 5)
    new, jac = step_transition(states, lengths, headings)
    q = step_noise(states, lengths, headings)
    innovations, covs = (
        rng.normal(0, 2, (5, 2)),
        np.stack([np.eye(2) * v for v in rng.uniform(1, 4, 5)]),
    )
    d2 = mahalanobis2(innovations, covs)
    for i in range(5):
        one_new, one_jac = step_transition(states[i], lengths[i], headings[i])
        assert new[i] == pytest.approx(one_new, abs=1e-12)
        assert jac[i] == pytest.approx(one_jac, abs=1e-12)
        assert q[i] == pytest.approx(step_noise(states[i], lengths[i], headings[i]), abs=1e-15)
        assert float(d2[i]) == pytest.approx(
            float(innovations[i] @ np.linalg.inv(covs[i]) @ innovations[i])
        )


def test_step_noise_is_along_and_across_track():
    q = step_noise(np.array([0.0, 0.0, 0.0, 1.0]), 1.0, math.pi / 2)  # walking north
    from positioning.ekf import STEP_HEADING_SIGMA_RAD, STEP_LENGTH_SIGMA

    assert q[1, 1] == pytest.approx(STEP_LENGTH_SIGMA**2)  # along track = y
    assert q[0, 0] == pytest.approx(STEP_HEADING_SIGMA_RAD**2)  # across track = x
    assert q[0, 1] == pytest.approx(0.0, abs=1e-15)
