"""``aislecast simulate``: walk synthetic shoppers through a store; write what phones sense."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from aislecast.commands.live_run import MAX_LIVE_SPEED, print_live_report, run_live_shoppers
from aislecast.paths import ilc_root
from positioning.floorplan import FloorPlanError
from simulator.live import LiveSettings
from simulator.routes import RouteError
from simulator.run import SimulationSettings, resolve_store, simulate_to_folder
from simulator.scanners import BLE_MODES, ScannerSettings
from simulator.server_store import StaffAuth, load_server_store
from simulator.shopper import LIST_MAX
from simulator.store import Store, StoreError


def simulate(
    out: Annotated[
        Path | None,
        typer.Option(help="Folder to write the floor folder, store.json and CSVs into (offline)."),
    ] = None,
    server: Annotated[
        str | None,
        typer.Option(help="Live mode: connect the phones to this server (http://host:port)."),
    ] = None,
    speed: Annotated[
        float,
        typer.Option(
            min=1.0,
            max=MAX_LIVE_SPEED,
            help="Live: simulated seconds per wall second (the server allows ~20 frames/s).",
        ),
    ] = 1.0,
    tokens: Annotated[
        Path | None,
        typer.Option(help="Live: the app tokens file of `aislecast seed --tokens-out`."),
    ] = None,
    max_visit_s: Annotated[
        float | None, typer.Option(min=1.0, help="Live: cut each visit after this many seconds.")
    ] = None,
    stagger_s: Annotated[
        float, typer.Option(min=0.0, help="Live: wall seconds between shoppers walking in.")
    ] = 0.0,
    distinct_visits: Annotated[
        int | None,
        typer.Option(
            min=1,
            help="Live load mode: sense only this many visits and let the shoppers share them "
            "(each keeps its own customer and token); for hundreds of phones or more.",
        ),
    ] = None,
    store: Annotated[
        str,
        typer.Option(
            help="'demo', 'ilc:<site>/<floor>' (a recorded mall floor) or a store.json path."
        ),
    ] = "demo",
    from_server: Annotated[
        str | None,
        typer.Option(help="Offline: walk the store --store-id defined in this server (http://…)."),
    ] = None,
    store_id: Annotated[
        int | None,
        typer.Option(
            help="Walk this store as the server defines it (floor, zones, obstacles, beacons, "
            "screens), read over the staff REST API of --from-server or --server."
        ),
    ] = None,
    staff_token: Annotated[
        str | None,
        typer.Option(envvar="AISLECAST_STAFF_TOKEN", help="Staff bearer token for --store-id."),
    ] = None,
    staff_email: Annotated[
        str | None, typer.Option(envvar="AISLECAST_STAFF_EMAIL", help="Staff login for --store-id.")
    ] = None,
    staff_password: Annotated[
        str | None,
        typer.Option(envvar="AISLECAST_STAFF_PASSWORD", help="Staff password for --store-id."),
    ] = None,
    shoppers: Annotated[
        int, typer.Option(min=1, help="Number of shoppers (one walk file each).")
    ] = 5,
    seed: Annotated[int, typer.Option(help="Seed: the same seed writes the same bytes.")] = 0,
    ble_mode: Annotated[
        str, typer.Option(help=f"Beacon reporting: {' or '.join(BLE_MODES)}.")
    ] = "android",
    wifi: Annotated[
        bool, typer.Option(help="Emit Wi-Fi scans (when the store has access points).")
    ] = True,
    ble_receive_ratio: Annotated[
        float | None,
        typer.Option(
            min=0.0,
            max=1.0,
            help="Share of advertising packets the phone reports (default: the mode's; "
            "~0.02 mimics the recordings' sparse Android 8 scans).",
        ),
    ] = None,
    wifi_scan_interval_s: Annotated[
        float, typer.Option(min=0.5, help="Seconds between Wi-Fi scans (30 = Android 9+ throttle).")
    ] = 2.0,
    max_stops: Annotated[
        int, typer.Option(min=1, help="Most shelf/screen stops per visit.")
    ] = LIST_MAX,
) -> None:
    """Simulate shoppers: offline into --out (the recordings' floor layout), or live against
    --server (phones over websockets; --store may be the seeded `simulate --out` folder).
    With --store-id the store's layout is read from the server (--from-server or --server)."""
    auth = StaffAuth(staff_token, staff_email, staff_password)
    if server is not None:
        if tokens is None:
            raise typer.BadParameter("live mode needs the seeded tokens", param_hint="--tokens")
        layout = None if store_id is None else _server_store(server, store_id, auth)
        settings_live = LiveSettings(speed=speed, max_visit_s=max_visit_s, stagger_s=stagger_s,
                                     max_stops=max_stops)  # fmt: skip
        stats = run_live_shoppers(server, store, shoppers, seed, tokens, settings_live,
                                  distinct_visits=distinct_visits, layout=layout)  # fmt: skip
        print_live_report(stats)
        return
    if out is None:
        raise typer.BadParameter("give --out (offline) or --server (live)", param_hint="--out")
    if ble_mode not in BLE_MODES:
        raise typer.BadParameter(f"must be one of {', '.join(BLE_MODES)}", param_hint="--ble-mode")
    if from_server is not None:
        if store_id is None:
            raise typer.BadParameter("--from-server needs --store-id", param_hint="--store-id")
        chosen = _server_store(from_server, store_id, auth)
    else:
        try:
            chosen = resolve_store(store, seed, ilc_root())
        except (StoreError, FloorPlanError, FileNotFoundError) as exc:
            raise typer.BadParameter(str(exc), param_hint="--store") from exc
    scanners = ScannerSettings(
        ble_mode=ble_mode,
        ble_receive_ratio=ble_receive_ratio,
        wifi=wifi,
        wifi_scan_interval_ms=round(wifi_scan_interval_s * 1000),
    )
    settings = SimulationSettings(scanners, max_stops=max_stops)
    with typer.progressbar(
        length=shoppers, label=f"simulating {shoppers} shoppers in {chosen.name}"
    ) as bar:
        try:
            summary = simulate_to_folder(
                chosen, shoppers, seed, out, settings, lambda _: bar.update(1)
            )
        except (StoreError, RouteError) as exc:
            raise typer.BadParameter(str(exc), param_hint="--store") from exc
    for walk in summary.walks:
        typer.echo(
            f"{walk.path.name}: {walk.duration_s:.0f} s, {walk.distance_m:.0f} m, "
            f"{walk.steps} steps, {walk.rows} rows"
        )
    typer.echo(f"floor folder: {summary.floor_dir}\nstore: {summary.store_path}")


def _server_store(url: str, store_id: int, auth: StaffAuth) -> Store:
    """The store as the server defines it; a store that cannot be walked is a CLI error."""
    try:
        return load_server_store(url, store_id, auth)
    except StoreError as exc:
        raise typer.BadParameter(str(exc), param_hint="--store-id") from exc


def register(app: typer.Typer) -> None:
    app.command("simulate")(simulate)
