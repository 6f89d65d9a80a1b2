import math

import pytest

from positioning.readings import (
    AccelReading,
    BeaconReading,
    GyroReading,
    MagReading,
    RotationVectorReading,
    WifiReading,
)
from positioning.walkfile import WalkFormatError, Waypoint, read_walk, write_walk

READINGS = [
    AccelReading(1000, 0.1, 0.2, 9.8),
    GyroReading(1000, 0.01, -0.02, 0.03),
    MagReading(1000, 20.0, -5.0, -40.0),
    RotationVectorReading(1000, 0.01, 0.02, 0.5),
    WifiReading(1500, "aa:bb:cc:dd:ee:ff", -60.0, 1400, "shop-wifi", 2437),
    BeaconReading(1600, "FDA50693-A4E2_10073_61418_AA:BB:CC:DD:EE:FF", -75.0, -59.0),
    BeaconReading(1650, "entrance-1", -70.0),
    AccelReading(1200, 0.0, 0.0, 9.81),  # arrives late: order of arrival is kept
]


def test_written_walk_reads_back_with_readings_in_arrival_order(tmp_path):
    waypoints = [Waypoint(900, 1.5, 2.5), Waypoint(1700, 3.0, 4.0)]
    path = write_walk(tmp_path / "w1.txt", READINGS, waypoints, {"startTime": "900"})
    walk = read_walk(path)
    assert walk.name == "w1"
    assert list(walk.readings) == READINGS
    assert list(walk.waypoints) == waypoints
    assert walk.start_ms == 900
    assert walk.skipped == {}


def test_waypoints_never_appear_among_the_readings(tmp_path):
    path = write_walk(tmp_path / "w.txt", READINGS[:2], [Waypoint(1000, 1.0, 1.0)])
    walk = read_walk(path)
    assert all(not isinstance(r, Waypoint) for r in walk.readings)
    assert len(walk.waypoints) == 1


def test_bad_rows_are_skipped_and_counted_by_reason(tmp_path):
    lines = [
        "#\tstartTime:1000",
        "1000\tTYPE_ACCELEROMETER\t0.1\t0.2\t9.8\t3",
        "1020\tTYPE_ACCELEROMETER\tNaN\t0.2\t9.8\t3",
        "1040\tTYPE_GYROSCOPE\t0.1\tnot-a-number\t0.3\t3",
        "1060\tTYPE_SOMETHING_NEW\t1\t2",
        "1080\tTYPE_ACCELEROMETER_UNCALIBRATED\t1\t2\t3\t0\t0\t0\t3",
        "garbage",
        "1100\tTYPE_WIFI\tssid\tbssid\t-60",  # truncated row
        "",
        "1120\tTYPE_WAYPOINT\tinf\t2.0",
    ]
    (tmp_path / "bad.txt").write_text("\n".join(lines), encoding="utf-8")
    walk = read_walk(tmp_path / "bad.txt")
    assert len(walk.readings) == 1
    assert walk.skipped == {
        "non-finite value": 2,
        "malformed TYPE_GYROSCOPE": 1,
        "unknown type": 1,
        "unused type": 1,
        "too few fields": 1,
        "malformed TYPE_WIFI": 1,
    }


def test_empty_and_missing_walks_raise_with_the_reason(tmp_path):
    (tmp_path / "empty.txt").write_text("#\tstartTime:1\n", encoding="utf-8")
    with pytest.raises(WalkFormatError, match="no readings"):
        read_walk(tmp_path / "empty.txt")
    with pytest.raises(WalkFormatError, match="cannot read"):
        read_walk(tmp_path / "absent.txt")


def test_writing_a_non_finite_value_is_refused(tmp_path):
    with pytest.raises(WalkFormatError, match="non-finite"):
        write_walk(tmp_path / "x.txt", [AccelReading(1, math.nan, 0.0, 9.8)])
