"""The multi-wall mean: wall crossings on a synthetic plan, and L recovered from a survey."""

import numpy as np
import shapely

from positioning import FloorPlan, Obstacle
from positioning.radiofield import RadioField
from positioning.radiomap import RadioMap, SurveyFingerprint
from positioning.scans import Fingerprint
from positioning.walkable import WalkableGrid
from positioning.walls import (
    fit_level_given_walls,
    fit_wall_loss,
    wall_crossings,
    wall_term,
)

# A 40 m × 20 m floor with one 10 m × 6 m shop in the middle (x 15–25, y 7–13).
PLAN = FloorPlan.rectangle("shop", 40.0, 20.0, (Obstacle("s", "shop", shapely.box(15, 7, 25, 13)),))
GRID = WalkableGrid.from_plan(PLAN)
# Exponent prior 2.5 ± 0.5, 6 dB reading σ, 6 dB Huber threshold, exponent limits (the field's).
FIT_ARGS = (2.5, 0.5, 6.0, 6.0, (1.5, 5.0))


def crossings(source: tuple[float, float], points: list[tuple[float, float]]) -> list[int]:
    return wall_crossings(GRID.free, GRID.cell_m, source, np.array(points)).tolist()


def test_a_ray_through_a_shop_crosses_two_walls_and_one_beside_it_none() -> None:
    # West of the shop to east of it, through it; then to places it does not hide.
    assert crossings((5.0, 10.0), [(35.0, 10.0), (10.0, 18.0), (20.0, 3.0)]) == [2, 0, 0]
    assert crossings((5.0, 4.0), [(35.0, 4.0), (35.0, 16.0)]) == [0, 2]


def test_a_source_inside_a_shop_crosses_one_wall_to_get_out() -> None:
    assert crossings((20.0, 10.0), [(5.0, 10.0), (20.0, 2.0), (30.0, 18.0)]) == [1, 1, 1]


def test_the_edge_of_the_plan_counts_as_blocked_but_the_phone_end_is_on_the_floor() -> None:
    # A source fitted just outside the plan crosses its outline once; a phone end that falls in
    # a blocked raster cell (the shop's edge) is taken as standing on the floor.
    assert crossings((-3.0, 3.0), [(5.0, 3.0)]) == [1]
    assert crossings((5.0, 10.0), [(15.1, 10.0)]) == [0]


def test_wall_term_caps_the_crossings() -> None:
    assert wall_term(np.array([0, 1, 2, 5, 9])).tolist()[:3] == [0.0, 1.0, 2.0]
    assert wall_term(np.array([9]))[0] == wall_term(np.array([50]))[0]


def synthetic_pairs(rng: np.random.Generator, loss_db: float) -> list[tuple[np.ndarray, ...]]:
    """Sources across the floor, references on a grid of the walkable floor: z from the
    multi-wall model with per-source P₁ and n, 4 dB reading noise."""
    cells = GRID.free_cells_xy()[::37]
    pairs = []
    for _ in range(12):
        source = (rng.uniform(2, 38), rng.uniform(2, 18))
        p1, n = rng.uniform(-45, -35), rng.uniform(2.0, 3.0)
        d = np.hypot(cells[:, 0] - source[0], cells[:, 1] - source[1])
        log_d = 0.5 * np.log10(d**2 + 1.0)
        walls = wall_term(wall_crossings(GRID.free, GRID.cell_m, source, cells))
        z = p1 - 10 * n * log_d - loss_db * walls + rng.normal(0, 4.0, len(cells))
        pairs.append((z, log_d, walls))
    return pairs


def test_the_fit_recovers_the_wall_loss_of_a_synthetic_survey() -> None:
    rng = np.random.default_rng(3)
    for loss in (0.0, 6.0):
        fitted = fit_wall_loss(synthetic_pairs(rng, loss), *FIT_ARGS)
        assert abs(fitted - loss) < 1.0, (loss, fitted)


def test_level_given_walls_recovers_p1_and_n() -> None:
    rng = np.random.default_rng(4)
    log_d = np.log10(rng.uniform(2, 40, 400))
    walls = rng.integers(0, 3, 400).astype(float)
    z = -40.0 - 10 * 2.2 * log_d - 5.0 * walls + rng.normal(0, 2.0, 400)
    p1, n = fit_level_given_walls(z, log_d, walls, 5.0, *FIT_ARGS)
    assert abs(p1 + 40.0) < 1.0
    assert abs(n - 2.2) < 0.15


def survey_map(loss_db: float) -> RadioMap:
    """Surveyors all over the floor (every 2nd metre both ways, 3 dB noise) hearing 8 access
    points spread over the floor through the multi-wall model (P₁ −38 dBm, n 2.3)."""
    rng = np.random.default_rng(7)
    aps = [(rng.uniform(2, 38), rng.uniform(2, 18)) for _ in range(8)]
    places = [(x, y) for x in np.arange(1.0, 40, 2) for y in np.arange(1.0, 20, 2)]
    places = [p for p in places if GRID.is_free(np.array([p[0]]), np.array([p[1]]))[0]]
    prints = []
    for i, (x, y) in enumerate(places):
        levels = {}
        for j, ap in enumerate(aps):
            walls = wall_term(wall_crossings(GRID.free, GRID.cell_m, ap, np.array([[x, y]])))[0]
            d2 = (x - ap[0]) ** 2 + (y - ap[1]) ** 2 + 1.0
            level = -38.0 - 23.0 * np.log10(np.sqrt(d2)) - loss_db * walls
            levels[f"ap{j}"] = float(level + rng.normal(0.0, 3.0))
        prints.append(SurveyFingerprint(f"w{i % 4}", x, y, Fingerprint(i, i, levels)))
    return RadioMap.from_survey(prints, frozenset())


def test_the_field_fits_the_wall_loss_from_its_survey_only_when_asked() -> None:
    radio_map = survey_map(6.0)
    field = RadioField(radio_map, GRID, walls=True)
    assert field.wall_loss_db is not None
    assert abs(field.wall_loss_db - 6.0) < 2.0
    assert RadioField(radio_map, GRID).wall_loss_db is None
    # No wall loss in the survey: none fitted.
    assert abs(RadioField(survey_map(0.0), GRID, walls=True).wall_loss_db or 0.0) < 1.5
