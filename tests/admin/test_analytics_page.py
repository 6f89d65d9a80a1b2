"""The analytics view in a real browser against the real server (issue 9): log in, open
Analytics, pick the days, see the heatmap over the plan, the zone table, the transitions and the
campaign table with its uplift and the "too small to tell" sentence."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import numpy as np
import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy.orm import Session

from positioning import Estimate
from server.analytics_rollup import day_bounds, rollup_day
from server.database import Database
from server.positions_codec import pack_estimates
from server.tables import Campaign, Customer, PositionChunk, Visit
from tests.admin.conftest import checked_page, screenshot
from tests.admin.test_with_server import RunningServer, log_in
from tests.server.analytics_seed import (
    DAYS,
    FIRST_DAY,
    TIME_ZONE,
    Seeded,
    add_campaign_offers,
    add_days,
    add_store,
)

# A crowd that walks entrance → shelf → checkout and back each afternoon, so the picture has a
# heatmap worth looking at; it stays west and south of the loner's cell at (8.5, 8.5).
CROWD = 30
WAYPOINTS = np.array([[1.0, 1.0], [1.0, 4.0], [4.0, 4.0], [4.0, 4.0], [7.0, 4.0], [7.0, 1.0]])


def add_crowd(session: Session, seeded: Seeded) -> None:
    rng = np.random.default_rng(5)
    for i in range(CROWD):
        session.add(Customer(id=f"crowd-{i}", consents="location_analytics", cap_ledger={}))
    session.flush()
    for d in range(DAYS):
        lo, _ = day_bounds(TIME_ZONE, FIRST_DAY + timedelta(days=d))
        for i in range(CROWD):
            start = lo + 14 * 3_600_000 + i * 30_000
            # 1 Hz along the waypoints (a 20 s pause at the shelf), jittered like a tracker.
            seconds = np.cumsum([0, 8, 8, 20, 8, 8]) * rng.uniform(0.8, 1.3)
            t_s = np.arange(0, int(seconds[-1]))
            xy = np.stack([np.interp(t_s, seconds, WAYPOINTS[:, k]) for k in (0, 1)], axis=1)
            xy = np.clip(xy + rng.normal(0, 0.35, xy.shape), 0.05, 7.95)
            visit_id = f"crowd-{d}-{i}"
            session.add(Visit(id=visit_id, store_id=seeded.store_id, customer_id=f"crowd-{i}",
                              started_ms=start, last_seen_ms=start + int(t_s[-1]) * 1000,
                              ended_ms=start + int(t_s[-1]) * 1000, app_version="1",
                              consents="location_analytics"))  # fmt: skip
            session.flush()
            points = [Estimate(start + int(s) * 1000, float(x), float(y), 0.0, 1.0)
                      for s, (x, y) in zip(t_s, xy, strict=True)]  # fmt: skip
            session.add(PositionChunk(
                visit_id=visit_id, store_id=seeded.store_id, floor_id=seeded.floor_id,
                t_start_ms=start, t_end_ms=points[-1].t_ms, n_points=len(points),
                payload=pack_estimates(points, start),
            ))  # fmt: skip


@pytest.fixture
def seeded_server(dist: Path, tmp_path: Path) -> Iterator[RunningServer]:
    url = f"sqlite:///{tmp_path / 'analytics.sqlite3'}"
    with RunningServer(url, dist) as running:
        database = Database.connect(url)
        t0 = day_bounds(TIME_ZONE, FIRST_DAY)[0] + 9 * 3_600_000
        with database.session() as session:
            store = add_store(session, created_ms=t0 - 86_400_000)
            add_days(session, store)
            add_crowd(session, store)
            for campaign_id, name in ((1, "Coffee week"), (2, "Tiny test")):
                session.add(Campaign(id=campaign_id, store_id=store.store_id, name=name,
                                     status="active", version=1, document={}, created_ms=t0,
                                     updated_ms=t0))  # fmt: skip
            session.flush()
            add_campaign_offers(session, store.store_id, 1, t0, 300, 300, 0.3, 0.1, seed=3)
            add_campaign_offers(session, store.store_id, 2, t0, 30, 20, 0.5, 0.1, seed=4)
        with database.session() as session:
            rollup_day(session, store.store_id, FIRST_DAY, t0)
        database.dispose()
        yield running


@pytest.fixture
def page(
    browser: Browser, seeded_server: RunningServer, expected_console_errors: list[str]
) -> Iterator[Page]:
    with checked_page(browser, expected_console_errors) as opened:
        yield opened


def test_analytics_shows_heatmap_zones_and_campaigns(
    page: Page, seeded_server: RunningServer
) -> None:
    log_in(page, seeded_server)
    page.get_by_role("tab", name="Analytics").click()
    form = page.locator("#analytics-form")
    form.get_by_label("From").fill(FIRST_DAY.isoformat())
    form.get_by_label("To").fill((FIRST_DAY + timedelta(days=DAYS - 1)).isoformat())
    form.get_by_role("button", name="Show").click()
    expect(page.locator("#analytics-status")).to_have_text(
        f"{FIRST_DAY.isoformat()} to {(FIRST_DAY + timedelta(days=DAYS - 1)).isoformat()}"
    )
    # The heatmap lies over the plan, and the page says a cell was hidden and why.
    expect(page.locator("#map img.analytics-heatmap")).to_be_visible()
    expect(page.locator("#analytics-heat-note")).to_contain_text(
        "hidden because fewer than 5 distinct visitors"
    )
    heat = seeded_server.call(
        "GET", f"/api/stores/1/analytics/heatmap?from={FIRST_DAY}&to={FIRST_DAY}&floor_id=1"
    )
    hidden = seeded_server.call(
        "GET",
        f"/api/stores/1/analytics/heatmap?from={FIRST_DAY}"
        f"&to={FIRST_DAY + timedelta(days=DAYS - 1)}&floor_id=1",
    )
    assert heat["rows"]
    assert [8, 8] in hidden["suppressed"]
    expect(page.locator("#analytics-heat-summary")).to_contain_text(
        f"{len(hidden['rows'])} cells shown, {hidden['n_suppressed']} hidden"
    )
    zone_b = page.locator("#analytics-zone-rows tr", has_text="B")
    expect(zone_b).to_contain_text("30 s")  # median dwell
    expect(page.locator("#analytics-transition-rows tr").first).to_contain_text("A → B")
    campaigns = page.locator("#analytics-campaign-rows")
    expect(campaigns).to_contain_text("Coffee week")
    expect(campaigns).to_contain_text("The campaign raised purchases")
    expect(campaigns.locator("td.too-small")).to_contain_text(
        "Too early to tell: the hold-out has 20 shoppers"
    )
    page.locator("#analytics-campaigns").scroll_into_view_if_needed()
    screenshot(page, "analytics")
    # Leaving the tab takes the heatmap off the map.
    page.get_by_role("tab", name="Zones").click()
    expect(page.locator("#map img.analytics-heatmap")).to_have_count(0)
