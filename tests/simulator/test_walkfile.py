from __future__ import annotations

import math
from pathlib import Path

import pytest

from positioning.readings import AccelReading, BeaconReading, WifiReading
from positioning.walkfile import (
    ACCELEROMETER,
    BEACON,
    WAYPOINT,
    WIFI,
    WalkFormatError,
    WalkHeader,
    WalkRow,
    Waypoint,
    format_value,
    read_walk,
    write_walk,
)

from .walkparse import parse_walk

HEADER = WalkHeader("site", "Demo", "F1", "F1", "Google", "Pixel 6")


def test_written_rows_parse_back_to_the_same_values(tmp_path: Path) -> None:
    rows = [
        WalkRow(1000, ACCELEROMETER, (-0.85562134, 1.8243561, 9.826508, 3)),
        WalkRow(
            1005,
            BEACON,
            ("A15CA57D-0000", 1, 7, -59, -84, 20.608563656834086, "E0:78:A3:3D:B5:09", 1005),
        ),
        WalkRow(1010, WIFI, ("store-guest", "a8:0c:ca:03:9d:d7", -49, 2422, 995)),
        WalkRow(1020, WAYPOINT, (81.317215, 93.31349)),
        WalkRow(1040, ACCELEROMETER, (6.2561035e-4, -1.0, 9.8, 3)),
    ]
    path = write_walk(tmp_path / "walk.txt", rows, header=HEADER)
    headers, parsed = parse_walk(path)
    assert headers[0] == "#\tstartTime:1000"
    assert headers[-1] == "#\tendTime:1040"
    assert "\tBrand:Google\tModel:Pixel 6\t" in "\n".join(headers)
    accel = parsed[ACCELEROMETER]
    assert [float(v) for v in accel[0][1:4]] == pytest.approx(
        [-0.85562134, 1.8243561, 9.826508], rel=1e-7
    )
    assert accel[0][4] == "3"
    assert float(accel[1][1]) == pytest.approx(6.2561035e-4)
    assert parsed[BEACON][0] == [
        "1005",
        "A15CA57D-0000",
        "1",
        "7",
        "-59",
        "-84",
        "20.608564",
        "E0:78:A3:3D:B5:09",
        "1005",
    ]
    assert parsed[WIFI][0] == ["1010", "store-guest", "a8:0c:ca:03:9d:d7", "-49", "2422", "995"]
    assert parsed[WAYPOINT][0] == ["1020", "81.317215", "93.31349"]


def test_numbers_print_like_the_recordings() -> None:
    assert format_value(9.80665) == "9.80665"
    assert format_value(-84) == "-84"
    assert format_value(3.0) == "3"
    assert format_value(True) == "1"
    assert format_value("FMI") == "FMI"


def test_one_writer_takes_readings_and_raw_rows_and_positioning_reads_both(tmp_path: Path) -> None:
    rows = [
        AccelReading(1000, 0.25, -0.5, 9.81),
        WalkRow(1010, WIFI, ("store-guest", "a8:0c:ca:03:9d:d7", -49, 2422, 995)),
        WalkRow(1020, BEACON, ("U", 1, 7, -59, -84, 20.6, "E0:78", 1020)),
    ]
    path = write_walk(tmp_path / "mixed.txt", rows, [Waypoint(1005, 1.5, 2.5)], HEADER)
    walk = read_walk(path)
    assert walk.readings == (
        AccelReading(1000, 0.25, -0.5, 9.81),
        WifiReading(1010, "a8:0c:ca:03:9d:d7", -49.0, 995, "store-guest", 2422),
        BeaconReading(1020, "U_1_7_E0:78", -84.0, -59.0),
    )
    assert walk.waypoints == (Waypoint(1005, 1.5, 2.5),)
    assert walk.header["startTime"] == "1000"
    assert walk.header["endTime"] == "1020"
    assert walk.skipped == {}


def test_a_raw_row_with_a_non_finite_value_is_refused(tmp_path: Path) -> None:
    with pytest.raises(WalkFormatError, match="non-finite"):
        write_walk(tmp_path / "bad.txt", [WalkRow(1, ACCELEROMETER, (math.nan, 0.0, 9.8, 3))])
