"""``aislecast db rollup`` closes days and ``aislecast report`` writes every table, the heatmaps
and the flow, with an index linking them (SQLite file through DATABASE_URL, like ``serve``)."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from aislecast.cli import app
from server.analytics_rollup import day_bounds
from server.database import Database, upgrade_to_head
from server.tables import PresenceRollupRow
from tests.server.analytics_seed import DAYS, FIRST_DAY, TIME_ZONE, add_days, add_store


def test_rollup_and_report_commands(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'report.sqlite3'}"
    database = Database.connect(url)
    upgrade_to_head(database.engine)
    with database.session() as session:
        seeded = add_store(session, created_ms=day_bounds(TIME_ZONE, FIRST_DAY)[0])
        add_days(session, seeded)
    monkeypatch.setenv("DATABASE_URL", url)
    last = (FIRST_DAY + timedelta(days=DAYS - 1)).isoformat()
    rolled = CliRunner().invoke(
        app, ["db", "rollup", "--store", str(seeded.store_id), "--day", FIRST_DAY.isoformat(),
              "--to", last],
    )  # fmt: skip
    assert rolled.exit_code == 0, rolled.output
    # Six walks a day of 8 events and 90 positions each; the loner adds 30 positions on day two.
    assert f"{FIRST_DAY}: 48 zone events, 540 positions on 1 floor(s)" in rolled.output
    assert "48 zone events, 570 positions" in rolled.output
    with database.session() as session:
        assert session.scalar(select(func.count()).select_from(PresenceRollupRow)) == DAYS
    database.dispose()
    out = tmp_path / "report"
    result = CliRunner().invoke(
        app, ["report", "--store", str(seeded.store_id), "--from", FIRST_DAY.isoformat(),
              "--to", last, "--out", str(out)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    names = {p.name for p in out.iterdir()}
    tables = {"zones", "transitions", "routes", "visit_ends", "week_hours", "visit_lengths",
              "returning", "campaigns", f"heatmap_presence_floor{seeded.floor_id}",
              f"heatmap_facing_floor{seeded.floor_id}"}  # fmt: skip
    assert {f"{t}.csv" for t in tables} <= names
    pictures = {"flow.png", f"heatmap_presence_floor{seeded.floor_id}.png"}
    assert pictures <= names
    for picture in pictures:
        assert (out / picture).read_bytes()[:4] == b"\x89PNG"
    index = (out / "index.md").read_text()
    for name in names - {"index.md"}:
        assert f"({name})" in index
    zones = list(csv.DictReader(io.StringIO((out / "zones.csv").read_text().split("\n", 1)[1])))
    assert [(z["zone_id"], z["median_dwell_s"]) for z in zones] == [
        ("a", "10.0"),
        ("b", "30.0"),
        ("c", "10.0"),
    ]
    presence = (out / f"heatmap_presence_floor{seeded.floor_id}.csv").read_text()
    assert presence.startswith("# 1 cells hidden because fewer than 5 distinct visitors")


def test_report_refuses_an_unknown_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    url = f"sqlite:///{tmp_path / 'empty.sqlite3'}"
    database = Database.connect(url)
    upgrade_to_head(database.engine)
    database.dispose()
    monkeypatch.setenv("DATABASE_URL", url)
    result = CliRunner().invoke(
        app, ["report", "--store", "42", "--from", "2026-11-10", "--to", "2026-11-11",
              "--out", str(tmp_path / "out")],
    )  # fmt: skip
    assert result.exit_code == 2
    assert "no store 42" in result.output
