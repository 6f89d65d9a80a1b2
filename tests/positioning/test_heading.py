import math

import pytest

from positioning.heading import (
    HeadingFilter,
    HeadingState,
    android_azimuth_rad,
    heading_predict,
    heading_update,
    map_heading_rad,
    rotation_matrix,
    world_yaw_rate,
)
from tests.positioning.synthetic import rotation_vector_for


def quaternion_about_up(alpha_deg: float) -> tuple[float, float, float]:
    return 0.0, 0.0, math.sin(math.radians(alpha_deg) / 2)


def test_flat_phone_pointing_north_has_azimuth_zero_and_map_heading_90():
    rv = quaternion_about_up(0.0)
    assert android_azimuth_rad(*rv) == pytest.approx(0.0)
    assert math.degrees(map_heading_rad(*rv)) == pytest.approx(90.0)


def test_turning_clockwise_to_east_gives_azimuth_90_and_map_heading_0():
    rv = quaternion_about_up(-90.0)  # counter-clockwise positive, so −90° is a right turn
    assert math.degrees(android_azimuth_rad(*rv)) == pytest.approx(90.0)
    assert math.degrees(map_heading_rad(*rv)) == pytest.approx(0.0, abs=1e-9)


@pytest.mark.parametrize("heading", [0.0, 45.0, 90.0, 179.0, 200.0, 300.0])
def test_map_heading_is_90_minus_azimuth(heading):
    rv = rotation_vector_for(heading)
    expected = (90.0 - math.degrees(android_azimuth_rad(*rv))) % 360.0
    assert math.degrees(map_heading_rad(*rv)) % 360.0 == pytest.approx(expected)
    assert math.degrees(map_heading_rad(*rv)) % 360.0 == pytest.approx(heading % 360.0)


def test_rotation_matrix_is_orthonormal_and_yaw_rate_of_a_flat_phone_is_gyro_z():
    rv = (0.1, -0.2, 0.3)
    r = rotation_matrix(*rv)
    assert (r @ r.T) == pytest.approx(__import__("numpy").eye(3), abs=1e-12)
    assert world_yaw_rate(quaternion_about_up(30.0), (0.0, 0.0, 0.4)) == pytest.approx(0.4)


def test_heading_kalman_steps_match_the_textbook_scalar_filter():
    state = HeadingState(0.2, 0.01)
    predicted = heading_predict(state, 0.5, 0.1)
    assert predicted.heading_rad == pytest.approx(0.25)
    assert predicted.var_rad2 > state.var_rad2
    updated, normalised = heading_update(predicted, 0.35, 0.04)
    gain = predicted.var_rad2 / (predicted.var_rad2 + 0.04)
    assert updated.heading_rad == pytest.approx(0.25 + gain * 0.1)
    assert updated.var_rad2 == pytest.approx((1 - gain) * predicted.var_rad2)
    assert normalised == pytest.approx(0.1 / math.sqrt(predicted.var_rad2 + 0.04))


def test_heading_filter_rides_out_a_short_magnetic_disturbance_on_the_gyro():
    hf = HeadingFilter()
    worst = 0.0
    for i in range(500):
        t = i * 20
        disturbed = 150 <= i < 175  # half a second of a 60° wrong compass
        rv = quaternion_about_up(60.0 if disturbed else 0.0)
        hf.on_gyro(t, 0.0, 0.0, 0.0)
        hf.on_rotation_vector(t, *rv)
        if i > 10:
            worst = max(worst, abs(math.degrees(hf.heading_rad or 0.0) - 90.0))
    assert worst < 10.0


def test_heading_filter_follows_a_real_turn():
    hf = HeadingFilter()
    for i in range(300):
        t = i * 20
        alpha = min(90.0, max(0.0, (i - 100) * 1.8))  # a 90° left turn over one second
        rate = math.radians(1.8) / 0.02 if 100 < i <= 150 else 0.0
        hf.on_gyro(t, 0.0, 0.0, rate)
        hf.on_rotation_vector(t, *quaternion_about_up(alpha))
    assert math.degrees(hf.heading_rad or 0.0) == pytest.approx(180.0, abs=3.0)
