"""Store analytics (issue 9): heatmaps, zone table, paths, visit times, campaigns; JSON or CSV
(heatmaps also PNG). Every answer says which rows or cells k-anonymity hid and why."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Literal

from fastapi import APIRouter, HTTPException, Query, status
from fastapi.responses import JSONResponse, Response

from server.analytics_queries import RangeError
from server.analytics_service import (
    AnalyticsQuery,
    AnalyticsRequestError,
    audience,
    parse_range,
    store_floor,
)
from server.analytics_views import Table, flow_png, heatmap_png
from server.api.deps import SessionDep, StoreDep
from server.tables import Store
from zones.analytics import DEFAULT_K_ANONYMITY

router = APIRouter(prefix="/stores/{store_id}/analytics", tags=["analytics"])

From = Annotated[str, Query(alias="from", description="YYYY-MM-DD (store-local) or Unix ms")]
To = Annotated[str, Query(alias="to", description="YYYY-MM-DD inclusive, or Unix ms exclusive")]
# Stores may raise k; lowering it below the default would let a figure point to one shopper.
K = Annotated[int, Query(ge=DEFAULT_K_ANONYMITY, le=10_000)]
Segment = Annotated[str | None, Query(max_length=32, description="customer tier")]
CampaignAudience = Annotated[int | None, Query(ge=1, description="that campaign's audience")]
FloorId = Annotated[int | None, Query(ge=1)]
Format = Literal["json", "csv"]


@contextmanager
def _bad_request() -> Iterator[None]:
    try:
        yield
    except (AnalyticsRequestError, RangeError) as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from error


def _query(
    session: SessionDep, store: Store, from_text: str, to_text: str, k: int,
    floor_id: int | None, segment: str | None, campaign: int | None,
) -> AnalyticsQuery:  # fmt: skip
    with _bad_request():
        from_ms, to_ms = parse_range(from_text, to_text, store.timezone)
        floor = store_floor(session, store.id, floor_id)
        kept = audience(session, store.id, segment, campaign)
    return AnalyticsQuery(session, store, floor, from_ms, to_ms, k, kept)


def _answer(table: Table, fmt: Format, query: AnalyticsQuery) -> Response:
    if fmt == "csv":
        return Response(
            table.as_csv(), media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{table.name}.csv"'},
        )  # fmt: skip
    body = table.as_json()
    body.update(from_ms=query.from_ms, to_ms=query.to_ms, identified=query.identified)
    return JSONResponse(body)


def _tabled(
    session: SessionDep, store: Store, from_text: str, to_text: str, k: int,
    floor_id: int | None, segment: str | None, campaign: int | None, fmt: Format, what: str,
) -> Response:  # fmt: skip
    query = _query(session, store, from_text, to_text, k, floor_id, segment, campaign)
    with _bad_request():
        table: Table = getattr(query, what)()
    return _answer(table, fmt, query)


@router.get("/heatmap")
def heatmap(
    store: StoreDep,
    session: SessionDep,
    from_text: From,
    to_text: To,
    floor_id: Annotated[int, Query(ge=1)],
    kind: Literal["presence", "facing"] = "presence",
    zone_id: Annotated[str | None, Query(max_length=64)] = None,
    k: K = DEFAULT_K_ANONYMITY,
    segment: Segment = None,
    campaign: CampaignAudience = None,
    format: Literal["json", "csv", "png"] = "json",
) -> Response:
    """Presence (seconds per m²) or facing moments per 1 m cell; hidden cells are null."""
    query = _query(session, store, from_text, to_text, k, floor_id, segment, campaign)
    with _bad_request():
        table = query.presence() if kind == "presence" else query.facing(zone_id)
    if format != "png":
        return _answer(table, format, query)
    unit = "seconds per m²" if kind == "presence" else "facing moments"
    title = f"{store.name}: {kind}" + (f" ({zone_id})" if zone_id else "")
    png = heatmap_png(table.extra["grid"], table.extra["width_m"], table.extra["height_m"],
                      title, unit, table.note)  # fmt: skip
    return Response(png, media_type="image/png")


@router.get("/zones")
def zones(
    store: StoreDep, session: SessionDep, from_text: From, to_text: To,
    floor_id: FloorId = None, k: K = DEFAULT_K_ANONYMITY, segment: Segment = None,
    campaign: CampaignAudience = None, format: Format = "json",
) -> Response:  # fmt: skip
    """Per zone: visitors, entries, median and p90 dwell, faced share, conversion."""
    return _tabled(session, store, from_text, to_text, k, floor_id, segment, campaign, format,
                   "zones_table")  # fmt: skip


@router.get("/paths")
def paths(
    store: StoreDep, session: SessionDep, from_text: From, to_text: To,
    floor_id: FloorId = None, k: K = DEFAULT_K_ANONYMITY, segment: Segment = None,
    campaign: CampaignAudience = None,
    table: Literal["transitions", "routes", "visit_ends"] | None = None,
    format: Literal["json", "csv", "png"] = "json",
) -> Response:  # fmt: skip
    """Top zone-to-zone transitions, entrance→checkout routes, where visits end."""
    query = _query(session, store, from_text, to_text, k, floor_id, segment, campaign)
    tables = query.paths()
    if format == "json" and table is None:
        body = {name: t.as_json() for name, t in tables.items()}
        return JSONResponse({**body, "from_ms": query.from_ms, "to_ms": query.to_ms})
    chosen = tables[table or "transitions"]
    if format == "png":
        return Response(flow_png(chosen, f"{store.name}: {chosen.name}"), media_type="image/png")
    return _answer(chosen, format, query)


@router.get("/week-hours")
def week_hours(
    store: StoreDep, session: SessionDep, from_text: From, to_text: To,
    k: K = DEFAULT_K_ANONYMITY, segment: Segment = None, campaign: CampaignAudience = None,
    format: Format = "json",
) -> Response:  # fmt: skip
    """Visits started per weekday and local hour."""
    return _tabled(session, store, from_text, to_text, k, None, segment, campaign, format,
                   "week_hours")  # fmt: skip


@router.get("/visit-lengths")
def visit_lengths(
    store: StoreDep, session: SessionDep, from_text: From, to_text: To,
    k: K = DEFAULT_K_ANONYMITY, segment: Segment = None, campaign: CampaignAudience = None,
    format: Format = "json",
) -> Response:  # fmt: skip
    return _tabled(session, store, from_text, to_text, k, None, segment, campaign, format,
                   "visit_lengths")  # fmt: skip


@router.get("/returning")
def returning(
    store: StoreDep, session: SessionDep, from_text: From, to_text: To,
    k: K = DEFAULT_K_ANONYMITY, segment: Segment = None, campaign: CampaignAudience = None,
    format: Format = "json",
) -> Response:  # fmt: skip
    """Consented shoppers who came more than once in the range."""
    return _tabled(session, store, from_text, to_text, k, None, segment, campaign, format,
                   "returning")  # fmt: skip


@router.get("/campaigns")
def campaigns(
    store: StoreDep, session: SessionDep, from_text: From, to_text: To,
    k: K = DEFAULT_K_ANONYMITY, format: Format = "json",
) -> Response:  # fmt: skip
    """Per campaign and per zone: exposure, opens, redemptions, purchases, conversion, AOV and
    uplift over the hold-out with its interval (or the sentence saying it is too small)."""
    return _tabled(session, store, from_text, to_text, k, None, None, None, format, "campaigns")
