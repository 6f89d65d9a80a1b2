import math

import numpy as np
import pytest

from positioning.beacons import (
    BeaconError,
    BeaconMap,
    PathLossModel,
    RangeSample,
    calibrate_path_loss,
    locate_beacons,
)

BEACONS = {"b1": (10.0, 12.0, -59.0), "b2": (30.0, 12.0, -62.0), "b3": (50.0, 8.0, -59.0)}


def survey_samples(
    exponent: float, noise_db: float, seed: int, weakest_dbm: float = -95.0
) -> list[RangeSample]:
    """A surveyor zig-zagging along a 60 m × 20 m store, beacons heard every metre."""
    rng = np.random.default_rng(seed)
    samples = []
    for i in range(240):
        x = i * 0.25
        y = 10.0 + 8.0 * math.sin(i / 15.0)
        for bid, (bx, by, tx) in BEACONS.items():
            d = max(0.5, math.hypot(x - bx, y - by))
            rssi = tx - 10 * exponent * math.log10(d) + rng.normal(0, noise_db)
            if rssi > weakest_dbm:
                samples.append(RangeSample(bid, x, y, rssi))
    return samples


def test_log_distance_range_inverts_the_model():
    model = PathLossModel(exponent=2.0)
    assert model.range_m(-59.0, -59.0 - 20.0) == pytest.approx(10.0)
    assert float(model.rssi_at(-59.0, 10.0)) == pytest.approx(-79.0)


def test_calibration_recovers_the_path_loss_exponent():
    # Uncensored readings: a phone's sensitivity floor drops the weakest ones and biases n low.
    model = calibrate_path_loss(survey_samples(2.7, 3.0, seed=1, weakest_dbm=-150.0), BEACONS)
    assert model.exponent == pytest.approx(2.7, abs=0.15)
    assert model.offset_db == pytest.approx(0.0, abs=1.5)
    assert model.sigma_db == pytest.approx(3.0, abs=0.5)


def test_unknown_beacons_are_located_from_a_survey_within_two_metres():
    located = locate_beacons(survey_samples(2.0, 3.0, seed=2), PathLossModel(exponent=2.0))
    assert set(located) == set(BEACONS)
    for bid, (x, y, tx) in located.items():
        bx, by, btx = BEACONS[bid]
        assert math.hypot(x - bx, y - by) < 2.0, bid
        assert tx == pytest.approx(btx, abs=3.0)


def test_likelihood_peaks_at_the_range_the_rssi_implies():
    beacon_map = BeaconMap({"b": (0.0, 0.0, -59.0)}, PathLossModel(exponent=2.0))
    xs = np.linspace(0.5, 30.0, 60)
    log_l = beacon_map.log_likelihood("b", -79.0, xs, np.zeros_like(xs))
    assert xs[np.argmax(log_l)] == pytest.approx(10.0, abs=0.5)


def test_a_beacon_without_a_finite_position_is_refused():
    with pytest.raises(BeaconError, match="finite"):
        BeaconMap({"b": (math.nan, 0.0, -59.0)})
