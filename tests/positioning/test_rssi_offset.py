"""The phone's RSSI offset learnt online: a walk read 6 dB louder than the survey."""

from dataclasses import replace

import numpy as np
import pytest

from positioning.readings import BeaconReading, WifiReading
from positioning.rssi_offset import RssiOffset, marginal_log_likelihood
from positioning.scans import Fingerprint
from positioning.scoring import score_walk
from positioning.tracker import Tracker, TrackerSettings
from positioning.walkable import WalkableGrid
from tests.positioning.synthetic import walk_readings
from tests.positioning.test_tracker import HALL, HALL_APS, hall_survey, run  # noqa: F401

SHIFT_DB = 6.0
PATH = [(5.0, 7.0), (35.0, 7.0), (35.0, 30.0), (8.0, 30.0)]


def louder(readings, shift_db: float):
    return [
        replace(r, rssi_dbm=r.rssi_dbm + shift_db)
        if isinstance(r, WifiReading | BeaconReading)
        else r
        for r in readings
    ]


def test_the_marginal_likelihood_is_the_gaussian_integral_over_the_offset() -> None:
    """Against numeric integration of Π N(zⱼ − b; μⱼ, vⱼ)·N(b; 0, τ²) over b."""
    rng = np.random.default_rng(1)
    e, v, tau2 = rng.normal(3.0, 4.0, 5), rng.uniform(10, 40, 5), 9.0
    b = np.linspace(-60, 60, 200001)
    log_joint = (
        -0.5 * (((e[:, None] - b[None, :]) ** 2) / v[:, None]).sum(axis=0)
        - 0.5 * b**2 / tau2
        - 0.5 * np.log(2 * np.pi * tau2)
        - 0.5 * np.log(v).sum()
    )
    numeric = np.log(np.trapezoid(np.exp(log_joint), b))
    closed = marginal_log_likelihood(
        np.array([(e * e / v).sum()]),
        np.array([np.log(v).sum()]),
        np.array([(e / v).sum()]),
        np.array([(1 / v).sum()]),
        tau2,
    )[0]
    # The closed form leaves out the −½ log 2π per source (the same at every place).
    assert closed == pytest.approx(numeric, abs=1e-6)


def test_the_belief_moves_to_the_weighted_particles_offset() -> None:
    offset = RssiOffset()
    # Two particles: the heavy one says +6 dB (every source reads 6 dB over its mean there).
    c = np.array([4 / 16.0, 4 / 16.0])
    a = np.array([4 * 6.0 / 16.0, 4 * -6.0 / 16.0])
    for _ in range(20):
        offset.update(a - c * offset.mean_db, c, np.array([0.95, 0.05]), discount=1.0)
    assert offset.mean_db == pytest.approx(6.0 * 0.9, abs=1.0)
    assert offset.var_db2 < 2.0**2
    fp = Fingerprint(0, 0, {"a": -60.0})
    assert offset.correct(fp).rssi_dbm["a"] == pytest.approx(-60.0 - offset.mean_db)


def test_the_offset_of_a_walk_read_louder_is_learnt_and_its_loss_recovered(hall_survey):  # noqa: F811
    readings, waypoints = walk_readings(PATH, seed=91, access_points=HALL_APS)
    grid = WalkableGrid.from_plan(HALL)
    errors = {}
    for mode, shift in (("none", 0.0), ("none", SHIFT_DB), ("online", SHIFT_DB)):
        settings = TrackerSettings(weinberg_k=hall_survey.weinberg_k, rssi_offset=mode)
        tracker = Tracker(hall_survey.radio_map, grid, settings=settings)
        estimates = run(tracker, louder(readings, shift))
        errors[mode, shift] = np.mean(score_walk(estimates, waypoints).position_m)
        if mode == "online":
            assert tracker.rssi_offset.mean_db == pytest.approx(SHIFT_DB, abs=1.5)
            assert tracker.rssi_offset.scans > 5
    # The shifted walk ignoring the offset is worse; learning it gives back most of the loss.
    loss = errors["none", SHIFT_DB] - errors["none", 0.0]
    assert loss > 0.5
    assert errors["online", SHIFT_DB] < errors["none", 0.0] + 0.5 * loss


def test_without_the_option_the_offset_stays_zero(hall_survey):  # noqa: F811
    readings, _ = walk_readings(PATH[:2], seed=92, access_points=HALL_APS)
    tracker = Tracker(
        hall_survey.radio_map,
        WalkableGrid.from_plan(HALL),
        settings=TrackerSettings(weinberg_k=hall_survey.weinberg_k, rssi_offset="none"),
    )
    run(tracker, louder(readings, SHIFT_DB))
    assert tracker.rssi_offset.mean_db == 0.0


def test_the_offset_is_learnt_by_default(hall_survey):  # noqa: F811
    assert TrackerSettings().rssi_offset == "online"
