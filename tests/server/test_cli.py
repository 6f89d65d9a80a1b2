"""The server's commands: ``aislecast serve`` is registered, ``aislecast db upgrade`` migrates."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import create_engine, inspect
from typer.testing import CliRunner

from aislecast.cli import app
from aislecast.commands import serve
from server.realtime.ws_protocol import WS_PROTOCOLS
from server.settings import settings_from_env


def test_serve_and_db_are_commands() -> None:
    result = CliRunner().invoke(app, ["--help"])
    assert result.exit_code == 0
    assert "serve" in result.output
    assert "db" in result.output


def test_db_upgrade_creates_the_schema_in_database_url(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "cli.sqlite3"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{path}")
    result = CliRunner().invoke(app, ["db", "upgrade"])
    assert result.exit_code == 0, result.output
    engine = create_engine(f"sqlite:///{path}")
    tables = set(inspect(engine).get_table_names())
    engine.dispose()
    assert {"offers", "position_chunks", "zone_versions", "alembic_version"} <= tables
    purge = CliRunner().invoke(app, ["db", "purge"])
    assert purge.exit_code == 0, purge.output
    assert "purged 0 position chunks" in purge.output


def test_serve_refuses_several_workers_without_redis(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("REDIS_URL", raising=False)
    result = CliRunner().invoke(app, ["serve", "--workers", "2"])
    assert result.exit_code == 2
    assert "REDIS_URL" in result.output


def test_serve_runs_the_websocket_implementation_aislecast_ws_names(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    runs: list[dict[str, object]] = []
    monkeypatch.setattr(serve.uvicorn, "run", lambda *_, **options: runs.append(options))
    monkeypatch.delenv("AISLECAST_WS", raising=False)
    assert CliRunner().invoke(app, ["serve"]).exit_code == 0
    monkeypatch.setenv("AISLECAST_WS", "websockets")
    assert CliRunner().invoke(app, ["serve"]).exit_code == 0
    assert [run["ws"] for run in runs] == [WS_PROTOCOLS["websockets-sansio"], "websockets"]
    monkeypatch.setenv("AISLECAST_WS", "sansio")
    refused = CliRunner().invoke(app, ["serve"])
    assert refused.exit_code == 2
    assert "websockets-sansio" in refused.output


def test_serve_phone_port_reaches_the_apps_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[tuple[int | None, str]] = []

    def run(*_: object, **__: object) -> None:  # the app's settings, as a worker reads them
        settings = settings_from_env()
        seen.append((settings.phone_port, settings.phone_host))

    monkeypatch.setattr(serve.uvicorn, "run", run)
    # Set (even empty) so that the test's end restores them: ``serve`` writes the environment.
    monkeypatch.setenv("AISLECAST_PHONE_PORT", "")
    monkeypatch.setenv("AISLECAST_PHONE_HOST", "")
    assert CliRunner().invoke(app, ["serve"]).exit_code == 0
    result = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--phone-port", "8765"])
    assert result.exit_code == 0, result.output
    assert seen == [(None, "127.0.0.1"), (8765, "0.0.0.0")]
