"""``aislecast seed DIR``: load a store folder (store.json, plan, CSVs, campaigns) into the DB."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from server.clock import now_ms
from server.database import Database, upgrade_to_head
from server.seed import StoreDefinitionError, seed_store
from server.settings import settings_from_env


def seed(
    folder: Annotated[Path, typer.Argument(help="folder with store.json (e.g. simulate --out)")],
    tokens_out: Annotated[
        Path | None, typer.Option(help="write the new app, screen and pos tokens to this JSON file")
    ] = None,
) -> None:
    """Create a store from a folder; prints what it loaded and any bad CSV rows."""
    database = Database.connect(settings_from_env().database_url)
    try:
        upgrade_to_head(database.engine)
        report = seed_store(database, folder, now_ms())
    except StoreDefinitionError as error:
        typer.echo(f"cannot seed {folder}: {error}", err=True)
        raise typer.Exit(code=2) from None
    finally:
        database.dispose()
    typer.echo(
        f"store {report.store_id}: floor {report.floor_id}, {report.zones} zones, "
        f"{report.beacons} beacons, {report.screens} screens, {report.campaigns} campaigns, "
        f"{report.obstacles} obstacles"
    )
    for name, count in report.imported.items():
        typer.echo(f"{name}: {count} rows imported, {len(report.row_errors[name])} refused")
        for line, reason in report.row_errors[name][:20]:
            typer.echo(f"  line {line}: {reason}")
    if tokens_out is not None:
        tokens = {"store_id": report.store_id, "app": report.app_tokens,
                  "screen": report.screen_tokens, "pos": report.pos_token}  # fmt: skip
        tokens_out.write_text(json.dumps(tokens, indent=2), encoding="utf-8")
        typer.echo(f"tokens written to {tokens_out}")
