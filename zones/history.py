"""Who changed which zone, when, and how to get an earlier version back.

``ZoneHistory`` is an immutable, append-only list of ``ZoneVersion``s: each call returns a new
history, so the server persists the versions (``to_records``/``from_records``) and nothing here
touches a clock or a database. Time is passed in by the caller.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from zones.model import Zone, ZoneError
from zones.records import ZONE_FIELDS, zone_from_dict, zone_to_dict

ZoneAction = Literal["create", "update", "delete", "restore"]
ACTIONS: tuple[str, ...] = ("create", "update", "delete", "restore")


@dataclass(frozen=True)
class ZoneVersion:
    """One change of one zone: the zone as it was after the change (None once deleted)."""

    zone_id: str
    version: int  # 1, 2, … per zone
    action: ZoneAction
    author: str
    t_ms: int
    zone: Zone | None
    changed: tuple[str, ...] = ()  # the fields that differ from the previous version
    note: str = ""


def changed_fields(before: Zone | None, after: Zone | None) -> tuple[str, ...]:
    """Names of the zone fields (and ``polygon``) that differ between two versions."""
    if before is None or after is None:
        return ("polygon", *ZONE_FIELDS) if before is not after else ()
    names = [f for f in ZONE_FIELDS if getattr(before, f) != getattr(after, f)]
    if not before.polygon.equals_exact(after.polygon, 0.0):
        names.insert(0, "polygon")
    return tuple(names)


@dataclass(frozen=True)
class ZoneHistory:
    """Every version of every zone on a floor, oldest first."""

    versions: tuple[ZoneVersion, ...] = ()

    def of(self, zone_id: str) -> list[ZoneVersion]:
        """Versions of one zone, oldest first."""
        return [v for v in self.versions if v.zone_id == zone_id]

    def latest(self, zone_id: str) -> ZoneVersion | None:
        mine = self.of(zone_id)
        return mine[-1] if mine else None

    def current(self) -> dict[str, Zone]:
        """The live zones: each zone's latest version, unless deleted."""
        live: dict[str, Zone] = {}
        for v in self.versions:
            if v.zone is None:
                live.pop(v.zone_id, None)
            else:
                live[v.zone_id] = v.zone
        return live

    def version(self, zone_id: str, version: int) -> ZoneVersion:
        for v in self.of(zone_id):
            if v.version == version:
                return v
        raise ZoneError(f"zone {zone_id!r}: no version {version}")

    def _append(
        self, zone_id: str, action: ZoneAction, author: str, t_ms: int, zone: Zone | None, note: str
    ) -> ZoneHistory:
        if not author:
            raise ZoneError(f"zone {zone_id!r}: every change needs an author")
        previous = self.latest(zone_id)
        if self.versions and t_ms < self.versions[-1].t_ms:
            raise ZoneError(
                f"zone {zone_id!r}: change at {t_ms} is older than the last recorded change "
                f"({self.versions[-1].t_ms}); histories only grow forward"
            )
        before = previous.zone if previous else None
        entry = ZoneVersion(
            zone_id=zone_id,
            version=(previous.version + 1) if previous else 1,
            action=action,
            author=author,
            t_ms=int(t_ms),
            zone=zone,
            changed=changed_fields(before, zone),
            note=note,
        )
        return ZoneHistory((*self.versions, entry))

    def create(self, zone: Zone, author: str, t_ms: int, note: str = "") -> ZoneHistory:
        if zone.id in self.current():
            raise ZoneError(f"zone {zone.id!r}: already exists (update it instead)")
        return self._append(zone.id, "create", author, t_ms, zone, note)

    def update(self, zone: Zone, author: str, t_ms: int, note: str = "") -> ZoneHistory:
        previous = self.current().get(zone.id)
        if previous is None:
            raise ZoneError(f"zone {zone.id!r}: does not exist (create it first)")
        if not changed_fields(previous, zone):
            return self
        return self._append(zone.id, "update", author, t_ms, zone, note)

    def delete(self, zone_id: str, author: str, t_ms: int, note: str = "") -> ZoneHistory:
        if zone_id not in self.current():
            raise ZoneError(f"zone {zone_id!r}: does not exist")
        return self._append(zone_id, "delete", author, t_ms, None, note)

    def restore(self, zone_id: str, version: int, author: str, t_ms: int) -> ZoneHistory:
        """Make an earlier version current again, as a new version (nothing is rewritten)."""
        old = self.version(zone_id, version)
        if old.zone is None:
            raise ZoneError(
                f"zone {zone_id!r}: version {version} is a deletion; nothing to restore"
            )
        return self._append(
            zone_id, "restore", author, t_ms, old.zone, f"restored version {version}"
        )

    def to_records(self) -> list[dict[str, Any]]:
        """JSON-ready rows, one per version, for the server to persist."""
        return [
            {
                "zone_id": v.zone_id,
                "version": v.version,
                "action": v.action,
                "author": v.author,
                "t_ms": v.t_ms,
                "zone": zone_to_dict(v.zone) if v.zone is not None else None,
                "changed": list(v.changed),
                "note": v.note,
            }
            for v in self.versions
        ]

    @classmethod
    def from_records(cls, records: list[dict[str, Any]]) -> ZoneHistory:
        """Rebuild a history from ``to_records`` rows (validated: bad rows raise ``ZoneError``)."""
        versions = []
        for i, row in enumerate(records):
            try:
                action = row["action"]
                if action not in ACTIONS:
                    raise ZoneError(f"history row {i}: unknown action {action!r}")
                versions.append(
                    ZoneVersion(
                        zone_id=str(row["zone_id"]),
                        version=int(row["version"]),
                        action=action,
                        author=str(row["author"]),
                        t_ms=int(row["t_ms"]),
                        zone=zone_from_dict(row["zone"]) if row.get("zone") is not None else None,
                        changed=tuple(row.get("changed") or ()),
                        note=str(row.get("note") or ""),
                    )
                )
            except (KeyError, TypeError, ValueError) as exc:
                if isinstance(exc, ZoneError):
                    raise
                raise ZoneError(f"history row {i}: malformed ({exc})") from exc
        return cls(tuple(versions))
