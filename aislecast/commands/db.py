"""``aislecast db``: migrate the database, purge expired raw positions, roll up analytics days."""

from __future__ import annotations

from datetime import date, timedelta
from typing import Annotated

import typer

from server.analytics_rollup import rollup_day
from server.clock import now_ms
from server.database import Database, upgrade_to_head
from server.retention import purge_once
from server.settings import settings_from_env

app = typer.Typer(no_args_is_help=True, help="Database schema and retention.")


@app.command()
def upgrade() -> None:
    """Apply every pending migration to DATABASE_URL."""
    database = Database.connect(settings_from_env().database_url)
    try:
        upgrade_to_head(database.engine)
    finally:
        database.dispose()
    typer.echo("database at the latest schema")


@app.command()
def purge() -> None:
    """Delete raw positions and sensor batches older than AISLECAST_POSITION_RETENTION_DAYS."""
    settings = settings_from_env()
    database = Database.connect(settings.database_url)
    try:
        purged = purge_once(database, settings.position_retention_days)
    finally:
        database.dispose()
    typer.echo(f"purged {purged.position_chunks} position chunks, {purged.reading_batches} batches")


@app.command()
def rollup(
    store: Annotated[int, typer.Option(help="store id")],
    day: Annotated[str, typer.Option(help="store-local day, YYYY-MM-DD")],
    to: Annotated[str | None, typer.Option(help="last day (inclusive) to roll up too")] = None,
) -> None:
    """Close a store day (or days) into analytics rollups; re-running replaces them."""
    try:
        first = date.fromisoformat(day)
        last = date.fromisoformat(to) if to is not None else first
    except ValueError as error:
        raise typer.BadParameter(f"not a YYYY-MM-DD day: {error}") from error
    database = Database.connect(settings_from_env().database_url)
    try:
        while first <= last:
            with database.session() as session:
                done = rollup_day(session, store, first, now_ms())
            typer.echo(f"store {store} {first}: {done.n_events} zone events, "
                       f"{done.n_points} positions on {done.floors} floor(s)")  # fmt: skip
            first += timedelta(days=1)
    except LookupError as error:
        raise typer.BadParameter(str(error), param_hint="--store") from error
    finally:
        database.dispose()
