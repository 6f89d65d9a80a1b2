"""Server fixtures: a real server per backend (SQLite file, local PostgreSQL), staff clients."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.server.fakes import fake_wiring
from tests.server.harness import LiveServer, Staff, postgres_database, settings_for

BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(scope="module", params=BACKENDS)
def database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    if request.param == "sqlite":
        path: Path = tmp_path_factory.mktemp("db") / "aislecast.sqlite3"
        yield f"sqlite:///{path}"
    else:
        with postgres_database() as url:
            yield url


@pytest.fixture(scope="module")
def live(database_url: str) -> Iterator[LiveServer]:
    """One server per test module and backend, with the fake zones and decisions wired in."""
    with LiveServer(settings_for(database_url), fake_wiring()) as server:
        yield server


@pytest.fixture(scope="module")
def admin(live: LiveServer) -> Iterator[Staff]:
    staff = Staff(live.http_url)
    yield staff
    staff.http.close()
