"""Where radios go: an iBeacon grid at a chosen density and a sparser Wi-Fi access point grid."""

from __future__ import annotations

import math

import numpy as np
import shapely
from shapely.geometry import MultiPolygon, Polygon

from simulator.store import Beacon, WifiAccessPoint

# One UUID for the whole retailer; major = store, minor = beacon (the usual iBeacon scheme).
DEMO_BEACON_UUID = "A15CA57D-5E11-4B1A-9C0D-0000000000A1"
# Typical factory "measured power" (RSSI at 1 m) of iBeacons at 0 dBm transmit power.
BEACON_TX_POWER_DBM = -59.0
# Ceiling mounting height: out of reach, above shelves (gondolas are 1.6–2.2 m tall).
BEACON_HEIGHT_M = 2.8
# Placement jitter: installers snap to ceiling tiles and lights, not an exact lattice.
GRID_JITTER_M = 0.6
# A Wi-Fi AP 1 m away reads about this (20 dBm EIRP minus 40 dB free-space loss at 2.4 GHz, 1 m).
WIFI_POWER_1M_DBM = -38.0


def _mac(rng: np.random.Generator) -> str:
    return ":".join(f"{b:02X}" for b in rng.integers(0, 256, size=6))


def _grid_points(
    area: Polygon | MultiPolygon, cell_area_m2: float, rng: np.random.Generator
) -> list[tuple[float, float]]:
    """Points on a square grid of ``cell_area_m2`` per point, jittered, kept where ``area`` is."""
    # Whole numbers of cells across each side, so the grid fills the bounds evenly.
    spacing = math.sqrt(cell_area_m2)
    min_x, min_y, max_x, max_y = area.bounds
    nx = max(1, round((max_x - min_x) / spacing))
    ny = max(1, round((max_y - min_y) / spacing))
    xs = min_x + (np.arange(nx) + 0.5) * (max_x - min_x) / nx
    ys = min_y + (np.arange(ny) + 0.5) * (max_y - min_y) / ny
    gx, gy = np.meshgrid(xs, ys)
    gx = gx.ravel() + rng.uniform(-GRID_JITTER_M, GRID_JITTER_M, gx.size)
    gy = gy.ravel() + rng.uniform(-GRID_JITTER_M, GRID_JITTER_M, gy.size)
    # Ceiling radios may hang over shelves, but not outside the building.
    inside = shapely.contains_xy(area, gx, gy)
    return [(float(x), float(y)) for x, y in zip(gx[inside], gy[inside], strict=True)]


def beacon_grid(
    area: Polygon | MultiPolygon,
    area_per_beacon_m2: float,
    rng: np.random.Generator,
    *,
    major: int = 1,
    uuid: str = DEMO_BEACON_UUID,
) -> list[Beacon]:
    """iBeacons, one per ``area_per_beacon_m2`` over ``area``; ids as the recordings spell them."""
    beacons = []
    for minor, (x, y) in enumerate(_grid_points(area, area_per_beacon_m2, rng), start=1):
        mac = _mac(rng)
        beacons.append(
            Beacon(
                id=f"{uuid}_{major}_{minor}_{mac}",
                x=round(x, 3),
                y=round(y, 3),
                tx_power_dbm=BEACON_TX_POWER_DBM,
                uuid=uuid,
                major=major,
                minor=minor,
                mac=mac,
                height_m=BEACON_HEIGHT_M,
            )
        )
    return beacons


def wifi_grid(
    area: Polygon | MultiPolygon, area_per_ap_m2: float, rng: np.random.Generator
) -> list[WifiAccessPoint]:
    """Dual-band access points (a 2.4 GHz and a 5 GHz radio each), one per ``area_per_ap_m2``."""
    aps = []
    channels_24 = (2412, 2437, 2462)  # the three non-overlapping 2.4 GHz channels 1, 6, 11
    channels_5 = (5180, 5200, 5220, 5240, 5745, 5765, 5785, 5805)
    for i, (x, y) in enumerate(_grid_points(area, area_per_ap_m2, rng)):
        base = _mac(rng).lower()
        for ssid, freq, last in (
            ("store-guest", channels_24[i % 3], "0"),
            ("store-guest-5G", channels_5[i % len(channels_5)], "1"),
        ):
            aps.append(
                WifiAccessPoint(
                    bssid=base[:-1] + last,
                    ssid=ssid,
                    x=round(x, 3),
                    y=round(y, 3),
                    frequency_mhz=freq,
                    # 5 GHz loses ~7 dB more than 2.4 GHz at 1 m (20·log10(5.2/2.4)).
                    power_1m_dbm=WIFI_POWER_1M_DBM - (7.0 if freq > 5000 else 0.0),
                )
            )
    return aps
