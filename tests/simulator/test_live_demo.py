"""``aislecast demo-live`` end to end (a real server subprocess), and its demo campaigns."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from typer.testing import CliRunner

from aislecast.cli import app
from aislecast.commands.demo_live import (
    ADMIN_EMAIL,
    DEMO_AUDIENCE,
    prepare_store,
    related_products,
    rule_audience,
    walk_order,
    wave_indices,
)
from simulator.customers import DAY_MS, read_customer_base
from triggers.campaigns import Campaign

NOW_MS = 1_795_485_141_000
WALKING_S = 3.0


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_demo_store_gets_recent_histories_and_valid_campaigns(tmp_path: Path) -> None:
    folder = tmp_path / "demo-store"
    prepare_store(folder, 2, NOW_MS)
    customers = read_customer_base(folder)
    newest = max(p.t_ms for p in customers.purchases)
    assert newest == NOW_MS - DAY_MS  # histories end yesterday: "last 30 days" rules see them
    campaigns = json.loads((folder / "campaigns.json").read_text(encoding="utf-8"))
    parsed = [Campaign.from_dict({"id": str(i), **c["document"]}) for i, c in enumerate(campaigns)]
    coupon, signage, spotlight = parsed
    product_a, product_b = related_products(customers, NOW_MS)
    assert product_a != product_b
    assert coupon.context.event == "app_open"
    assert coupon.content.promoted_sku == product_b
    assert f"'{product_a}'" in repr(coupon.audience) or product_a in json.dumps(
        coupon.audience.to_dict() if coupon.audience else {}
    )
    assert signage.uses_signage
    assert signage.context.event == "near_screen"
    assert spotlight.uses_signage
    assert spotlight.context.event == "facing"
    assert spotlight.context.zone_kinds == {"screen"}
    # B is bought together with A: at least one basket holds both.
    baskets: dict[str, set[str]] = {}
    for line in customers.purchases:
        baskets.setdefault(line.basket_id, set()).add(line.sku)
    assert any({product_a, product_b} <= skus for skus in baskets.values())


def test_demo_cast_holds_the_rule_audience_and_walks_it_first(tmp_path: Path) -> None:
    folder = tmp_path / "demo-store"
    prepare_store(folder, 0, NOW_MS)  # seed 0, as `make demo`: one audience member before
    customers = read_customer_base(folder)
    audience = rule_audience(customers, NOW_MS)
    assert len(audience) >= DEMO_AUDIENCE
    by_id = {c.customer_id: c for c in customers.customers}
    for customer_id in audience:
        assert {"personalised_offers", "signage"} <= set(by_id[customer_id].consents)
    # The campaign's rule names the A these customers bought.
    campaigns = json.loads((folder / "campaigns.json").read_text(encoding="utf-8"))
    product_a, _b = related_products(customers, NOW_MS)
    assert product_a in json.dumps(campaigns[0]["document"]["audience"])
    order = walk_order(customers, set(audience))
    first_wave = [customers.customers[i].customer_id for i in wave_indices(order, 0, 5)]
    assert len(set(first_wave) & set(audience)) >= 2
    # Later waves go round the customers again with new visits (new shopper indices).
    n = len(customers.customers)
    laps = wave_indices(order, 0, 2 * n)
    assert len(set(laps)) == 2 * n
    assert {i % n for i in laps} == set(range(n))


def test_short_demo_shows_app_offers_and_signage_and_measures_them(tmp_path: Path) -> None:
    port = free_port()
    result = subprocess.run(
        [sys.executable, "-m", "aislecast", "demo-live", "--port", str(port), "--shoppers", "4",
         "--speed", "10", "--duration", "30", "--build-dir", str(tmp_path / "build")],
        capture_output=True, text=True, timeout=300, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    lines = [line for line in result.stdout.splitlines() if line.startswith("campaign: ")]
    exposed = {}
    for line in lines:
        fields = dict(part.split("=", 1) for part in line.removeprefix("campaign: ").split()
                      if "=" in part)  # fmt: skip
        exposed[line.rsplit("(", 1)[1].rstrip(")")] = int(fields["exposed"])
    app = [n for name, n in exposed.items() if name.startswith("Related product")]
    assert app, result.stdout
    assert app[0] > 0
    assert exposed.get("Screen welcome", 0) + exposed.get("Screen spotlight", 0) > 0, result.stdout


def test_demo_live_runs_a_bounded_demo_and_stops_its_server(tmp_path: Path) -> None:
    port = free_port()
    result = subprocess.run(
        [sys.executable, "-m", "aislecast", "demo-live", "--port", str(port), "--shoppers", "2",
         "--speed", "10", "--duration", "4", "--build-dir", str(tmp_path / "build")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout + result.stderr
    assert f"http://127.0.0.1:{port}/admin" in result.stdout
    assert ADMIN_EMAIL in result.stdout
    assert f"http://127.0.0.1:{port}/docs" in result.stdout
    summary = next(line for line in result.stdout.splitlines() if line.startswith("live: "))
    fields = dict(part.split("=", 1) for part in summary.removeprefix("live: ").split())
    assert fields["phones"] == "2"
    assert int(fields["batches"]) > 10
    assert fields["errors"] == "0"
    # `aislecast serve` runs the wired tracker: the phones' readings come back as positions.
    assert int(fields["positions"]) > 0
    # The server is gone: nothing listens on the port any more.
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0


def test_simulate_live_mode_refuses_bad_setup_with_a_reason(tmp_path: Path) -> None:
    runner = CliRunner()
    no_tokens = runner.invoke(app, ["simulate", "--server", "http://127.0.0.1:9"])
    assert no_tokens.exit_code == 2
    assert "--tokens" in no_tokens.output
    bad = tmp_path / "tokens.json"
    bad.write_text('{"store_id": 1}', encoding="utf-8")
    missing_app = runner.invoke(
        app, ["simulate", "--server", "http://127.0.0.1:9", "--tokens", str(bad)]
    )
    assert missing_app.exit_code == 2
    assert "tokens file" in missing_app.output
    too_fast = runner.invoke(
        app, ["simulate", "--server", "x", "--tokens", str(bad), "--speed", "50"]
    )
    assert too_fast.exit_code == 2
    neither = runner.invoke(app, ["simulate"])
    assert neither.exit_code == 2
    assert "--out" in neither.output


def test_demo_live_stops_cleanly_on_ctrl_c(tmp_path: Path) -> None:
    """Ctrl-C in a terminal signals the whole foreground process group, the demo and whatever it
    started: the server must still answer the closing campaign report, then be stopped."""
    port = free_port()
    demo = subprocess.Popen(
        [sys.executable, "-m", "aislecast", "demo-live", "--port", str(port), "--shoppers", "1",
         "--speed", "10", "--build-dir", str(tmp_path / "build")],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True,
    )  # fmt: skip
    assert demo.stdout is not None
    for line in demo.stdout:  # wait until the demo says it is running
        if line.startswith("Walking"):
            break
    time.sleep(WALKING_S)  # let the phone plan its visit and send a few batches
    os.killpg(demo.pid, signal.SIGINT)  # the demo is its group's leader: a terminal's Ctrl-C
    output, _ = demo.communicate(timeout=60)
    assert demo.returncode == 0, output
    assert "server stopped" in output
    assert "live: phones=1" in output  # the interrupted wave is still reported
    assert "campaign results unavailable" not in output, output
    with socket.socket() as s:
        assert s.connect_ex(("127.0.0.1", port)) != 0
