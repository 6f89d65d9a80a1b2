"""Radio propagation on the floor, and what a phone's BLE and Wi-Fi scanners report.

Received power of a packet (dBm):

    RSSI = P₁ₘ − 10·n·log₁₀(d) + S(x, y) − L_body·max(0, −cos Δ)·(d_xy/d) + F + o_phone

P₁ₘ the beacon's measured power at 1 m, n the path-loss exponent, d the 3-D distance (beacons
hang at ceiling height, the phone is at hand height), S a spatially correlated shadowing field
per radio (same place, same value), Δ the angle between the way the shopper faces and the
direction to the radio (the phone is in front of the body, so a radio behind the shopper is
heard through the body), F per-packet fast fading, o_phone the phone's RSSI offset. Values
and their sources are in ``docs/simulator.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from simulator.fields import RandomFields
from simulator.store import Store

# ---- BLE (2.4 GHz) ----
# Path-loss exponent on a shop floor with shelves: 2 is free space; measured BLE indoor
# exponents are ~1.8–3 (obstructed line of sight toward the top of that range).
BLE_PATH_LOSS_EXPONENT = 2.5
# Log-normal shadowing σ: BLE indoor measurements report 3.5–6 dB; 4.5 dB with a 3 m
# correlation length (decorrelation distances of a few metres indoors, Gudmundson-style).
BLE_SHADOWING_DB, BLE_SHADOWING_LENGTH_M = 4.5, 3.0
# Per-packet fast fading (multipath, and the three advertising channels differ by a few dB).
BLE_FADING_DB = 2.5
# Loss through the shopper's body when the radio is right behind them: 5–10 dB at 2.4 GHz.
BODY_LOSS_DB = 7.0
# Advertising: every 100 ms (10 Hz) plus the spec's 0–10 ms random advDelay.
ADVERTISING_INTERVAL_MS, ADV_DELAY_MAX_MS = 100.0, 10.0
# Receiver sensitivity: packets fade out around −98 dBm over a few dB.
BLE_SENSITIVITY_DBM, BLE_SENSITIVITY_WIDTH_DB = -98.0, 1.5
# Phone held at hand height (chest level).
PHONE_HEIGHT_M = 1.2

# ---- Wi-Fi ----
# Through shelves and shoppers at 2.4/5 GHz: n ≈ 3 (ITU-R P.1238 commercial: 2.2–3.0 power law).
WIFI_PATH_LOSS_EXPONENT = 3.0
WIFI_SHADOWING_DB, WIFI_SHADOWING_LENGTH_M = 5.0, 3.0
WIFI_FADING_DB = 2.0
WIFI_SENSITIVITY_DBM = -92.0
WIFI_AP_HEIGHT_M = 3.0

# ---- Indoor magnetic anomalies (steel shelving, refrigeration, rebar) ----
# Indoor field anomalies of ±5–20 µT near steel; a 6 µT σ per axis with ~1.5 m correlation.
MAG_ANOMALY_UT, MAG_ANOMALY_LENGTH_M = 6.0, 1.5


@dataclass(frozen=True)
class RadioEnvironment:
    """The store's radios and their fixed environment (shadowing and magnetic fields)."""

    beacon_xyz: np.ndarray  # (B, 3)
    beacon_tx_dbm: np.ndarray  # (B,)
    beacon_shadowing: RandomFields
    ap_xyz: np.ndarray  # (A, 3)
    ap_power_dbm: np.ndarray  # (A,)
    ap_shadowing: RandomFields
    magnetic_anomaly: RandomFields  # three fields: east, north, up components

    @classmethod
    def for_store(cls, store: Store, seed: int) -> RadioEnvironment:
        """The environment is the store's: every shopper of a run walks through the same one."""
        rng = np.random.default_rng([seed, 0x4AD10])
        beacons, aps = store.beacons, store.wifi
        return cls(
            beacon_xyz=np.array([[b.x, b.y, b.height_m] for b in beacons], dtype=float).reshape(
                -1, 3
            ),
            beacon_tx_dbm=np.array([b.tx_power_dbm for b in beacons], dtype=float),
            beacon_shadowing=RandomFields.make(
                len(beacons), BLE_SHADOWING_DB, BLE_SHADOWING_LENGTH_M, rng
            ),
            ap_xyz=np.array([[a.x, a.y, WIFI_AP_HEIGHT_M] for a in aps], dtype=float).reshape(
                -1, 3
            ),
            ap_power_dbm=np.array([a.power_1m_dbm for a in aps], dtype=float),
            ap_shadowing=RandomFields.make(
                len(aps), WIFI_SHADOWING_DB, WIFI_SHADOWING_LENGTH_M, rng
            ),
            magnetic_anomaly=RandomFields.make(3, MAG_ANOMALY_UT, MAG_ANOMALY_LENGTH_M, rng),
        )

    def beacon_mean_rssi(
        self, beacon: np.ndarray, x: np.ndarray, y: np.ndarray, heading_deg: np.ndarray
    ) -> np.ndarray:
        """Mean RSSI (before fading and phone offset) of ``beacon[i]`` heard at pose i."""
        return _mean_rssi(
            self.beacon_xyz[beacon],
            self.beacon_tx_dbm[beacon],
            BLE_PATH_LOSS_EXPONENT,
            self.beacon_shadowing.at(beacon, x, y),
            x,
            y,
            heading_deg,
        )

    def ap_mean_rssi(
        self, ap: np.ndarray, x: np.ndarray, y: np.ndarray, heading_deg: np.ndarray
    ) -> np.ndarray:
        return _mean_rssi(
            self.ap_xyz[ap],
            self.ap_power_dbm[ap],
            WIFI_PATH_LOSS_EXPONENT,
            self.ap_shadowing.at(ap, x, y),
            x,
            y,
            heading_deg,
        )


def _mean_rssi(
    radio_xyz: np.ndarray,
    power_1m_dbm: np.ndarray,
    exponent: float,
    shadowing_db: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    heading_deg: np.ndarray,
) -> np.ndarray:
    dx, dy = radio_xyz[:, 0] - x, radio_xyz[:, 1] - y
    dz = radio_xyz[:, 2] - PHONE_HEIGHT_M
    d_xy = np.hypot(dx, dy)
    d = np.maximum(np.sqrt(d_xy**2 + dz**2), 0.1)
    # cos Δ between facing and the bearing to the radio; behind (cos < 0) costs body loss,
    # scaled by how horizontal the path is (a radio overhead is not behind the body).
    heading = np.radians(heading_deg)
    cos_delta = (dx * np.cos(heading) + dy * np.sin(heading)) / np.maximum(d_xy, 1e-6)
    body = BODY_LOSS_DB * np.maximum(0.0, -cos_delta) * (d_xy / d)
    return power_1m_dbm - 10.0 * exponent * np.log10(d) + shadowing_db - body


def altbeacon_distance_m(rssi_dbm: np.ndarray, tx_power_dbm: np.ndarray) -> np.ndarray:
    """The distance estimate Android beacon libraries print (the recordings' distance column):
    r = rssi/tx; d = r¹⁰ if r < 1 else 0.89976·r^7.7095 + 0.111 (AltBeacon's Nexus 4 fit)."""
    ratio = np.asarray(rssi_dbm, dtype=float) / np.asarray(tx_power_dbm, dtype=float)
    return np.where(ratio < 1.0, ratio**10, 0.89976 * ratio**7.7095 + 0.111)


def detection_probability(rssi_dbm: np.ndarray) -> np.ndarray:
    """Chance a packet at this RSSI is decoded: a logistic edge at the sensitivity."""
    return 1.0 / (
        1.0 + np.exp(-(np.asarray(rssi_dbm) - BLE_SENSITIVITY_DBM) / BLE_SENSITIVITY_WIDTH_DB)
    )
