"""Radio fingerprints from a reading stream: Wi-Fi scans plus the beacons heard just before.

Wi-Fi scan results are cached by Android: a scan delivered at ``t_ms`` lists access points last
heard up to tens of seconds earlier. A fingerprint keeps only *new* observations (an access point
whose ``last_seen_ms`` moved since the previous scan) that are at most ``MAX_WIFI_AGE_MS`` old, and
dates the fingerprint at the median ``last_seen_ms`` of what it keeps — where the phone was when
it heard them, not where it was when the list arrived. Beacons heard in the ``BEACON_WINDOW_MS``
before the scan join it (strongest RSSI per beacon). Without Wi-Fi (a beacons-only store) a
fingerprint of beacons is cut every ``BEACON_WINDOW_MS``.

The same assembler builds the radio map from survey walks and feeds the live tracker, so the map
and the queries describe the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass

from positioning.readings import BeaconReading, Reading, WifiReading

# Older than this, a cached entry was heard where the shopper no longer is (≈ 7 m at walking
# pace); the scan interval in the recordings is ≈ 1.9 s, so fresh entries are at most ≈ 2–4 s old.
MAX_WIFI_AGE_MS = 5000
# Until the first fingerprint, older entries are accepted: a rough first position now is worth
# more than a sharp one two scans later (the tracker has nothing else to start from).
MAX_FIRST_WIFI_AGE_MS = 15000
# Beacon adverts (≈ 1–10 Hz) heard within this window before a scan belong to its fingerprint.
BEACON_WINDOW_MS = 2000
# No Wi-Fi scan for this long: the phone (or the store) has no Wi-Fi; cut beacon-only prints.
WIFI_ABSENT_MS = 6000
# Fewer radio sources than this says too little about position to be matched.
MIN_SOURCES = 2


@dataclass(frozen=True, slots=True)
class Fingerprint:
    """RSSI by source id (Wi-Fi BSSID or beacon id) heard around ``heard_ms``; ready at ``t_ms``."""

    t_ms: int
    heard_ms: int
    rssi_dbm: dict[str, float]


class ScanAssembler:
    """Push readings in arrival order; ``push`` returns the fingerprints completed by it."""

    def __init__(self, ignored_ids: frozenset[str] = frozenset()) -> None:
        self.ignored_ids = ignored_ids
        self._scan_ms: int | None = None
        self._scan: list[WifiReading] = []
        self._last_seen: dict[str, int] = {}
        self._beacons: list[BeaconReading] = []
        self._last_wifi_ms: int | None = None
        self._last_beacon_cut_ms: int | None = None
        self._emitted = False

    def push(self, reading: Reading) -> list[Fingerprint]:
        done: list[Fingerprint] = []
        if self._scan and not (isinstance(reading, WifiReading) and reading.t_ms == self._scan_ms):
            done += self._close_scan()
        if isinstance(reading, WifiReading):
            if reading.bssid not in self.ignored_ids:
                self._scan_ms = reading.t_ms
                self._scan.append(reading)
                self._last_wifi_ms = reading.t_ms
        elif isinstance(reading, BeaconReading) and reading.beacon_id not in self.ignored_ids:
            self._beacons.append(reading)
            done += self._beacon_only(reading.t_ms)
        return done

    def flush(self) -> list[Fingerprint]:
        """Close the scan in progress (end of a walk)."""
        return self._close_scan() if self._scan else []

    def _recent_beacons(self, t_ms: int) -> dict[str, float]:
        start = t_ms - BEACON_WINDOW_MS
        self._beacons = [b for b in self._beacons if b.t_ms > start]
        strongest: dict[str, float] = {}
        for b in self._beacons:
            if b.t_ms <= t_ms:
                strongest[b.beacon_id] = max(strongest.get(b.beacon_id, -1e9), b.rssi_dbm)
        return strongest

    def _close_scan(self) -> list[Fingerprint]:
        scan, self._scan = self._scan, []
        t_ms = scan[0].t_ms
        max_age = MAX_WIFI_AGE_MS if self._emitted else MAX_FIRST_WIFI_AGE_MS
        fresh = []
        for entry in scan:
            previous = self._last_seen.get(entry.bssid)
            self._last_seen[entry.bssid] = max(entry.last_seen_ms, previous or entry.last_seen_ms)
            is_new = previous is None or entry.last_seen_ms > previous
            if is_new and t_ms - entry.last_seen_ms <= max_age:
                fresh.append(entry)
        rssi = {e.bssid: e.rssi_dbm for e in fresh}
        heard = sorted(min(e.last_seen_ms, t_ms) for e in fresh)
        heard_ms = heard[len(heard) // 2] if heard else t_ms
        rssi.update(self._recent_beacons(t_ms))
        if len(rssi) < MIN_SOURCES:
            return []
        self._emitted = True
        return [Fingerprint(t_ms, heard_ms, rssi)]

    def _beacon_only(self, t_ms: int) -> list[Fingerprint]:
        if self._last_wifi_ms is not None and t_ms - self._last_wifi_ms < WIFI_ABSENT_MS:
            return []
        if self._last_beacon_cut_ms is None:
            self._last_beacon_cut_ms = t_ms
        if t_ms - self._last_beacon_cut_ms < BEACON_WINDOW_MS:
            return []
        self._last_beacon_cut_ms = t_ms
        rssi = self._recent_beacons(t_ms)
        if len(rssi) < MIN_SOURCES:
            return []
        # Half a window back: the adverts are spread over it.
        return [Fingerprint(t_ms, t_ms - BEACON_WINDOW_MS // 2, rssi)]
