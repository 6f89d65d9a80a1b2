"""Engine, sessions and migrations for SQLite (default) or PostgreSQL (``DATABASE_URL``).

The server's REST routes are synchronous and FastAPI runs them in its thread pool; websocket
handlers call the same synchronous session code through ``anyio.to_thread``. One code path serves
both databases.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, sessionmaker

ALEMBIC_DIR = Path(__file__).resolve().parent / "alembic"
# A writer waits this long for SQLite's lock before failing: longer than any transaction we run.
SQLITE_BUSY_TIMEOUT_MS = 10_000


def normalise_database_url(url: str) -> str:
    """``postgresql://`` means psycopg 3 here (SQLAlchemy would otherwise look for psycopg2)."""
    if url.startswith("postgres://"):
        url = "postgresql://" + url.removeprefix("postgres://")
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url.removeprefix("postgresql://")
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    # WAL lets readers run beside the writer; foreign keys are off by default in SQLite.
    # synchronous=NORMAL: in WAL mode a commit survives a crash of the server process (the
    # promise we make: nothing sent is lost) but not of the machine's power; FULL would fsync every
    # commit and cap a store at ~100 commits/s on this disk (benchmarks/server_load.py). Where
    # power loss matters, run PostgreSQL (docs/deploy.md).
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    cursor.close()


def build_engine(database_url: str) -> Engine:
    url = make_url(normalise_database_url(database_url))
    if url.get_backend_name() == "sqlite":
        engine = create_engine(url, connect_args={"check_same_thread": False})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, pool_size=10, max_overflow=20)


def alembic_config(engine: Engine) -> Config:
    config = Config()
    config.set_main_option("script_location", str(ALEMBIC_DIR))
    config.attributes["engine"] = engine
    return config


def upgrade_to_head(engine: Engine) -> None:
    """Apply every migration not yet applied (idempotent; PostgreSQL serialises concurrent runs)."""
    command.upgrade(alembic_config(engine), "head")


@dataclass
class Database:
    engine: Engine
    sessions: sessionmaker[Session]

    @classmethod
    def connect(cls, database_url: str) -> Database:
        engine = build_engine(database_url)
        return cls(engine, sessionmaker(engine, expire_on_commit=False))

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error."""
        with self.sessions() as session, session.begin():
            yield session

    def dispose(self) -> None:
        self.engine.dispose()
