"""Server settings, read from the environment once per process through a cached dependency.

Nothing here runs at import: ``settings_from_env()`` is called by ``get_settings()`` (cached) or by
the CLI, and tests build ``Settings(...)`` directly and hand it to ``create_app``.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from server.gc_tuning import SERVING_GC_YOUNG_THRESHOLD


def default_database_url() -> str:
    """A SQLite file in the working directory: nothing to install for a first run."""
    return f"sqlite:///{Path.cwd() / 'aislecast.sqlite3'}"


@dataclass(frozen=True, slots=True)
class Settings:
    database_url: str = field(default_factory=default_database_url)
    # None: one process, delivery fan-out stays in memory. Set it to run several processes.
    redis_url: str | None = None
    # Channel names on Redis start with this, so several deployments (or test runs) can share one
    # Redis.
    redis_prefix: str = "aislecast:"
    # Keys live tokens and pseudonyms; a random one per process is fine for one process only.
    secret_key: str = field(default_factory=lambda: secrets.token_urlsafe(32))
    migrate_on_startup: bool = True
    # Raw positions older than this are purged (issue 9 reads 30 days of history).
    position_retention_days: float = 30.0
    # Keep every raw sensor batch (for replaying real walks). ~25 KB/s per shopper before zlib
    # (~5 KB after): switch off where storage matters more than replay.
    keep_raw_readings: bool = True
    # Server-side positioning: "batched" (one BatchTracker per store, every pending batch of the
    # process in one vectorised call; scales to thousands of shoppers) or "per_shopper" (one
    # particle-filter Tracker each; more accurate, ~1 ms of CPU per batch: hundreds of shoppers).
    tracker: str = "batched"
    # How often the purge runs; purging is an indexed range delete, cheap at this rate.
    retention_sweep_s: float = 3600.0
    # Staff login sessions last a working day.
    staff_session_ttl_s: float = 12 * 3600.0
    # Python's young-generation GC threshold for this process, set when the app starts (0: leave
    # Python's own, 700). ``settings_from_env`` (the served app) uses SERVING_GC_YOUNG_THRESHOLD.
    gc_young_threshold: int = 0
    # The phone port: ``/ws/shopper`` and ``/ws/screen`` also served by picows on this port, in
    # the same process and loop, at about half uvicorn's transport cost a frame (None: off;
    # 0: a free port, for tests). Its interface is ``phone_host``.
    phone_port: int | None = None
    phone_host: str = "127.0.0.1"
    # Bootstrap admin created on first start when no user exists (make demo prints it).
    bootstrap_admin_email: str | None = None
    bootstrap_admin_password: str | None = None


def _env_float(name: str, default: float) -> float:
    raw = os.environ.get(name)
    return default if raw is None or raw == "" else float(raw)


def settings_from_env() -> Settings:
    """Settings from ``DATABASE_URL``, ``REDIS_URL``, ``AISLECAST_SECRET_KEY`` and friends."""
    base = Settings()
    return Settings(
        database_url=os.environ.get("DATABASE_URL") or base.database_url,
        redis_url=os.environ.get("REDIS_URL") or None,
        redis_prefix=os.environ.get("AISLECAST_REDIS_PREFIX") or base.redis_prefix,
        secret_key=os.environ.get("AISLECAST_SECRET_KEY") or base.secret_key,
        migrate_on_startup=os.environ.get("AISLECAST_MIGRATE_ON_STARTUP", "1") != "0",
        position_retention_days=_env_float(
            "AISLECAST_POSITION_RETENTION_DAYS", base.position_retention_days
        ),
        keep_raw_readings=os.environ.get("AISLECAST_KEEP_RAW_READINGS", "1") != "0",
        tracker=os.environ.get("AISLECAST_TRACKER") or base.tracker,
        retention_sweep_s=_env_float("AISLECAST_RETENTION_SWEEP_S", base.retention_sweep_s),
        staff_session_ttl_s=_env_float("AISLECAST_STAFF_SESSION_TTL_S", base.staff_session_ttl_s),
        gc_young_threshold=int(
            os.environ.get("AISLECAST_GC_YOUNG_THRESHOLD") or SERVING_GC_YOUNG_THRESHOLD
        ),
        phone_port=int(os.environ["AISLECAST_PHONE_PORT"])
        if os.environ.get("AISLECAST_PHONE_PORT")
        else None,
        phone_host=os.environ.get("AISLECAST_PHONE_HOST") or base.phone_host,
        bootstrap_admin_email=os.environ.get("AISLECAST_ADMIN_EMAIL") or None,
        bootstrap_admin_password=os.environ.get("AISLECAST_ADMIN_PASSWORD") or None,
    )


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    """The process's settings; a FastAPI dependency that tests override."""
    return settings_from_env()
