"""The websocket messages apps, screens and the live feed send, as pydantic models.

Every frame is a JSON object with a ``type``; one discriminated union per endpoint parses and
validates it in one step (unknown fields, NaN, infinities and wrong types are refused with a
reason). docs/protocol.md describes each one with examples.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter

# A batch is about a second of sensing: 50 IMU samples × 4 sensors plus the radios heard.
# Ten times that covers a phone catching up after a stall; more is a bug or an attack.
MAX_READINGS_PER_BATCH = 2000

Finite = Annotated[float, Field(allow_inf_nan=False)]
# Sensor magnitudes: accelerometer ≤ 16 g ≈ 157 m/s², gyro ≤ 35 rad/s, magnetometer ≤ 4900 µT.
SensorValue = Annotated[float, Field(ge=-5000.0, le=5000.0, allow_inf_nan=False)]
Rssi = Annotated[float, Field(ge=-150.0, le=20.0, allow_inf_nan=False)]
Millis = Annotated[int, Field(ge=0, le=2**53)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=128)]
Consent = Literal["location_analytics", "personalised_offers", "signage"]


class Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


class _Vector(Frame):
    t_ms: Millis
    x: SensorValue
    y: SensorValue
    z: SensorValue


class AccelFrame(_Vector):
    kind: Literal["accel"]


class GyroFrame(_Vector):
    kind: Literal["gyro"]


class MagFrame(_Vector):
    kind: Literal["mag"]


class RotationFrame(_Vector):
    kind: Literal["rotation"]


class BeaconFrame(Frame):
    kind: Literal["beacon"]
    t_ms: Millis
    beacon_id: ShortText
    rssi_dbm: Rssi
    tx_power_dbm: Rssi | None = None


class WifiFrame(Frame):
    kind: Literal["wifi"]
    t_ms: Millis
    bssid: ShortText
    rssi_dbm: Rssi
    last_seen_ms: Millis


ReadingFrame = Annotated[
    AccelFrame | GyroFrame | MagFrame | RotationFrame | BeaconFrame | WifiFrame,
    Field(discriminator="kind"),
]


# ---- shopper app → server ----------------------------------------------------------------------


class Hello(Frame):
    type: Literal["hello"]
    token: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    store_id: int
    app_version: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    consents: list[Consent] = Field(default_factory=list, max_length=3)
    # Highest offer sequence number the app has seen; None on a fresh install.
    last_seen_seq: Annotated[int, Field(ge=0)] | None = None


class ReadingsBatch(Frame):
    type: Literal["readings"]
    readings: list[ReadingFrame] = Field(min_length=1, max_length=MAX_READINGS_PER_BATCH)


class Fix(Frame):
    """A position the app computed itself (apps that position themselves)."""

    type: Literal["fix"]
    t_ms: Millis
    x: Annotated[float, Field(ge=-2000.0, le=2000.0, allow_inf_nan=False)]
    y: Annotated[float, Field(ge=-2000.0, le=2000.0, allow_inf_nan=False)]
    heading_deg: Annotated[float, Field(ge=0.0, lt=360.0, allow_inf_nan=False)]
    accuracy_m: Annotated[float, Field(ge=0.0, le=500.0, allow_inf_nan=False)]
    floor_id: int | None = None


class AppEventFrame(Frame):
    type: Literal["event"]
    kind: Literal["app_open", "offer_opened", "offer_redeemed"]
    t_ms: Millis
    offer_id: Annotated[str, StringConstraints(min_length=1, max_length=36)] | None = None


class Ack(Frame):
    type: Literal["ack"]
    seq: Annotated[int, Field(ge=1)]


class Bye(Frame):
    """The shopper left the store (the app saw the exit geofence or the user ended the visit)."""

    type: Literal["bye"]
    t_ms: Millis


ShopperFrame = Annotated[
    Hello | ReadingsBatch | Fix | AppEventFrame | Ack | Bye, Field(discriminator="type")
]
SHOPPER_FRAME: TypeAdapter[Hello | ReadingsBatch | Fix | AppEventFrame | Ack | Bye] = TypeAdapter(
    ShopperFrame
)


# ---- screen → server ---------------------------------------------------------------------------


class Register(Frame):
    type: Literal["register"]
    token: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    zone_id: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = None


class Played(Frame):
    """Proof of play: what was on screen, from when, for how long."""

    type: Literal["played"]
    content_id: ShortText
    play_id: Annotated[str, StringConstraints(min_length=1, max_length=36)] | None = None
    started_ms: Millis
    # A play longer than a day is a screen that never reported; refuse it rather than skew reports.
    duration_ms: Annotated[int, Field(ge=0, le=86_400_000)]


ScreenFrame = Annotated[Register | Played, Field(discriminator="type")]
SCREEN_FRAME: TypeAdapter[Register | Played] = TypeAdapter(ScreenFrame)


# ---- staff live feed → server ------------------------------------------------------------------


class LiveHello(Frame):
    type: Literal["hello"]
    token: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    store_id: int


LIVE_FRAME: TypeAdapter[LiveHello] = TypeAdapter(LiveHello)
