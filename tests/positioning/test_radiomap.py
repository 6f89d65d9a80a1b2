import numpy as np
import pytest

from positioning.radiomap import (
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
