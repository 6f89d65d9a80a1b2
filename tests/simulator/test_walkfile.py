from __future__ import annotations

from pathlib import Path

import pytest

from simulator.walkfile import (
    ACCELEROMETER,
    BEACON,
    WAYPOINT,
    WIFI,
    WalkHeader,
    WalkRow,
    format_value,
    write_walk_file,
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
    path = write_walk_file(tmp_path / "walk.txt", HEADER, rows)
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
