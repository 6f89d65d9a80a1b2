"""Simulator: shoppers walking a store, emitting what their phones would sense.

Offline: ``simulate_to_folder(store, shoppers, seed, out_dir)`` writes a floor folder in the
recordings' layout plus ``store.json`` and the customer CSVs. Stores come from ``demo_store``,
``ilc_store`` (a recorded floor) or ``load_store`` (``store.json``). For streaming, drive a
``SimulatedPhone`` through a visit's trajectory with ``walk_windows``.
"""

from simulator.demo_store import demo_store
from simulator.ilc_store import ilc_store
from simulator.phone import SimulatedPhone, walk_rows, walk_windows
from simulator.run import SimulationSettings, resolve_store, simulate_to_folder, simulate_visit
from simulator.store import Store, StoreError, load_store, write_store

__all__ = [
    "SimulatedPhone",
    "SimulationSettings",
    "Store",
    "StoreError",
    "demo_store",
    "ilc_store",
    "load_store",
    "resolve_store",
    "simulate_to_folder",
    "simulate_visit",
    "walk_rows",
    "walk_windows",
    "write_store",
]
