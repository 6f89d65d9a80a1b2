"""The GP radio field on a synthetic floor: two surveyed corridors, access points off the paths.

Corridors run along y = 0 and y = 20 (x = 0…60), surveyed every 0.5 m; the access points stand
between them and the level has a smooth wall loss the log-distance model cannot express, so
there is something for the Gaussian process to learn near the survey.
"""

from __future__ import annotations

import numpy as np
import pytest

from positioning.radiofield import (
    REACH_LENGTHS,
    RadioField,
    _unit_kernel,
    fit_field_hyper,
    fit_source_models,
)
from positioning.radiomap import RadioMap, SurveyFingerprint
from positioning.scans import Fingerprint
from positioning.tracker import Tracker, TrackerSettings
from positioning.walkable import WalkableGrid

ACCESS_POINTS = [(10.0, 8.0), (30.0, 12.0), (50.0, 10.0), (20.0, 11.0), (40.0, 9.0)]


def level_dbm(i: int, x: float, y: float, wall_db: float = 4.0) -> float:
    """−40 dBm at 1 m, n = 2.5, and a wall loss that waves along x (±``wall_db``)."""
    ax, ay = ACCESS_POINTS[i]
    d = max(1.0, float(np.hypot(x - ax, y - ay)))
    return -40.0 - 25.0 * float(np.log10(d)) + wall_db * float(np.sin(x / 5.0 + i))


def levels_at(x: float, y: float, wall_db: float = 4.0) -> dict[str, float]:
    return {f"ap{i}": level_dbm(i, x, y, wall_db) for i in range(len(ACCESS_POINTS))}


def survey(rng: np.random.Generator, wall_db: float = 4.0) -> list[SurveyFingerprint]:
    """Six walks: three along each corridor, readings every 0.5 m with 2 dB noise."""
    prints = []
    for walk in range(6):
        y = 0.0 if walk % 2 == 0 else 20.0
        for i in range(121):
            x = i / 2
            heard = levels_at(x, y, wall_db)
            noisy = {k: v + float(rng.normal(0.0, 2.0)) for k, v in heard.items()}
            prints.append(SurveyFingerprint(f"walk{walk}", x, y, Fingerprint(i, i, noisy)))
    return prints


# The floor: 60 m × 100 m of open floor at 1 m cells (the corridors hug its south side, so the
# field reaches places far beyond the kernel's reach).
FLOOR = WalkableGrid(np.ones((100, 60), dtype=bool), 1.0, 60.0, 100.0)


@pytest.fixture(scope="module")
def field() -> RadioField:
    radio_map = RadioMap.from_survey(survey(np.random.default_rng(3)), frozenset())
    return RadioField(radio_map, FLOOR)


def field_at(field: RadioField, source: str, x: float, y: float) -> tuple[float, float]:
    mean, var = field.source_field(field.radio_map.column[source])
    cell = field.cell_of(np.array([x]), np.array([y]))[0]
    return float(mean[cell]), float(var[cell])


def test_variance_grows_away_from_the_references(field: RadioField) -> None:
    on_path = field_at(field, "ap1", 30.0, 0.0)[1]
    beside = field_at(field, "ap1", 30.0, 5.0)[1]
    between = field_at(field, "ap1", 30.0, 10.0)[1]
    far = field_at(field, "ap1", 30.0, 90.0)[1]
    prior = field.hyper.signal_db**2 + field.hyper.noise_db**2
    assert on_path < beside < between <= far
    assert far == pytest.approx(prior, rel=1e-4)
    assert on_path < 0.8 * prior


def test_field_learns_the_wall_loss_near_the_survey(field: RadioField) -> None:
    """On the surveyed path the GP mean follows the true level better than the model alone."""
    col = field.radio_map.column["ap2"]
    xs = np.arange(1.0, 60.0, 2.0)
    gp_error, model_error = [], []
    for x in xs:
        truth = level_dbm(2, x, 0.0)
        gp_error.append(abs(field_at(field, "ap2", x, 0.0)[0] - truth))
        model = field.models.level_dbm(col, np.array([x]), np.array([0.0]))[0]
        model_error.append(abs(model - truth))
    assert np.mean(gp_error) < 0.6 * np.mean(model_error)


def likelihood_over_floor(field: RadioField, truth: tuple[float, float], residual: bool = True):
    xs, ys = np.meshgrid(np.arange(1.0, 60.0, 2.0), np.arange(1.0, 99.0, 2.0))
    x, y = xs.ravel(), ys.ravel()
    log_l = field.log_likelihood(Fingerprint(0, 0, levels_at(*truth)), x, y, residual)
    assert log_l is not None
    return x, y, log_l


def test_likelihood_peaks_at_the_true_cell_where_surveyed(field: RadioField) -> None:
    for truth in [(25.0, 0.0), (47.0, 20.0)]:
        x, y, log_l = likelihood_over_floor(field, truth)
        peak = int(np.argmax(log_l))
        assert np.hypot(x[peak] - truth[0], y[peak] - truth[1]) <= 2.5


def test_the_residual_has_no_say_far_from_the_survey(field: RadioField) -> None:
    """Beyond the kernel's reach the field is the propagation model with the prior variance:
    the GP's log-likelihood minus that of the model alone is the same at every far cell."""
    x, y, gp = likelihood_over_floor(field, (25.0, 0.0))
    reach = REACH_LENGTHS * field.hyper.length_m
    far = y > 20.0 + reach + 2.0
    near = (y < 2.0) | (np.abs(y - 20.0) < 1.5)
    assert far.sum() > 20
    h = field.hyper
    prior = h.signal_db**2 + h.noise_db**2
    scan = levels_at(25.0, 0.0)
    model_only = np.zeros(len(x))
    for source, z in scan.items():
        m = field.models.level_dbm(field.radio_map.column[source], *_cell_centres(field, x, y))
        model_only += -0.5 * (z - m) ** 2 / prior - 0.5 * np.log(prior)
    model_only /= max(1.0, len(scan) / 4.0)
    say = gp - model_only
    assert np.ptp(say[far]) < 1e-3
    assert np.ptp(say[near]) > 1.0


def _cell_centres(field: RadioField, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, ...]:
    cell = field.cell_of(x, y)
    return field._cells_xy[cell, 0], field._cells_xy[cell, 1]


def test_source_positions_fit_off_the_surveyed_path() -> None:
    """With pure log-distance levels the fit puts the access points between the corridors,
    where the strongest references' centroid (on a surveyed path) cannot."""
    radio_map = RadioMap.from_survey(survey(np.random.default_rng(4), wall_db=0.0), frozenset())
    field = RadioField(radio_map, FLOOR)
    fitted, centroid = [], []
    for i, (ax, ay) in enumerate(ACCESS_POINTS):
        col = radio_map.column[f"ap{i}"]
        fitted.append(np.hypot(*(field.models.xy[col] - (ax, ay))))
        centroid.append(np.hypot(*(radio_map.source_xy[col] - (ax, ay))))
        assert field.models.exponent[col] == pytest.approx(2.5, abs=0.3)
    assert max(fitted) < 1.5
    assert np.median(fitted) < 0.5 * np.median(centroid)


def test_source_fit_stays_inside_the_bounds() -> None:
    """A source heard loudest at the east edge of the references is not fitted off the floor."""
    positions = np.column_stack([np.arange(0.0, 20.0), np.zeros(20)])
    rssi = (-30.0 - 0.5 * (20.0 - positions[:, 0]))[:, None].astype(np.float32)
    models = fit_source_models(rssi, positions, np.array([[19.0, 0.0]]), (0.0, -5.0, 20.0, 5.0))
    assert 0.0 <= models.xy[0, 0] <= 20.0
    assert -5.0 <= models.xy[0, 1] <= 5.0


def test_hyperparameters_come_from_the_marginal_likelihood() -> None:
    """Residuals drawn from a GP with ℓ = 6 m, σ_f = 4 dB, σ_n = 2 dB are fitted back."""
    rng = np.random.default_rng(7)
    supports = []
    for _ in range(30):
        xy = rng.uniform(0.0, 40.0, (60, 2))
        cov = 16.0 * _unit_kernel(xy, xy, 6.0) + 4.0 * np.eye(60)
        r = rng.multivariate_normal(np.zeros(60), cov)
        supports.append((xy, r, np.ones(60)))
    hyper = fit_field_hyper(supports)
    assert hyper.length_m in (4.0, 6.0, 8.0)
    assert hyper.signal_db == pytest.approx(4.0, rel=0.3)
    assert hyper.noise_db == pytest.approx(2.0, rel=0.3)


def test_leave_one_out_field_never_sees_the_held_out_walk() -> None:
    """A field on ``without(walk)`` equals one built from the other walks only."""
    prints = survey(np.random.default_rng(5))
    # The held-out walk alone hears one more access point.
    held = "walk3"
    prints = [
        SurveyFingerprint(
            s.walk, s.x, s.y, Fingerprint(0, 0, {**s.fingerprint.rssi_dbm, "only3": -50.0})
        )
        if s.walk == held
        else s
        for s in prints
    ]
    masked = RadioField(RadioMap.from_survey(prints, frozenset()).without([held]))
    others = RadioField(RadioMap.from_survey([s for s in prints if s.walk != held], frozenset()))
    assert masked.hyper == others.hyper
    assert not masked.models.fitted[masked.radio_map.column["only3"]]
    for source in levels_at(0.0, 0.0):
        a, b = masked.radio_map.column[source], others.radio_map.column[source]
        np.testing.assert_allclose(masked.models.xy[a], others.models.xy[b], atol=1e-9)
        np.testing.assert_allclose(masked.source_field(a)[0], others.source_field(b)[0], atol=1e-4)
        np.testing.assert_allclose(masked.source_field(a)[1], others.source_field(b)[1], atol=1e-4)
    scan = Fingerprint(0, 0, {**levels_at(30.0, 20.0), "only3": -50.0})
    x, y = np.array([30.0, 10.0]), np.array([20.0, 0.0])
    np.testing.assert_allclose(masked.log_likelihood(scan, x, y), others.log_likelihood(scan, x, y))


def first_cloud_error(field: RadioField, first_fix: str, truth: tuple[float, float]) -> float:
    """Weighted mean distance of the first cloud's particles from where the scan was heard."""
    settings = TrackerSettings(radio_likelihood="projected+gp", first_fix=first_fix, seed=1)
    tracker = Tracker(field.radio_map, FLOOR, settings=settings, radio_field=field)
    scan = Fingerprint(0, 0, levels_at(*truth))
    fix = field.radio_map.match(scan)
    assert fix is not None
    tracker._now_ms = 0
    tracker._on_fix(fix, scan)
    cloud = tracker._cloud
    assert cloud is not None
    return float(cloud.weight @ np.hypot(cloud.x - truth[0], cloud.y - truth[1]))


def test_first_fix_from_the_field_seeds_where_no_survey_walked(field: RadioField) -> None:
    """A first scan from between the corridors: the k-NN candidates can only name the corridors;
    seeded over the field's cells the cloud gathers where the scan was heard."""
    truth = (30.0, 10.0)
    from_candidates = first_cloud_error(field, "candidates", truth)
    from_field = first_cloud_error(field, "field", truth)
    assert from_field < 0.6 * from_candidates
    assert from_field < 5.0
