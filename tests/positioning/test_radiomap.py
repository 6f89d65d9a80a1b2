import numpy as np
import pytest

from positioning.radiomap import (
    MISSING_DBM,
    STRENGTH_SCALE_DB,
    RadioMap,
    SurveyFingerprint,
    interpolate_position,
    place_independent_sources,
)
from positioning.readings import BeaconReading, WifiReading
from positioning.scans import MAX_WIFI_AGE_MS, Fingerprint, ScanAssembler
from positioning.walkfile import Waypoint


def test_stale_and_repeated_wifi_entries_are_left_out_of_fingerprints():
    assembler = ScanAssembler()
    scan1 = [
        WifiReading(10_000, "fresh", -50.0, 9_800),
        WifiReading(10_000, "stale", -60.0, 10_000 - MAX_WIFI_AGE_MS - 1),
        WifiReading(10_000, "other", -70.0, 9_600),
    ]
    out = [fp for r in scan1 for fp in assembler.push(r)]
    assert out == []  # the scan is complete only when something else arrives
    out = assembler.push(BeaconReading(10_050, "b", -80.0))
    assert len(out) == 1
    # The first fingerprint accepts older entries (nothing else to start from) …
    assert set(out[0].rssi_dbm) == {"fresh", "stale", "other"}
    scan2 = [
        WifiReading(12_000, "fresh", -52.0, 11_900),
        WifiReading(12_000, "stale", -61.0, 12_000 - MAX_WIFI_AGE_MS - 1),  # older than allowed
        WifiReading(12_000, "other", -70.0, 9_600),  # cached: not heard again since scan 1
        WifiReading(12_000, "new", -65.0, 11_700),
    ]
    out = [fp for r in scan2 for fp in assembler.push(r)] + assembler.flush()
    assert len(out) == 1
    assert set(out[0].rssi_dbm) == {"fresh", "new", "b"}
    assert out[0].heard_ms == 11_900  # median time the kept entries were heard
    assert out[0].t_ms == 12_000


def test_positions_interpolate_between_waypoints_and_not_beyond():
    wps = [Waypoint(0, 0.0, 0.0), Waypoint(10, 10.0, 20.0)]
    assert interpolate_position(wps, 5) == (5.0, 10.0)
    assert interpolate_position(wps, 11) is None


def grid_survey(moving_rssi: float | None, seed: int) -> list[SurveyFingerprint]:
    rng = np.random.default_rng(seed)
    aps = rng.uniform(0, 60, (20, 2))
    prints = []
    for i, (x, y) in enumerate((x, y) for x in range(0, 61, 3) for y in range(0, 61, 3)):
        rssi = {
            f"ap{j}": -35 - 20 * np.log10(max(1.0, np.hypot(x - ax, y - ay))) + rng.normal(0, 2)
            for j, (ax, ay) in enumerate(aps)
        }
        rssi["FIXED_1_2_AA:BB"] = (
            -59 - 20 * np.log10(max(1.0, np.hypot(x - 30, y - 30))) + rng.normal(0, 2)
        )
        if moving_rssi is not None:
            rssi["TAG_1_1_CC:DD"] = moving_rssi + rng.normal(0, 2)
        prints.append(
            SurveyFingerprint(f"walk{i % 7}", float(x), float(y), Fingerprint(i, i, rssi))
        )
    return prints


def test_a_beacon_heard_alike_everywhere_is_found_place_independent_and_dropped():
    survey = grid_survey(moving_rssi=-70.0, seed=1)
    moving = place_independent_sources(survey)
    assert moving == frozenset({"TAG_1_1_CC:DD"})
    radio_map = RadioMap.from_survey(survey)  # finds them itself from its references
    assert radio_map.ignored_ids == moving
    assert radio_map.distances_db({"TAG_1_1_CC:DD": -70.0})[1] == 0  # never matched on
    assert radio_map.distances_db({"FIXED_1_2_AA:BB": -70.0})[1] == 1
    held_out = radio_map.without(["walk0", "walk1", "walk2", "walk3", "walk4", "walk5"])
    assert held_out.ignored_ids == place_independent_sources(
        [s for s in survey if s.walk == "walk6"]
    )


def test_matching_a_scan_returns_its_place_with_an_honest_uncertainty():
    survey = grid_survey(moving_rssi=None, seed=2)
    radio_map = RadioMap.from_survey(survey, frozenset())
    errors, inside = [], []
    for probe in survey[::9]:
        held_out = radio_map.without([probe.walk])
        assert len(held_out) < len(radio_map)
        assert probe.walk not in set(held_out.walks)
        fix = held_out.match(probe.fingerprint)
        assert fix is not None
        err = float(np.hypot(fix.x - probe.x, fix.y - probe.y))
        errors.append(err)
        inside.append(err <= 2.0 * fix.sigma_m)
        assert fix.candidate_weights.sum() == pytest.approx(1.0)
    assert np.median(errors) < 3.0
    assert np.mean(inside) > 0.8  # the 2σ radius holds the truth most of the time


def test_a_scan_the_map_does_not_know_is_not_matched():
    radio_map = RadioMap.from_survey(grid_survey(None, seed=3), frozenset())
    assert radio_map.match(Fingerprint(0, 0, {"unknown1": -50.0, "unknown2": -60.0})) is None


def brute_force_distances(
    radio_map: RadioMap, query: dict[str, float], scale_db: float | None
) -> np.ndarray:
    """The k-NN distance by its definition: Σ w·|q − r| / Σ w over the sources either side heard,
    an unheard level counting as MISSING_DBM, w = exp((louder level − MISSING_DBM) / scale)."""
    out = []
    for row in radio_map.rssi.astype(np.float64):
        heard_q = {radio_map.column[s]: max(v, MISSING_DBM) for s, v in query.items()}
        cols = sorted(set(heard_q) | set(np.nonzero(row > MISSING_DBM)[0]))
        q = np.array([heard_q.get(c, MISSING_DBM) for c in cols])
        r = row[cols]
        louder = np.maximum(q, r) - MISSING_DBM
        w = np.ones(len(cols)) if scale_db is None else np.exp(louder / scale_db)
        out.append((w * np.abs(q - r)).sum() / w.sum())
    return np.array(out)


@pytest.mark.parametrize("scale_db", [STRENGTH_SCALE_DB, 4.0, None])
def test_the_distance_is_the_strength_weighted_mean_difference(scale_db: float | None) -> None:
    rng = np.random.default_rng(5)
    sources = [f"ap{j}" for j in range(12)]
    rssi = rng.uniform(-100, -35, size=(9, len(sources))).astype(np.float32)
    rssi[rng.random(rssi.shape) < 0.4] = MISSING_DBM  # each reference misses some sources
    positions = rng.uniform(0, 30, size=(9, 2))
    radio_map = RadioMap(sources, rssi, positions, ["w"] * 9, frozenset(), scale_db)
    # Heard by the query: some sources the references missed, one below MISSING_DBM, one unknown.
    query = {"ap0": -41.0, "ap3": -97.0, "ap5": -63.5, "ap8": -110.0, "ap11": -72.0}
    got, known = radio_map.distances_db({**query, "not-in-map": -50.0})
    assert known == len(query)
    np.testing.assert_allclose(got, brute_force_distances(radio_map, query, scale_db), rtol=1e-5)


def test_strong_sources_outvote_many_weak_ones() -> None:
    # Place A stands by two access points; B is 30 m off. Eight weak sources heard at A in the
    # survey are missed by the scan, eight others it hears weakly were only heard at B: equal
    # weights let the sixteen weak ones outvote the two strong ones, strength weights do not.
    strong = {"s1": (-45.0, -75.0), "s2": (-50.0, -80.0)}
    weak_a = [f"a{j}" for j in range(8)]
    weak_b = [f"b{j}" for j in range(8)]
    rng = np.random.default_rng(6)
    survey = []
    for i in range(6):
        at_a = i % 2 == 0
        x = (0.0 if at_a else 30.0) + rng.uniform(-1, 1)
        rssi = {s: levels[0 if at_a else 1] + rng.normal(0, 1) for s, levels in strong.items()}
        rssi |= {s: -92.0 + rng.normal(0, 1) for s in (weak_a if at_a else weak_b)}
        survey.append(SurveyFingerprint(f"walk{i}", x, 0.0, Fingerprint(i, i, rssi)))
    scan = Fingerprint(0, 0, {"s1": -46.0, "s2": -51.0} | dict.fromkeys(weak_b, -93.0))
    weighted = RadioMap.from_survey(survey, frozenset())
    uniform = RadioMap.from_survey(survey, frozenset(), strength_scale_db=None)
    fix, old_fix = weighted.match(scan), uniform.match(scan)
    assert fix is not None
    assert old_fix is not None
    assert abs(fix.x) < 2.0  # at A, where the scan was heard
    assert abs(old_fix.x - 30.0) < 2.0  # the equal-weight distance put it at B


def test_a_held_out_map_keeps_its_weighting_and_bad_scales_are_refused() -> None:
    survey = grid_survey(moving_rssi=None, seed=7)
    for scale_db in (STRENGTH_SCALE_DB, None):
        radio_map = RadioMap.from_survey(survey, frozenset(), strength_scale_db=scale_db)
        held_out = radio_map.without(["walk0"])
        assert held_out.strength_scale_db == scale_db
        rebuilt = RadioMap.from_survey(
            [s for s in survey if s.walk != "walk0"], frozenset(), strength_scale_db=scale_db
        )
        probe = survey[0].fingerprint.rssi_dbm
        np.testing.assert_allclose(
            held_out.distances_db(probe)[0], rebuilt.distances_db(probe)[0], rtol=1e-6
        )
    for bad in (0.0, -3.0, float("nan")):
        with pytest.raises(ValueError, match="strength_scale_db"):
            RadioMap.from_survey(survey, frozenset(), strength_scale_db=bad)
