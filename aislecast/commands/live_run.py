"""Shared by ``simulate --server`` and ``demo-live``: live phones with a progress bar, a report."""

from __future__ import annotations

from pathlib import Path

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from aislecast.paths import ilc_root
from positioning.floorplan import FloorPlanError
from simulator.live import (
    LiveSettings,
    LiveSetupError,
    LiveStats,
    PhoneStats,
    Till,
    batches_planned,
    load_cast,
    read_pos_token,
    read_tokens,
    simulate_live,
)
from simulator.routes import RouteError
from simulator.store import Store, StoreError

# The server rate-limits a socket to 20 frames/s (docs/protocol.md); a phone sends one batch per
# simulated second plus events and acks, so 15x leaves room for them.
MAX_LIVE_SPEED = 15.0


def run_live_shoppers(
    server: str,
    store_spec: str,
    shoppers: int,
    seed: int,
    tokens_path: Path,
    settings: LiveSettings,
    console: Console | None = None,
    stop_after_s: float | None = None,
    first_index: int = 0,
    distinct_visits: int | None = None,
    layout: Store | None = None,
    shopper_indices: list[int] | None = None,
) -> LiveStats:
    """Plan the visits, connect the phones, show progress; bad setup is a clear CLI error.
    ``layout``: the store to walk (read from the server) instead of ``store_spec``'s. When the
    tokens file has the store's ``pos`` token, the shoppers' baskets are posted at checkout
    (``simulator.live.Checkout``)."""
    try:
        store_id, tokens = read_tokens(tokens_path)
        pos_token = read_pos_token(tokens_path)
        cast = load_cast(store_spec, shoppers, seed, settings.max_stops, ilc_root(), first_index,
                         distinct_visits, settings.max_visit_s, layout,
                         shopper_indices)  # fmt: skip
    except (LiveSetupError, StoreError, FloorPlanError, RouteError, FileNotFoundError) as error:
        raise typer.BadParameter(str(error)) from None
    console = console or Console(stderr=True)
    total = batches_planned(cast, settings)
    with Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[status]}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        task = progress.add_task(f"{shoppers} phones x{settings.speed:g}", total=total, status="")
        counts = {"batches": 0}
        by_phone: dict[int, PhoneStats] = {}

        def on_batch(phone: PhoneStats) -> None:
            counts["batches"] += 1
            by_phone[phone.index] = phone
            positions = sum(len(p.position_error_m) for p in by_phone.values())
            offers = sum(len(p.offers) for p in by_phone.values())
            errors = sum(len(p.errors) for p in by_phone.values())
            progress.update(
                task,
                completed=counts["batches"],
                status=f"positions {positions} offers {offers} errors {errors}",
            )

        try:
            till = None if pos_token is None else Till(server, pos_token)
            stats = simulate_live(
                server, cast, tokens, store_id, settings, seed, on_batch, stop_after_s, till
            )
        except LiveSetupError as error:
            raise typer.BadParameter(str(error)) from None
    return stats


def _fmt(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def print_live_report(stats: LiveStats, console: Console | None = None) -> None:
    """Per-phone table, then the overall line."""
    console = console or Console()
    table = Table(title="live phones (latency ms: batch → ack, batch → position; error m)")
    columns = ("#", "customer", "batches", "ack p50", "pos p50", "pos p99", "err p50",
               "offers", "open", "redeem", "errors", "reconn")  # fmt: skip
    for column in columns:
        table.add_column(column, justify="right")
    for phone in stats.phones:
        one = LiveStats([phone], stats.wall_s).summary()
        table.add_row(
            str(phone.index), phone.customer_id, str(phone.batches), _fmt(one["ack_p50_ms"]),
            _fmt(one["position_p50_ms"]), _fmt(one["position_p99_ms"]), _fmt(one["error_p50_m"]),
            str(one["offers"]), str(one["opened"]), str(one["redeemed"]), str(one["errors"]),
            str(phone.reconnects),
        )  # fmt: skip
    console.print(table)
    for phone in stats.phones:
        for error in phone.errors[:3]:
            console.print(f"phone {phone.index}: {error}")
    s = stats.summary()
    typer.echo(
        f"live: phones={s['phones']} finished={s['finished']} batches={s['batches']} "
        f"ack_p50={_fmt(s['ack_p50_ms'])}ms ack_p99={_fmt(s['ack_p99_ms'])}ms "
        f"positions={s['positions']} pos_p50={_fmt(s['position_p50_ms'])}ms "
        f"pos_p99={_fmt(s['position_p99_ms'])}ms err_p50={_fmt(s['error_p50_m'], 2)}m "
        f"err_p90={_fmt(s['error_p90_m'], 2)}m offers={s['offers']} opened={s['opened']} "
        f"redeemed={s['redeemed']} baskets={s['baskets']} duplicates={s['duplicate_offers']} "
        f"errors={s['errors']} "
        f"reconnects={s['reconnects']} wall={s['wall_s']}s"
    )
