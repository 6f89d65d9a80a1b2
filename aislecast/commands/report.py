"""``aislecast report``: every analytics table as CSV, heatmaps and the flow as PNG, and an
``index.md`` linking them, for a store and a range of days (DATABASE_URL like ``serve``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from server.analytics_service import (
    AnalyticsQuery,
    AnalyticsRequestError,
    parse_range,
)
from server.analytics_views import Table, flow_png, heatmap_png
from server.database import Database
from server.settings import settings_from_env
from server.tables import Floor, Store
from zones.analytics import DEFAULT_K_ANONYMITY


def _write_table(out: Path, name: str, table: Table, index: list[str]) -> None:
    (out / f"{name}.csv").write_text(table.as_csv())
    index.append(f"- [{name}.csv]({name}.csv): {len(table.rows)} rows. {table.note}")


def report(
    store: Annotated[int, typer.Option(help="store id")],
    from_day: Annotated[str, typer.Option("--from", help="first day, YYYY-MM-DD (store-local)")],
    to_day: Annotated[str, typer.Option("--to", help="last day, YYYY-MM-DD, inclusive")],
    out: Annotated[Path, typer.Option(help="directory to write into (created)")],
    k: Annotated[int, typer.Option(min=DEFAULT_K_ANONYMITY, help="k-anonymity")] = (
        DEFAULT_K_ANONYMITY
    ),
) -> None:
    """Write the store's analytics for the days as CSV and PNG files with an index.md."""
    database = Database.connect(settings_from_env().database_url)
    try:
        with database.session() as session:
            row = session.get(Store, store)
            if row is None:
                raise typer.BadParameter(f"no store {store}", param_hint="--store")
            try:
                from_ms, to_ms = parse_range(from_day, to_day, row.timezone)
            except AnalyticsRequestError as error:
                raise typer.BadParameter(str(error), param_hint="--from/--to") from error
            out.mkdir(parents=True, exist_ok=True)
            index = [f"# {row.name}: analytics {from_day} to {to_day}", "",
                     f"Store time zone {row.timezone}; k = {k}.", "", "## Tables", ""]  # fmt: skip
            query = AnalyticsQuery(session, row, None, from_ms, to_ms, k)
            for name, table in (
                ("zones", query.zones_table()), *query.paths().items(),
                ("week_hours", query.week_hours()), ("visit_lengths", query.visit_lengths()),
                ("returning", query.returning()), ("campaigns", query.campaigns()),
            ):  # fmt: skip
                _write_table(out, name, table, index)
            transitions = query.paths()["transitions"]
            (out / "flow.png").write_bytes(flow_png(transitions, f"{row.name}: top transitions"))
            index += ["", "## Pictures", "", "![flow](flow.png)", ""]
            floors = session.scalars(select(Floor).where(Floor.store_id == store)).all()
            for floor in floors:
                _floor_files(session, row, floor, from_ms, to_ms, k, out, index)
        (out / "index.md").write_text("\n".join(index) + "\n")
    finally:
        database.dispose()
    typer.echo(f"report written to {out / 'index.md'}")


def _floor_files(
    session: object, store: Store, floor: Floor, from_ms: int, to_ms: int, k: int, out: Path,
    index: list[str],
) -> None:  # fmt: skip
    query = AnalyticsQuery(session, store, floor, from_ms, to_ms, k)  # type: ignore[arg-type]
    for kind, table, unit in (
        ("presence", query.presence(), "seconds per m²"),
        ("facing", query.facing(), "facing moments"),
    ):
        name = f"heatmap_{kind}_floor{floor.id}"
        _write_table(out, name, table, index)
        png = heatmap_png(table.extra["grid"], floor.width_m, floor.height_m,
                          f"{store.name}, {floor.name}: {kind}", unit, table.note)  # fmt: skip
        (out / f"{name}.png").write_bytes(png)
        index.append(f"![{kind} on {floor.name}]({name}.png)")
