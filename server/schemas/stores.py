"""Stores, floors, zones, beacons and screens as the REST API reads and writes them."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import Field, StringConstraints, field_validator

from server.schemas.common import MAX_FLOOR_SIDE_M, ApiModel, HeadingDeg, Key, Metres, Name

ZoneKindName = Literal["area", "shelf", "screen", "entrance", "checkout", "obstacle"]
Side = Annotated[float, Field(gt=0.0, le=MAX_FLOOR_SIDE_M, allow_inf_nan=False)]
Point = tuple[Metres, Metres]
# A zone drawn by hand has a handful of vertices; thousands means an import gone wrong.
MAX_ZONE_VERTICES = 1000
Label = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=120)]


def _check_timezone(name: str) -> str:
    if name not in available_timezones():
        raise ValueError(f"unknown IANA time zone {name!r} (e.g. 'Europe/Berlin')")
    return name


class StoreCreate(ApiModel):
    name: Name
    timezone: str = "UTC"

    _tz = field_validator("timezone")(_check_timezone)


class StoreUpdate(ApiModel):
    name: Name | None = None
    timezone: str | None = None

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, name: str | None) -> str | None:
        return None if name is None else _check_timezone(name)


class StorePublic(ApiModel):
    id: int
    name: str
    timezone: str
    created_ms: int


class FloorCreate(ApiModel):
    name: Name
    width_m: Side
    height_m: Side


class FloorUpdate(ApiModel):
    name: Name | None = None
    width_m: Side | None = None
    height_m: Side | None = None


class FloorPublic(ApiModel):
    id: int
    store_id: int
    name: str
    width_m: float
    height_m: float
    image_type: str | None
    created_ms: int


class ZoneShape(ApiModel):
    """The zone document kept per version, the shape of a zone in ``store.json``."""

    name: Name
    kind: ZoneKindName
    polygon: list[Point] = Field(min_length=3, max_length=MAX_ZONE_VERTICES)
    categories: list[Label] = Field(default_factory=list, max_length=100)
    skus: list[Key] = Field(default_factory=list, max_length=1000)
    facing_deg: HeadingDeg | None = None
    view_distance_m: Side | None = None


class ZoneCreate(ZoneShape):
    id: Key | None = None  # generated when absent
    floor_id: int


class ZoneUpdate(ApiModel):
    floor_id: int | None = None
    name: Name | None = None
    kind: ZoneKindName | None = None
    polygon: list[Point] | None = Field(default=None, min_length=3, max_length=MAX_ZONE_VERTICES)
    categories: list[Label] | None = Field(default=None, max_length=100)
    skus: list[Key] | None = Field(default=None, max_length=1000)
    facing_deg: HeadingDeg | None = None
    view_distance_m: Side | None = None


class ZonePublic(ZoneShape):
    id: str
    store_id: int
    floor_id: int
    version: int


class ZoneVersionPublic(ApiModel):
    zone_id: str
    version: int
    action: str
    author_user_id: int | None
    created_ms: int
    floor_id: int
    document: dict[str, Any]


class BeaconCreate(ApiModel):
    id: Annotated[str, StringConstraints(min_length=1, max_length=128, pattern=r"^[\w.:\-]+$")]
    floor_id: int
    x: Metres
    y: Metres
    tx_power_dbm: Annotated[float, Field(ge=-120.0, le=20.0, allow_inf_nan=False)] | None = None


class BeaconUpdate(ApiModel):
    floor_id: int | None = None
    x: Metres | None = None
    y: Metres | None = None
    tx_power_dbm: Annotated[float, Field(ge=-120.0, le=20.0, allow_inf_nan=False)] | None = None


class BeaconPublic(ApiModel):
    id: str
    store_id: int
    floor_id: int
    x: float
    y: float
    tx_power_dbm: float | None


class PlaylistItem(ApiModel):
    """One thing a screen shows: no personal data, ever (campaign content or house content)."""

    content_id: Key
    title: Annotated[str, StringConstraints(max_length=200)] = ""
    body: Annotated[str, StringConstraints(max_length=2000)] = ""
    media_url: Annotated[str, StringConstraints(max_length=2000)] | None = None
    # Half a second is the shortest a viewer can read; an hour is a frozen screen.
    duration_s: Annotated[float, Field(ge=0.5, le=3600.0, allow_inf_nan=False)] = 10.0


class ScreenCreate(ApiModel):
    id: Key
    floor_id: int
    zone_id: Key | None = None
    name: Name
    x: Metres
    y: Metres
    facing_deg: HeadingDeg | None = None
    playlist: list[PlaylistItem] = Field(default_factory=list, max_length=200)


class ScreenUpdate(ApiModel):
    floor_id: int | None = None
    zone_id: Key | None = None
    name: Name | None = None
    x: Metres | None = None
    y: Metres | None = None
    facing_deg: HeadingDeg | None = None
    playlist: list[PlaylistItem] | None = Field(default=None, max_length=200)


class ScreenPublic(ApiModel):
    id: str
    store_id: int
    floor_id: int
    zone_id: str | None
    name: str
    x: float
    y: float
    facing_deg: float | None
    playlist: list[PlaylistItem]
    current: dict[str, Any] | None
    last_played: dict[str, Any] | None
    online: bool
    last_seen_ms: int | None
