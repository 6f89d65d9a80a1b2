"""The analytics REST endpoints on a real server, SQLite and PostgreSQL: suppression in JSON and
CSV, a planted campaign uplift recovered within its interval, bad requests refused with reasons."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from datetime import timedelta

import pytest

from server.analytics_rollup import day_bounds, rollup_day
from server.database import Database
from server.tables import Campaign
from tests.server.analytics_seed import (
    DAYS,
    FIRST_DAY,
    SHOPPERS,
    TIME_ZONE,
    Seeded,
    add_campaign_offers,
    add_days,
    add_store,
)
from tests.server.harness import Staff

RANGE = {"from": FIRST_DAY.isoformat(), "to": (FIRST_DAY + timedelta(days=DAYS - 1)).isoformat()}
# Planted: 30 % of shoppers who got the offer buy the coffee, 10 % of the hold-out.
TREATED_RATE, CONTROL_RATE = 0.30, 0.10


@pytest.fixture(scope="module")
def seeded(database_url: str, live: object) -> Iterator[Seeded]:
    """The synthetic days (the first rolled up), a big campaign and a small one, in the live
    server's database."""
    database = Database.connect(database_url)
    t0 = day_bounds(TIME_ZONE, FIRST_DAY)[0] + 9 * 3_600_000
    with database.session() as session:
        store = add_store(session, created_ms=t0 - 86_400_000)
        add_days(session, store)
        for campaign_id, name in ((1, "Coffee week"), (2, "Tiny test")):
            session.add(Campaign(id=campaign_id, store_id=store.store_id, name=name,
                                 status="active", version=1, document={}, created_ms=t0,
                                 updated_ms=t0))  # fmt: skip
        session.flush()
        add_campaign_offers(session, store.store_id, 1, t0, 600, 600, TREATED_RATE,
                            CONTROL_RATE, seed=9)  # fmt: skip
        add_campaign_offers(session, store.store_id, 2, t0, 30, 20, 0.5, 0.1, seed=10)
    with database.session() as session:
        rollup_day(session, store.store_id, FIRST_DAY, t0)
    yield store
    database.dispose()


def _get(admin: Staff, seeded: Seeded, path: str, **params: object) -> object:
    return admin.ok("GET", f"/api/stores/{seeded.store_id}/analytics/{path}",
                    params={**RANGE, **params})  # fmt: skip


def test_heatmap_hides_the_lonely_cell_in_json_csv_and_png(admin: Staff, seeded: Seeded) -> None:
    body = _get(admin, seeded, "heatmap", floor_id=seeded.floor_id)
    assert isinstance(body, dict)
    assert body["days_from_rollups"] == 1
    assert body["n_suppressed"] == 1
    assert body["suppressed"] == [[8, 8]]
    assert body["grid"][8][8] is None  # the loner's cell
    assert body["grid"][0][0] == pytest.approx(DAYS * len(SHOPPERS) * 60.0)
    assert "1 cells hidden because fewer than 5 distinct visitors" in body["note"]
    base = f"/api/stores/{seeded.store_id}/analytics/heatmap"
    text = admin.http.get(base, params={**RANGE, "floor_id": seeded.floor_id, "format": "csv"})
    assert text.status_code == 200
    assert text.headers["content-type"].startswith("text/csv")
    lines = text.text.splitlines()
    assert lines[0].startswith("# 1 cells hidden")
    cells = list(csv.DictReader(io.StringIO("\n".join(lines[1:]))))
    assert {(c["x_m"], c["y_m"]) for c in cells} == {("0.0", "0.0"), ("1.0", "0.0")}
    png = admin.http.get(base, params={**RANGE, "floor_id": seeded.floor_id, "format": "png"})
    assert png.status_code == 200
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"


def test_zone_table_paths_and_visit_views(admin: Staff, seeded: Seeded) -> None:
    zones = _get(admin, seeded, "zones", floor_id=seeded.floor_id)
    assert isinstance(zones, dict)
    b = next(r for r in zones["rows"] if r["zone_id"] == "b")
    assert (b["visitors"], b["median_dwell_s"], b["p90_dwell_s"]) == (len(SHOPPERS), 30.0, 30.0)
    paths = _get(admin, seeded, "paths")
    assert isinstance(paths, dict)
    walks = DAYS * len(SHOPPERS)
    assert [r["steps"] for r in paths["transitions"]["rows"]] == ["a > b", "b > c"]
    assert paths["routes"]["rows"] == [{"steps": "a > b > c", "visits": walks, "visitors": 6}]
    # The loner's visit ended nowhere (no zone) and shows in no table.
    assert paths["visit_ends"]["rows"] == [{"steps": "c", "visits": walks, "visitors": 6}]
    lengths = _get(admin, seeded, "visit-lengths")
    assert isinstance(lengths, dict)
    # Every visit lasted 1.5 min: the six shoppers' and the loner's, seven people in one bin.
    assert lengths["rows"][0]["visits"] == walks + 1
    assert lengths["median_min"] == 1.5
    returning = _get(admin, seeded, "returning")
    assert isinstance(returning, dict)
    # Six returning, one one-time: the complement (the loner) is fewer than k, so hidden.
    assert returning["rows"][0]["suppressed"] is True
    assert returning["rows"][0]["share"] is None
    week = admin.http.get(f"/api/stores/{seeded.store_id}/analytics/week-hours",
                          params={**RANGE, "format": "csv"})  # fmt: skip
    assert week.status_code == 200
    assert "weekday,hour,visits,suppressed" in week.text


def test_planted_uplift_is_recovered_within_its_interval(admin: Staff, seeded: Seeded) -> None:
    body = _get(admin, seeded, "campaigns")
    assert isinstance(body, dict)
    rows = {(r["campaign_id"], r["zone_id"]): r for r in body["rows"]}
    big = rows[(1, None)]
    assert (big["treated_shoppers"], big["holdout_shoppers"]) == (600, 600)
    assert big["uplift_low"] <= TREATED_RATE - CONTROL_RATE <= big["uplift_high"]
    assert big["uplift_low"] > 0
    assert big["too_small_to_tell"] is False
    assert big["verdict"].startswith("The campaign raised purchases")
    assert rows[(1, "b")]["uplift"] == big["uplift"]  # every offer was in zone b
    small = rows[(2, None)]
    assert small["too_small_to_tell"] is True
    assert small["verdict"].startswith("Too early to tell: the hold-out has 20 shoppers")
    text = admin.http.get(f"/api/stores/{seeded.store_id}/analytics/campaigns",
                          params={**RANGE, "format": "csv"}).text  # fmt: skip
    assert "Too early to tell" in text


@pytest.mark.parametrize(
    ("params", "reason"),
    [
        ({"from": "2026-11-12", "to": "2026-11-10"}, "empty or reversed"),
        ({"from": "2026-02-30", "to": "2026-03-01"}, "not a calendar date"),
        ({"from": "last week", "to": "2026-03-01"}, "neither a date"),
        ({"floor_id": 999_999}, "has no floor 999999"),
        ({"k": 2}, "greater than or equal to 5"),
        ({"campaign": 77}, "campaign 77 has no offers"),
    ],
)
def test_bad_requests_are_refused_with_a_reason(
    admin: Staff, seeded: Seeded, params: dict[str, object], reason: str
) -> None:
    response = admin.http.get(f"/api/stores/{seeded.store_id}/analytics/zones",
                              params={**RANGE, **params})  # fmt: skip
    assert response.status_code == 422, response.text
    assert reason in response.text


def test_a_campaign_audience_counts_consented_visits_only(admin: Staff, seeded: Seeded) -> None:
    """Identified view: the audience of campaign 1 never visited, so the zone table is empty."""
    body = _get(admin, seeded, "zones", campaign=1)
    assert isinstance(body, dict)
    assert body["identified"] is True
    assert all(r["visitors"] in (0, None) for r in body["rows"])


def test_a_range_without_activity_answers_empty_tables(admin: Staff, seeded: Seeded) -> None:
    empty = {"from": "2026-01-05", "to": "2026-01-06"}
    base = f"/api/stores/{seeded.store_id}/analytics"
    for view in ("zones", "paths", "week-hours", "visit-lengths", "returning", "campaigns"):
        response = admin.http.get(f"{base}/{view}", params=empty)
        assert response.status_code == 200, (view, response.text)
    paths = admin.ok("GET", f"{base}/paths", params=empty)
    assert paths["transitions"]["rows"] == []
    heat = admin.ok("GET", f"{base}/heatmap", params={**empty, "floor_id": seeded.floor_id})
    assert heat["total_s"] == 0.0
