"""``aislecast db``: migrate the database, purge expired raw positions."""

from __future__ import annotations

import typer

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
