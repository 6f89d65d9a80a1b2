"""The websocket messages apps, screens and the live feed send, as pydantic models.

Every frame is a JSON object with a ``type``; one discriminated union per endpoint parses and
validates it in one step (unknown fields, NaN, infinities and wrong types are refused with a
reason). docs/protocol.md describes each one with examples.
"""

from __future__ import annotations

from functools import cached_property
from typing import Annotated, Literal, Protocol

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, TypeAdapter, model_validator

# A batch is about a second of sensing: 50 IMU samples × 4 sensors plus the radios heard.
# Ten times that covers a phone catching up after a stall; more is a bug or an attack.
MAX_READINGS_PER_BATCH = 2000

# Sensor magnitudes: accelerometer ≤ 16 g ≈ 157 m/s², gyro ≤ 35 rad/s, magnetometer ≤ 4900 µT.
SENSOR_LIMIT = 5000.0
RSSI_MIN_DBM, RSSI_MAX_DBM = -150.0, 20.0
MAX_MILLIS = 2**53  # the largest integer a JavaScript number holds exactly
MAX_SHORT_TEXT = 128

Finite = Annotated[float, Field(allow_inf_nan=False)]
SensorValue = Annotated[float, Field(ge=-SENSOR_LIMIT, le=SENSOR_LIMIT, allow_inf_nan=False)]
Rssi = Annotated[float, Field(ge=RSSI_MIN_DBM, le=RSSI_MAX_DBM, allow_inf_nan=False)]
Millis = Annotated[int, Field(ge=0, le=MAX_MILLIS)]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=MAX_SHORT_TEXT)]
Consent = Literal["location_analytics", "personalised_offers", "signage"]


class Frame(BaseModel):
    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, frozen=True)


def _aligned_and_in_order(series: Frame, names: tuple[str, ...]) -> None:
    """Every column as long as ``t_ms``, and ``t_ms`` never going back."""
    t_ms: list[int] = getattr(series, "t_ms")  # noqa: B009 (every series has one)
    for name in names:
        if len(getattr(series, name)) != len(t_ms):
            raise ValueError(
                f"{name} has {len(getattr(series, name))} values for {len(t_ms)} times"
            )
    # sorted() of an already sorted list is one C-level pass: ~20× a pairwise generator.
    if sorted(t_ms) != t_ms:
        raise ValueError("t_ms goes backwards (samples must be in arrival order)")


class VectorSeries(Frame):
    """Samples of one three-axis sensor, column by column (Android ``SensorEvent.values[0..2]``)."""

    t_ms: list[Millis] = Field(min_length=1, max_length=MAX_READINGS_PER_BATCH)
    x: list[SensorValue]
    y: list[SensorValue]
    z: list[SensorValue]

    @model_validator(mode="after")
    def _aligned(self) -> VectorSeries:
        _aligned_and_in_order(self, ("x", "y", "z"))
        return self


class BeaconSeries(Frame):
    t_ms: list[Millis] = Field(min_length=1, max_length=MAX_READINGS_PER_BATCH)
    beacon_id: list[ShortText]
    rssi_dbm: list[Rssi]
    tx_power_dbm: list[Rssi | None] | None = None  # None: no beacon advertised its power

    @model_validator(mode="after")
    def _aligned(self) -> BeaconSeries:
        names = ("beacon_id", "rssi_dbm") + (() if self.tx_power_dbm is None else ("tx_power_dbm",))
        _aligned_and_in_order(self, names)
        return self


class WifiSeries(Frame):
    t_ms: list[Millis] = Field(min_length=1, max_length=MAX_READINGS_PER_BATCH)
    bssid: list[ShortText]
    rssi_dbm: list[Rssi]
    last_seen_ms: list[Millis]

    @model_validator(mode="after")
    def _aligned(self) -> WifiSeries:
        _aligned_and_in_order(self, ("bssid", "rssi_dbm", "last_seen_ms"))
        return self


# ---- shopper app → server ----------------------------------------------------------------------


class Hello(Frame):
    type: Literal["hello"]
    token: Annotated[str, StringConstraints(min_length=1, max_length=200)]
    store_id: int
    app_version: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    consents: list[Consent] = Field(default_factory=list, max_length=3)
    # Highest offer sequence number the app has seen; None on a fresh install.
    last_seen_seq: Annotated[int, Field(ge=0)] | None = None
    # Which frame acknowledges a readings batch: ``readings_ack`` (then its ``position`` frames),
    # or ``position``: the batch's first ``position`` frame carries ``accepted`` and
    # ``positioning`` and no ``readings_ack`` is sent (one frame a batch instead of two; a batch
    # with no position still gets its ``readings_ack``). docs/protocol.md, "hello".
    answers: Literal["readings_ack", "position"] = "readings_ack"


class ReadingsBatch(Frame):
    """About a second of sensing, one column series per sensor (docs/protocol.md).

    Columns rather than one object per sample: a third of the bytes, three times faster to
    validate, and what a batched filter wants (``np.asarray(batch.accel.x)``).
    """

    type: Literal["readings"]
    accel: VectorSeries | None = None
    gyro: VectorSeries | None = None
    mag: VectorSeries | None = None
    rotation: VectorSeries | None = None
    beacons: BeaconSeries | None = None
    wifi: WifiSeries | None = None

    @model_validator(mode="after")
    def _bounded(self) -> ReadingsBatch:
        count = self.count()
        if count == 0:
            raise ValueError("a readings batch needs at least one series")
        if count > MAX_READINGS_PER_BATCH:
            raise ValueError(f"{count} readings in one batch, over {MAX_READINGS_PER_BATCH}")
        return self

    def series(self) -> dict[str, VectorSeries | BeaconSeries | WifiSeries]:
        """The series present, by name."""
        named = {"accel": self.accel, "gyro": self.gyro, "mag": self.mag,
                 "rotation": self.rotation, "beacons": self.beacons, "wifi": self.wifi}  # fmt: skip
        return {name: value for name, value in named.items() if value is not None}

    # Cached: the socket, the raw store and the pipeline each ask (≈ 1.5 µs a call otherwise).
    @cached_property
    def _count(self) -> int:
        return sum(len(s.t_ms) for s in self.series().values())

    @cached_property
    def _time_span(self) -> tuple[int, int]:
        present = self.series().values()  # each series is in time order: its ends suffice
        return min(s.t_ms[0] for s in present), max(s.t_ms[-1] for s in present)

    def count(self) -> int:
        return self._count

    def time_span(self) -> tuple[int, int]:
        """Earliest and latest ``t_ms`` of the batch (each series is in time order)."""
        return self._time_span


class CountedReadings(Protocol):
    """What the raw store and the pipeline read of a readings batch: a ``ReadingsBatch``, or a
    binary frame whose numbers the tick checks (``readings_binary.BinaryReadings``)."""

    def count(self) -> int: ...

    def time_span(self) -> tuple[int, int]: ...


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
