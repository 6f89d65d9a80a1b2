"""A whole offline run: store → customers → visits → phones → a floor folder of walks.

Output (``out_dir``)::

    <floor>/floor_info.json, floor_image.png, geojson_map.json, path_data_files/<walk>.txt
    store.json, zones.geojson, products.csv, customers.csv, purchases.csv

Seeds: the store's radio environment and the customer base come from ``seed``; shopper i
draws everything (list, gait, phone, noise) from ``default_rng([seed, i])``, so adding shoppers
does not change the earlier ones, and the same seed writes the same bytes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np

from positioning.floorplan import WALKS_DIR
from positioning.walkfile import WalkHeader, write_walk
from simulator.customers import CustomerBase, make_customer_base, write_customer_base
from simulator.demo_store import demo_store
from simulator.floor_output import write_floor_folder, write_zones_geojson
from simulator.ilc_store import ilc_store
from simulator.phone import WAYPOINT_INTERVAL_MS, SimulatedPhone, make_phone_profile, walk_rows
from simulator.radio import RadioEnvironment
from simulator.routes import RouteGrid
from simulator.scanners import ScannerSettings
from simulator.shopper import LIST_MAX, plan_visit
from simulator.store import Store, load_store, write_store
from simulator.walking import Trajectory

# Simulated visits start on this day (2026-03-02 09:00 UTC) and every ~7 minutes after;
# purchase histories end the day before. Fixed, so runs do not depend on the clock.
FIRST_VISIT_MS = 1_772_442_000_000
VISIT_SPACING_MS = 420_000
# Customers in the base when there are few shoppers (a store has more customers than visitors).
MIN_CUSTOMERS = 50


@dataclass(frozen=True)
class SimulationSettings:
    scanners: ScannerSettings = field(default_factory=ScannerSettings)
    max_stops: int = LIST_MAX
    waypoint_interval_ms: int = WAYPOINT_INTERVAL_MS


@dataclass(frozen=True)
class WalkSummary:
    path: Path
    shopper_id: str
    duration_s: float
    distance_m: float
    steps: int
    rows: int


@dataclass(frozen=True)
class RunSummary:
    floor_dir: Path
    store_path: Path
    walks: tuple[WalkSummary, ...]


def resolve_store(spec: str, seed: int, ilc_root: Path | None = None) -> Store:
    """``demo``, ``ilc:<site>/<floor>`` (under the recordings root) or a path to ``store.json``."""
    if spec == "demo":
        return demo_store(seed)
    if spec.startswith("ilc:"):
        if ilc_root is None:
            raise FileNotFoundError(
                "the recordings (../shared/data/ilc or $AISLECAST_ILC_DATA) are not here"
            )
        floor_dir = ilc_root / spec.removeprefix("ilc:")
        if not (floor_dir / "floor_info.json").is_file():
            raise FileNotFoundError(f"{spec}: no floor folder at {floor_dir}")
        return ilc_store(floor_dir, seed)
    return load_store(spec)


def with_catalogue_skus(store: Store, customers: CustomerBase) -> Store:
    """Zones that carry categories list the catalogue's SKUs of those categories (zones that
    already list SKUs keep theirs), so a shelf zone can name what is on it."""
    by_category: dict[str, list[str]] = {}
    for product in customers.products:
        by_category.setdefault(product.category, []).append(product.sku)
    zones = tuple(
        z
        if z.skus or not z.categories
        else replace(z, skus=tuple(sku for c in z.categories for sku in by_category.get(c, [])))
        for z in store.zones
    )
    return replace(store, zones=zones)


def floor_folder_name(store: Store) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "-", store.name).strip("-") or "floor"


def simulate_visit(
    store: Store,
    grid: RouteGrid,
    environment: RadioEnvironment,
    customers: CustomerBase,
    index: int,
    seed: int,
    settings: SimulationSettings,
) -> tuple[str, Trajectory, SimulatedPhone]:
    """Shopper ``index``: their visit's true trajectory and the phone that will sense it."""
    rng = np.random.default_rng([seed, index])
    customer = customers.customers[index % len(customers.customers)]
    bought = customers.category_counts(customer.customer_id)
    visit = plan_visit(store, grid, customer.customer_id, bought, rng, max_stops=settings.max_stops)
    start_ms = (
        FIRST_VISIT_MS + index * VISIT_SPACING_MS + int(rng.integers(0, VISIT_SPACING_MS // 2))
    )
    trajectory = visit.trajectory(start_ms, rng)
    phone = SimulatedPhone(
        make_phone_profile(rng), store, environment, settings.scanners, start_ms, rng
    )
    return customer.customer_id, trajectory, phone


def simulate_to_folder(
    store: Store,
    shoppers: int,
    seed: int,
    out_dir: Path | str,
    settings: SimulationSettings | None = None,
    on_walk: Callable[[WalkSummary], None] | None = None,
) -> RunSummary:
    """Write the floor folder, ``store.json``, the zones, the CSVs and one walk per shopper."""
    settings = settings or SimulationSettings()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    floor_dir = write_floor_folder(store, out_dir / floor_folder_name(store))
    categories = sorted({c for z in store.zones for c in z.categories}) or ["general"]
    customers = make_customer_base(categories, max(MIN_CUSTOMERS, shoppers), FIRST_VISIT_MS, seed)
    write_customer_base(customers, out_dir)
    store = with_catalogue_skus(store, customers)
    store_path = write_store(store, out_dir / "store.json")
    write_zones_geojson(store, out_dir / "zones.geojson")
    grid = RouteGrid.build(store.floor_plan().walkable)
    environment = RadioEnvironment.for_store(store, seed)
    walks = []
    for index in range(shoppers):
        shopper_id, trajectory, phone = simulate_visit(
            store, grid, environment, customers, index, seed, settings
        )
        header = WalkHeader(
            site_id=f"aislecast-{floor_folder_name(store)}",
            site_name=store.name,
            floor_id=floor_folder_name(store),
            floor_name=floor_dir.name,
            brand=phone.profile.brand,
            model=phone.profile.model,
        )
        rows = list(walk_rows(trajectory, phone, settings.waypoint_interval_ms))
        path = write_walk(
            floor_dir / WALKS_DIR / f"sim{seed}_{index:04d}_{shopper_id}.txt", rows, header=header
        )
        walk = WalkSummary(
            path,
            shopper_id,
            (trajectory.end_ms - trajectory.start_ms) / 1000.0,
            trajectory.distance_m(),
            int(trajectory.step_phase[-1] + 0.5),
            len(rows),
        )
        walks.append(walk)
        if on_walk is not None:
            on_walk(walk)
    return RunSummary(floor_dir, store_path, tuple(walks))
