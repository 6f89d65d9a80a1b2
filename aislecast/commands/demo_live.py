"""``aislecast demo-live``: a whole demo on this machine — store, server, shoppers walking live.

Steps: write the demo store offline into ``build/demo-store`` (as ``simulate --out``), re-date its
purchase histories to end yesterday (so "bought in the last 30 days" rules see them), add three demo
campaigns unless the folder has ``campaigns.json``, seed a fresh SQLite file with ``aislecast
seed`` (app, screen and point-of-sale tokens to ``build/demo-tokens.json``), start ``aislecast
serve`` with a bootstrap admin, then walk simulated shoppers against it in waves until Ctrl-C or
``--duration``; the till posts each shopper's basket at checkout. At the end it prints, per
campaign, what the server measured: exposed, opened, redeemed, uplift with its interval. The
server subprocess is always terminated on the way out.

The demo's cast. A retail rule only shows when its audience walks: the demo makes sure a few
customers (``DEMO_AUDIENCE``) are female members aged 20–40 who bought A in the last 30 days and
consent to offers and signage (recent buyers of A get that profile if too few have it), and each
wave walks them first, interleaved with the other customers, so app offers and signage show in
the first wave.
"""

from __future__ import annotations

import csv
import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path
from typing import Annotated, Any

import httpx
import typer

from aislecast.commands.live_run import MAX_LIVE_SPEED, print_live_report, run_live_shoppers
from simulator import demo_store, simulate_to_folder
from simulator.customers import DAY_MS, Customer, CustomerBase, read_customer_base
from simulator.live import LiveSettings, LiveStats

ADMIN_EMAIL = "admin@aislecast.demo"
ADMIN_PASSWORD = "aislecast-demo"
# Walk files written with the store: none, the shoppers walk live (`aislecast simulate --out`
# writes walks for `aislecast replay`); each would cost a few seconds before the demo starts.
OFFLINE_WALKS = 0
# The server takes a few seconds to migrate and start; a slow machine gets this long.
SERVER_START_TIMEOUT_S = 60.0
SERVER_STOP_TIMEOUT_S = 10.0
# The retail rule of the demo: female members aged 20–40 who bought A in the last 30 days.
RULE_AGE = (20, 40)
RULE_WITHIN_DAYS = 30
# Customers of the rule's audience the demo walks (a fifth are held out by the campaign).
DEMO_AUDIENCE = 4
DEMO_AUDIENCE_AGE = 32
ALL_CONSENTS = "location_analytics;personalised_offers;signage"


def redate_purchases(folder: Path, now_ms: int) -> None:
    """Shift every purchase so the newest is a day before ``now_ms`` (spacing kept)."""
    path = folder / "purchases.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    if not rows:
        return
    shift = now_ms - DAY_MS - max(int(r["t_ms"]) for r in rows)
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        for row in rows:
            writer.writerow({**row, "t_ms": int(row["t_ms"]) + shift})


def in_rule_audience(customer: Customer) -> bool:
    """Female member aged 20–40 (the rule's profile; "bought A" is checked apart)."""
    return (
        customer.gender == "female"
        and bool(customer.tier)
        and RULE_AGE[0] <= customer.age <= RULE_AGE[1]
    )


def recent_buyers(customers: CustomerBase, sku: str, now_ms: int) -> list[str]:
    """Customers who bought ``sku`` in the rule's last 30 days, in customer order."""
    recent = now_ms - RULE_WITHIN_DAYS * DAY_MS
    buyers = {p.customer_id for p in customers.purchases if p.sku == sku and p.t_ms >= recent}
    return [c.customer_id for c in customers.customers if c.customer_id in buyers]


def related_products(customers: CustomerBase, now_ms: int) -> tuple[str, str]:
    """(A, B): A the product the most customers of the rule's audience bought in the last 30
    days (any customer's, if none did), B the product most often in the same baskets as A (its
    "related product")."""
    audience = {c.customer_id for c in customers.customers if in_rule_audience(c)}
    recent = now_ms - RULE_WITHIN_DAYS * DAY_MS
    bought = Counter(
        sku
        for sku, customer_id in {
            (p.sku, p.customer_id)
            for p in customers.purchases
            if p.customer_id in audience and p.t_ms >= recent
        }
    )
    if not bought:
        bought = Counter(p.sku for p in customers.purchases)
    product_a = bought.most_common(1)[0][0]
    baskets: dict[str, set[str]] = defaultdict(set)
    for line in customers.purchases:
        baskets[line.basket_id].add(line.sku)
    together = Counter(
        sku for skus in baskets.values() if product_a in skus for sku in skus if sku != product_a
    )
    product_b = together.most_common(1)[0][0] if together else product_a
    return product_a, product_b


def demo_campaigns(customers: CustomerBase, now_ms: int) -> list[dict[str, Any]]:
    """The retail rule (app coupon for B on app_open) and two signage campaigns: for shoppers
    who come up to a screen (``near_screen``) and for those who look at one (``facing`` a zone of
    kind ``screen``; screens stand in zones of their own, so a shelf's ``facing`` occasion has no
    screen to show on), as triggers campaign documents (``Campaign.from_dict``)."""
    product_a, product_b = related_products(customers, now_ms)
    name_of = {p.sku: p.name for p in customers.products}
    audience = {"all": [
        {"gender": ["female"]},
        {"member": True},
        {"age": {"min": RULE_AGE[0], "max": RULE_AGE[1]}},
        {"bought": {"sku": product_a, "within_days": RULE_WITHIN_DAYS}},
    ]}  # fmt: skip
    coupon = {
        "context": {"event": "app_open"},
        "content": {"title": f"-20 % on {name_of[product_b]}", "coupon_code": "PAIR20",
                    "body": f"Goes well with your {name_of[product_a]}",
                    "promoted_sku": product_b},
        "channel": "app",
        "audience": audience,
        "holdout_share": 0.2,
    }  # fmt: skip
    signage = {
        "context": {"event": "near_screen"},
        "content": {"title": "Fresh this week", "body": "Ask our staff for a tasting"},
        "channel": "signage",
        "holdout_share": 0.1,
    }
    spotlight = {
        "context": {"event": "facing", "zone_kinds": ["screen"]},
        "content": {"title": "Today's offers", "body": "Scan the code for this week's deals"},
        "channel": "signage",
        "holdout_share": 0.1,
    }
    return [
        {"name": f"Related product: {product_a} -> {product_b}", "status": "active",
         "document": coupon},
        {"name": "Screen welcome", "status": "active", "document": signage},
        {"name": "Screen spotlight", "status": "active", "document": spotlight},
    ]  # fmt: skip


def rule_audience(customers: CustomerBase, now_ms: int) -> list[str]:
    """Customers the demo's retail rule targets: in its profile, recent buyers of A."""
    product_a, _b = related_products(customers, now_ms)
    by_id = {c.customer_id: c for c in customers.customers}
    buyers = recent_buyers(customers, product_a, now_ms)
    return [cid for cid in buyers if in_rule_audience(by_id[cid])]


def cast_audience(folder: Path, now_ms: int) -> list[str]:
    """Give ``DEMO_AUDIENCE`` recent buyers of A the rule's profile and every consent; A is
    chosen again on the new data, so repeat (rarely needed) until it stays; their ids."""
    chosen: list[str] = []
    for _ in range(3):
        product_a = related_products(read_customer_base(folder), now_ms)[0]
        chosen = _cast_buyers_of(folder, product_a, now_ms)
        if related_products(read_customer_base(folder), now_ms)[0] == product_a:
            break
    return chosen


def _cast_buyers_of(folder: Path, product_a: str, now_ms: int) -> list[str]:
    """Rewrite ``customers.csv``: ``DEMO_AUDIENCE`` recent buyers of A (those already in the
    rule's profile first) get the profile and every consent."""
    customers = read_customer_base(folder)
    by_id = {c.customer_id: c for c in customers.customers}
    buyers = recent_buyers(customers, product_a, now_ms)
    buyers.sort(key=lambda cid: not in_rule_audience(by_id[cid]))
    chosen = buyers[:DEMO_AUDIENCE]
    path = folder / "customers.csv"
    with path.open(encoding="utf-8", newline="") as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if row["customer_id"] in chosen:
            customer = by_id[row["customer_id"]]
            if not in_rule_audience(customer):
                row.update(gender="female", tier=customer.tier or "member",
                           age=str(DEMO_AUDIENCE_AGE))  # fmt: skip
            row["consents"] = ALL_CONSENTS
    with path.open("w", encoding="utf-8", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]), lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return chosen


def walk_order(customers: CustomerBase, audience: set[str]) -> list[int]:
    """Customer indices, the rule's audience interleaved with the others from the start; the
    others who accept signage walk first, so the first wave shows screens switching too."""
    members = [i for i, c in enumerate(customers.customers) if c.customer_id in audience]
    others = [i for i, c in enumerate(customers.customers) if c.customer_id not in audience]
    others.sort(key=lambda i: "signage" not in customers.customers[i].consents)
    order: list[int] = []
    for k in range(max(len(members), len(others))):
        order += members[k : k + 1] + others[k : k + 1]
    return order


def wave_indices(order: list[int], wave: int, shoppers: int) -> list[int]:
    """Shopper indices of one wave: the order, cycled; a customer's second time round walks a
    new visit (index + number of customers: same customer, another seeded walk)."""
    n = len(order)
    return [order[j % n] + (j // n) * n for j in range(wave * shoppers, (wave + 1) * shoppers)]


def prepare_store(folder: Path, seed: int, now_ms: int) -> None:
    if not (folder / "store.json").is_file():
        simulate_to_folder(demo_store(seed), OFFLINE_WALKS, seed, folder)
        redate_purchases(folder, now_ms)
        cast_audience(folder, now_ms)
    if not (folder / "campaigns.json").is_file():
        campaigns = demo_campaigns(read_customer_base(folder), now_ms)
        (folder / "campaigns.json").write_text(json.dumps(campaigns, indent=1), encoding="utf-8")


def aislecast_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "aislecast", *args]


def wait_for_server(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + SERVER_START_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise typer.BadParameter(f"the server exited ({process.returncode}); see {log}")
        try:
            if httpx.get(f"{url}/healthz", timeout=1.0).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise typer.BadParameter(f"the server did not answer within {SERVER_START_TIMEOUT_S:g} s")


def stop_server(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=SERVER_STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def campaign_results(url: str, tokens: Path) -> list[dict[str, Any]]:
    """What the server measured per campaign (``GET /api/stores/{id}/uplift``), as the admin."""
    store_id = json.loads(tokens.read_text(encoding="utf-8"))["store_id"]
    with httpx.Client(base_url=url, timeout=30.0) as client:
        login = client.post(
            "/api/auth/login", json={"email": ADMIN_EMAIL, "password": ADMIN_PASSWORD}
        )
        login.raise_for_status()
        headers = {"Authorization": f"Bearer {login.json()['token']}"}
        response = client.get(f"/api/stores/{store_id}/uplift", headers=headers)
        response.raise_for_status()
        results: list[dict[str, Any]] = response.json()
        return results


def _campaign_results_or_none(url: str, tokens: Path) -> list[dict[str, Any]]:
    """The results, or none (with the reason) when the server cannot give them."""
    try:
        return campaign_results(url, tokens)
    except (httpx.HTTPError, KeyboardInterrupt, ValueError, KeyError, OSError) as error:
        typer.echo(f"campaign results unavailable: {error!r}")
        return []


def print_campaign_results(campaigns: list[dict[str, Any]]) -> None:
    """One line per campaign: ``campaign: id=… exposed=… opened=… redeemed=… holdout=…
    uplift=…``, then the server's verdict."""
    for c in campaigns:
        u = c["uplift"]
        uplift = (
            "n/a" if u is None
            else f"{u['difference'] * 100:+.1f}pt[{u['low'] * 100:+.1f},{u['high'] * 100:+.1f}]"
        )  # fmt: skip
        typer.echo(
            f"campaign: id={c['campaign_id']} sku={c['promoted_sku'] or '-'} "
            f"exposed={c['delivered']} opened={c['opened']} redeemed={c['redeemed']} "
            f"holdout={c['holdout_shoppers']} uplift={uplift}  ({c['name']})"
        )
        typer.echo(f"  {c['verdict']}")
    if not campaigns:
        typer.echo("campaign: none issued an offer")


def _stop_on_sigterm(_signum: int, _frame: object) -> None:
    """``kill`` (SIGTERM) ends the demo like Ctrl-C: the server is terminated, the summary shown."""
    raise KeyboardInterrupt


def demo_live(
    port: Annotated[int, typer.Option(help="TCP port of the server")] = 8000,
    shoppers: Annotated[int, typer.Option(min=1, help="shoppers per wave")] = 5,
    speed: Annotated[
        float, typer.Option(min=1.0, max=MAX_LIVE_SPEED, help="simulated seconds per second")
    ] = 5.0,
    duration: Annotated[
        float | None, typer.Option(min=1.0, help="stop after this many seconds (default: Ctrl-C)")
    ] = None,
    seed: Annotated[int, typer.Option(help="seed of the store and the shoppers")] = 0,
    build_dir: Annotated[Path, typer.Option(help="where the store, database and logs go")] = Path(
        "build"
    ),
) -> None:
    """Demo: seed the demo store, serve it, and walk simulated shoppers through it live."""
    build_dir.mkdir(parents=True, exist_ok=True)
    folder = build_dir / "demo-store"
    now_ms = time.time_ns() // 1_000_000
    prepare_store(folder, seed, now_ms)
    database = (build_dir / "demo-live.sqlite3").resolve()
    for stale in (database, Path(f"{database}-wal"), Path(f"{database}-shm")):
        stale.unlink(missing_ok=True)
    secret = os.environ.get("AISLECAST_SECRET_KEY", "demo-live-secret")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}",
           "AISLECAST_ADMIN_EMAIL": ADMIN_EMAIL, "AISLECAST_ADMIN_PASSWORD": ADMIN_PASSWORD,
           "AISLECAST_SECRET_KEY": secret}  # fmt: skip
    tokens = build_dir / "demo-tokens.json"
    seeded = subprocess.run(
        aislecast_command("seed", str(folder), "--tokens-out", str(tokens)),
        env=env, capture_output=True, text=True, check=False,
    )  # fmt: skip
    if seeded.returncode != 0:
        raise typer.BadParameter(f"seeding failed: {seeded.stderr or seeded.stdout}")
    typer.echo(seeded.stdout.strip())
    log = build_dir / "demo-live-server.log"
    url = f"http://127.0.0.1:{port}"
    with log.open("wb") as log_file:
        # A session of its own: a terminal's Ctrl-C signals the whole foreground process group,
        # and the server must outlive it long enough to give the campaign results; the demo
        # stops it on the way out (``stop_server``).
        server = subprocess.Popen(
            aislecast_command("serve", "--port", str(port)), env=env, stdout=log_file,
            stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    waves: list[LiveStats] = []
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        wait_for_server(server, url, log)
        typer.echo(
            f"\nAislecast is running.\n  admin page: {url}/admin\n  login: {ADMIN_EMAIL} / "
            f"{ADMIN_PASSWORD}\n  API docs: {url}/docs\n  server log: {log}\n"
            f"Walking {shoppers} shoppers per wave at x{speed:g}; Ctrl-C stops.\n"
        )
        started = time.monotonic()
        customers = read_customer_base(folder)
        order = walk_order(customers, set(rule_audience(customers, now_ms)))
        wave = 0
        while duration is None or time.monotonic() - started < duration:
            left = None if duration is None else duration - (time.monotonic() - started)
            settings = LiveSettings(speed=speed, stagger_s=2.0)
            waves.append(
                run_live_shoppers(
                    url,
                    str(folder),
                    shoppers,
                    seed,
                    tokens,
                    settings,
                    stop_after_s=left,
                    shopper_indices=wave_indices(order, wave, shoppers),
                )
            )
            wave += 1
            if waves[-1].interrupted:
                typer.echo("\nstopping")
                break
    except KeyboardInterrupt:
        typer.echo("\nstopping")
    finally:
        campaigns = _campaign_results_or_none(url, tokens) if waves else []
        stop_server(server)
    if waves:
        phones = [p for w in waves for p in w.phones]
        print_live_report(LiveStats(phones, sum(w.wall_s for w in waves)))
        if len(waves) > 1:
            typer.echo(f"({len(waves)} waves)")
    print_campaign_results(campaigns)
    typer.echo(f"server stopped; database kept at {database}")


def register(app: typer.Typer) -> None:
    app.command("demo-live")(demo_live)
