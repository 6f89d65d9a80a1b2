from __future__ import annotations

import csv
import json
from pathlib import Path

import numpy as np
import pytest
import shapely
from typer.testing import CliRunner

from aislecast.cli import app
from positioning.floorplan import read_floor
from simulator.run import SimulationSettings, simulate_to_folder
from simulator.store import load_store

from .walkparse import numeric, parse_walk

runner = CliRunner()


@pytest.fixture(scope="module")
def run_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("sim")
    result = runner.invoke(
        app,
        [
            "simulate",
            "--store",
            "demo",
            "--shoppers",
            "2",
            "--seed",
            "7",
            "--out",
            str(out),
            "--max-stops",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    return out


def _files(folder: Path) -> dict[str, bytes]:
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


def test_simulate_writes_a_floor_folder_that_read_floor_reads(run_dir: Path) -> None:
    floor_dir = run_dir / "demo-supermarket"
    plan = read_floor(floor_dir)
    store = load_store(run_dir / "store.json")
    assert (plan.width_m, plan.height_m) == (store.width_m, store.height_m)
    assert len(plan.obstacles) == len(store.obstacles)
    assert plan.walkable.area == pytest.approx(store.floor_plan().walkable.area, rel=1e-6)
    assert (floor_dir / "floor_image.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    walks = sorted((floor_dir / "path_data_files").glob("*.txt"))
    assert len(walks) == 2
    for walk in walks:
        _, rows = parse_walk(walk)
        waypoints = numeric(rows["TYPE_WAYPOINT"])
        assert len(waypoints) > 10
        inside = shapely.contains_xy(plan.walkable.buffer(1e-6), waypoints[:, 1], waypoints[:, 2])
        assert inside.all()


def test_walk_lines_have_the_recordings_columns(run_dir: Path) -> None:
    walk = next((run_dir / "demo-supermarket" / "path_data_files").glob("*.txt"))
    headers, rows = parse_walk(walk)
    assert headers[0].startswith("#\tstartTime:")
    assert headers[-1].startswith("#\tendTime:")
    assert any("\tFloorName:" in h for h in headers)
    widths = {
        "TYPE_ACCELEROMETER": 5,
        "TYPE_GYROSCOPE": 5,
        "TYPE_MAGNETIC_FIELD": 5,
        "TYPE_ROTATION_VECTOR": 5,
        "TYPE_BEACON": 9,
        "TYPE_WIFI": 6,
        "TYPE_WAYPOINT": 3,
    }
    assert set(rows) == set(widths)
    for kind, width in widths.items():
        assert {len(r) for r in rows[kind]} == {width}, kind
    beacon = rows["TYPE_BEACON"][0]
    assert beacon[0] == beacon[8]  # the trailing ms column repeats the row time
    assert beacon[1] == beacon[1].upper()
    assert len(beacon[7].split(":")) == 6
    int(beacon[5])  # RSSI is an integer
    wifi = rows["TYPE_WIFI"]
    assert all(int(r[5]) <= int(r[0]) for r in wifi)  # last seen never after the scan
    # Sensor rows come ~50 Hz.
    t = numeric(rows["TYPE_ACCELEROMETER"])[:, 0]
    assert np.median(np.diff(t)) == 20


def test_csvs_follow_the_contract_and_link_up(run_dir: Path) -> None:
    def table(name: str) -> list[dict[str, str]]:
        with (run_dir / name).open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    products, customers, purchases = (
        table("products.csv"),
        table("customers.csv"),
        table("purchases.csv"),
    )
    assert list(products[0]) == ["sku", "name", "category", "price"]
    assert list(customers[0]) == ["customer_id", "gender", "age", "tier", "consents"]
    assert list(purchases[0]) == ["basket_id", "customer_id", "t_ms", "sku", "quantity", "price"]
    skus, ids = {p["sku"] for p in products}, {c["customer_id"] for c in customers}
    assert all(p["sku"] in skus and p["customer_id"] in ids for p in purchases)
    purposes = {"location_analytics", "personalised_offers", "signage"}
    assert all(set(filter(None, c["consents"].split(";"))) <= purposes for c in customers)
    assert {c["gender"] for c in customers} <= {"female", "male", "other", "unknown"}
    zones = load_store(run_dir / "store.json").zones
    shelf_categories = {c for z in zones for c in z.categories}
    assert {p["category"] for p in products} == shelf_categories
    category_of = {p["sku"]: p["category"] for p in products}
    for zone in zones:
        assert {category_of[sku] for sku in zone.skus} == set(zone.categories)


def test_same_seed_same_bytes_and_another_seed_other_walks(run_dir: Path, tmp_path: Path) -> None:
    store = load_store(run_dir / "store.json")
    settings = SimulationSettings(max_stops=3)
    simulate_to_folder(store, 2, 7, tmp_path / "a", settings)
    simulate_to_folder(store, 2, 7, tmp_path / "b", settings)
    simulate_to_folder(store, 2, 8, tmp_path / "c", settings)
    first, second, other = _files(tmp_path / "a"), _files(tmp_path / "b"), _files(tmp_path / "c")
    assert first == second
    walks = lambda files: {k: v for k, v in files.items() if "path_data_files" in k}  # noqa: E731
    assert set(walks(first).values()).isdisjoint(walks(other).values())


def test_cli_rejects_a_malformed_store_with_the_reason(tmp_path: Path) -> None:
    bad = tmp_path / "store.json"
    bad.write_text(json.dumps({"name": "x", "width_m": -3, "height_m": 10}), encoding="utf-8")
    result = runner.invoke(app, ["simulate", "--store", str(bad), "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "width_m: must be positive" in result.output


@pytest.mark.ilc
def test_a_recorded_mall_floor_becomes_a_store_shoppers_walk(
    ilc_floor_dirs: list[Path], tmp_path: Path
) -> None:
    from simulator.ilc_store import ilc_store

    store = ilc_store(ilc_floor_dirs[0], seed=1)
    walkable = store.floor_plan().walkable
    assert len(store.beacons) > 20
    assert all(walkable.buffer(1.0).contains(shapely.Point(b.x, b.y)) for b in store.beacons)
    summary = simulate_to_folder(store, 1, 3, tmp_path, SimulationSettings(max_stops=2))
    assert len(load_store(summary.store_path).obstacles) == len(store.obstacles)
    plan = read_floor(summary.floor_dir)
    _, rows = parse_walk(summary.walks[0].path)
    waypoints = numeric(rows["TYPE_WAYPOINT"])
    assert shapely.contains_xy(plan.walkable.buffer(0.01), waypoints[:, 1], waypoints[:, 2]).all()


@pytest.mark.ilc
def test_simulate_accepts_a_recorded_floor_by_name(
    ilc_floor_dirs: list[Path], tmp_path: Path
) -> None:
    floor = ilc_floor_dirs[-1]
    spec = f"ilc:{floor.parent.name}/{floor.name}"
    args = [
        "simulate",
        "--store",
        spec,
        "--shoppers",
        "1",
        "--max-stops",
        "1",
        "--out",
        str(tmp_path),
    ]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    written = read_floor(tmp_path / f"{floor.parent.name}-{floor.name}")
    assert len(written.obstacles) == len(read_floor(floor).obstacles)
    missing = runner.invoke(app, ["simulate", "--store", "ilc:nowhere/F9", "--out", str(tmp_path)])
    assert missing.exit_code == 2
    assert "no floor folder" in missing.output


def test_a_bare_store_definition_still_simulates(tmp_path: Path) -> None:
    bare = {
        "name": "hall",
        "width_m": 20,
        "height_m": 10,
        "entrances": [{"id": "door", "x": 1, "y": 1}],
    }
    (tmp_path / "store.json").write_text(json.dumps(bare), encoding="utf-8")
    result = runner.invoke(
        app,
        [
            "simulate",
            "--store",
            str(tmp_path / "store.json"),
            "--shoppers",
            "1",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 0, result.output
    _, rows = parse_walk(next((tmp_path / "o" / "hall" / "path_data_files").glob("*.txt")))
    assert rows["TYPE_ACCELEROMETER"]
    assert "TYPE_BEACON" not in rows


def test_a_store_without_an_entrance_is_refused_with_the_reason(tmp_path: Path) -> None:
    (tmp_path / "store.json").write_text(
        json.dumps({"name": "hall", "width_m": 20, "height_m": 10}), encoding="utf-8"
    )
    result = runner.invoke(
        app, ["simulate", "--store", str(tmp_path / "store.json"), "--out", str(tmp_path / "o")]
    )
    assert result.exit_code == 2
    assert "no entrance" in result.output


def _row_counts(folder: Path) -> dict[str, int]:
    counts: dict[str, int] = {}
    for walk in folder.rglob("path_data_files/*.txt"):
        for line in walk.read_text(encoding="utf-8").splitlines():
            kind = line.split("\t")[1] if "\t" in line and not line.startswith("#") else ""
            counts[kind] = counts.get(kind, 0) + 1
    return counts


def test_scanner_options_reach_the_phones(run_dir: Path, tmp_path: Path) -> None:
    args = ["simulate", "--store", "demo", "--shoppers", "2", "--seed", "7", "--max-stops", "3"]
    sparse = [*args, "--out", str(tmp_path), "--ble-receive-ratio", "0.02"]
    result = runner.invoke(app, [*sparse, "--wifi-scan-interval-s", "30"])
    assert result.exit_code == 0, result.output

    default, throttled = _row_counts(run_dir), _row_counts(tmp_path)
    # Same walks (same seed); a phone reporting 2 % of packets hears far fewer beacon rows, and
    # one scanning Wi-Fi every 30 s instead of every 2 s lists far fewer access points.
    assert throttled["TYPE_WAYPOINT"] == default["TYPE_WAYPOINT"]
    assert throttled["TYPE_BEACON"] < default["TYPE_BEACON"] / 10
    assert throttled["TYPE_WIFI"] < default["TYPE_WIFI"] / 5
