"""Raw positions and sensor batches are kept for ``position_retention_days``, then deleted.

Visits, zone events, offers and plays stay: they are small and analytics and attribution need them.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from anyio import to_thread
from sqlalchemy import delete
from sqlalchemy.orm import Session

from server.clock import now_ms
from server.database import Database
from server.tables import PositionChunk, RawReadingBatch

log = logging.getLogger(__name__)
DAY_MS = 24 * 3600 * 1000


@dataclass(frozen=True, slots=True)
class Purged:
    position_chunks: int
    reading_batches: int


def purge_raw_positions(session: Session, now: int, retention_days: float) -> Purged:
    """Delete chunks and batches that ended before ``now - retention``."""
    cutoff = now - round(retention_days * DAY_MS)
    chunks = session.execute(delete(PositionChunk).where(PositionChunk.t_end_ms < cutoff))
    batches = session.execute(delete(RawReadingBatch).where(RawReadingBatch.t_last_ms < cutoff))
    return Purged(chunks.rowcount, batches.rowcount)  # type: ignore[attr-defined]


def purge_once(database: Database, retention_days: float) -> Purged:
    with database.session() as session:
        return purge_raw_positions(session, now_ms(), retention_days)


async def retention_loop(database: Database, retention_days: float, every_s: float) -> None:
    while True:
        try:
            purged = await to_thread.run_sync(purge_once, database, retention_days)
            if purged.position_chunks or purged.reading_batches:
                log.info("retention purge: %s", purged)
        except Exception:  # a failed purge is retried next time; the server keeps serving
            log.exception("retention purge failed")
        await asyncio.sleep(every_s)
