"""Decision speed: 1,000 campaigns, 100,000 shoppers, 2,000,000 purchases (seeded, synthetic).

Runs the indexed decision (campaigns filed by event and place, per-shopper purchase summaries)
and, on the same occasions, the obvious path that checks every campaign; checks both decide the
same; prints decisions/s, p50/p99 latency per decision, the co-purchase model's build time and
memory. ``--scale 0.1`` runs a tenth of the data for a quick look.
"""

from __future__ import annotations

import argparse
import gc
import resource
import sys
import time
import tracemalloc
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

# Run as ``python benchmarks/triggers.py``, this folder leads sys.path and this file's name would
# hide the ``triggers`` package: drop the folder before importing it.
_HERE = Path(__file__).resolve().parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != _HERE]

from aislecast.bench import cpu_timed, format_table  # noqa: E402
from triggers import (  # noqa: E402
    CampaignIndex,
    CapLedger,
    CoPurchaseModel,
    Decision,
    StoreSettings,
    decide,
)
from triggers.campaigns import Campaign  # noqa: E402
from triggers.occasion import Occasion  # noqa: E402
from triggers.synthetic import SyntheticStore, synthetic_occasions, synthetic_store  # noqa: E402

SEED = 2026
CAMPAIGNS = 1_000
SHOPPERS = 100_000
PURCHASES = 2_000_000
SKUS = 5_000
DECISIONS = 60_000
# The obvious path is ~two orders of magnitude slower: a few thousand decisions show the ratio.
NAIVE_DECISIONS = 3_000


@dataclass
class Run:
    """Per-decision wall latency, total CPU seconds, the first ``kept`` decisions and tallies.

    Later decisions are dropped as they are made, as a server drops them once persisted:
    holding 60,000 decisions with their exclusions would make the benchmark measure Python's
    garbage collector walking them."""

    latency_ns: np.ndarray  # CPU time of this thread per decision: what one core spends
    wall_ns: np.ndarray  # wall clock per decision: adds whatever else the machine is running
    cpu_s: float
    kept: list[Decision]
    sent: int = 0
    held_out: int = 0
    excluded: int = 0
    capped: list[bool] = field(default_factory=list)


def run(
    store: SyntheticStore,
    campaigns: CampaignIndex | Sequence[Campaign],
    occasions: Sequence[Occasion],
    model: CoPurchaseModel,
    settings: StoreSettings,
    keep: int,
) -> Run:
    """Decide (and record) each occasion in turn."""
    ledger = CapLedger()
    result = Run(np.empty(len(occasions), np.int64), np.empty(len(occasions), np.int64), 0.0, [])
    cpu_start = time.process_time()
    for i, at in enumerate(occasions):
        profile = store.profiles[at.shopper_id]
        start, wall_start = time.thread_time_ns(), time.perf_counter_ns()
        decision = decide(at, profile, campaigns, ledger, settings, at.t_ms, model)
        ledger.record(decision)
        result.wall_ns[i] = time.perf_counter_ns() - wall_start
        result.latency_ns[i] = time.thread_time_ns() - start
        result.sent += decision.sent
        result.held_out += decision.held_out
        result.excluded += len(decision.excluded)
        result.capped.append(decision.shopper_capped)
        if i < keep:
            result.kept.append(decision)
    result.cpu_s = time.process_time() - cpu_start
    return result


def same_outcome(a: Decision, b: Decision) -> bool:
    return (
        a.offers == b.offers
        and a.chosen_campaign_id == b.chosen_campaign_id
        and a.held_out == b.held_out
        and a.eligible == b.eligible
        and sorted(a.excluded, key=lambda e: e.campaign_id)
        == sorted(b.excluded, key=lambda e: e.campaign_id)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the full data")
    scale = parser.parse_args().scale
    n_shoppers, n_lines = int(SHOPPERS * scale), int(PURCHASES * scale)
    n_decisions = max(1000, int(DECISIONS * scale))

    store, generate_s = cpu_timed(
        lambda: synthetic_store(
            SEED, shoppers=n_shoppers, purchases=n_lines, campaigns=CAMPAIGNS, skus=SKUS
        )
    )
    model, model_s = cpu_timed(
        lambda: CoPurchaseModel.from_columns(store.basket_ids, store.skus, store.catalogue)
    )
    tracemalloc.start()
    CoPurchaseModel.from_columns(store.basket_ids, store.skus, store.catalogue)
    model_peak_mb = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    neighbour_pairs = sum(len(v) for v in model.neighbours.values())
    index, index_s = cpu_timed(lambda: CampaignIndex(store.campaigns))
    occasions = synthetic_occasions(store, n_decisions, seed=SEED + 1)
    settings = StoreSettings("s1", "UTC")
    # Everything loaded so far lives for the whole run: keep the collector from re-scanning it
    # (a server does the same after loading profiles).
    gc.collect()
    gc.freeze()

    fast = run(store, index, occasions, model, settings, keep=NAIVE_DECISIONS)
    head = occasions[:NAIVE_DECISIONS]
    naive = run(store, store.campaigns, head, model, settings, keep=NAIVE_DECISIONS)
    agree = sum(same_outcome(a, b) for a, b in zip(fast.kept, naive.kept, strict=True))

    fast_rate = len(fast.latency_ns) / fast.cpu_s
    naive_rate = len(naive.latency_ns) / naive.cpu_s
    fast_open = ~np.array(fast.capped)
    naive_open = ~np.array(naive.capped)
    rows = []
    for name, run_, subset, rate in (
        ("indexed (event, place) + summaries", fast, slice(None), f"{fast_rate:,.0f}"),
        ("naive: every campaign", naive, slice(None), f"{naive_rate:,.0f}"),
        ("indexed, shopper not capped (campaigns checked)", fast, fast_open, "—"),
        ("naive, shopper not capped", naive, naive_open, "—"),
    ):
        cpu, wall = run_.latency_ns[subset] / 1e6, run_.wall_ns[subset] / 1e6
        p50, p99 = np.percentile(cpu, [50, 99])
        rows.append(
            [
                name,
                len(cpu),
                rate,
                f"{cpu.mean():.3f}",
                f"{p50:.3f}",
                f"{p99:.3f}",
                f"{np.percentile(wall, 99):.3f}",
            ]
        )
    rows[0].append(f"{fast_rate / naive_rate:.1f}×")
    rows[1].append("1.0×")
    open_ratio = naive.latency_ns[naive_open].mean() / fast.latency_ns[fast_open].mean()
    rows[2].append(f"{open_ratio:.1f}×")
    rows[3].append("1.0×")
    print(
        f"{CAMPAIGNS} campaigns, {n_shoppers:,} shoppers, {n_lines:,} purchase lines, "
        f"{len(store.catalogue):,} skus; seed {SEED}"
    )
    print(
        format_table(
            [
                "variant",
                "decisions",
                "decisions/s (CPU)",
                "mean ms (CPU)",
                "p50 ms (CPU)",
                "p99 ms (CPU)",
                "p99 ms (wall)",
                "ratio",
            ],
            rows,
        )
    )
    n = len(fast.latency_ns)
    print(
        f"\nindexed: {fast.sent:,} offers sent, {fast.held_out:,} held out, "
        f"{n - fast.sent - fast.held_out:,} decisions without an offer, "
        f"{fast.excluded / n:.1f} exclusions per decision; "
        f"naive agrees on {agree}/{len(naive.kept)} decisions"
    )
    print()
    print(
        format_table(
            ["stage", "CPU s", "notes"],
            [
                ["synthetic data + per-shopper purchase summaries", f"{generate_s:.1f}", ""],
                [
                    "co-purchase model (scipy.sparse, lift)",
                    f"{model_s:.2f}",
                    f"peak {model_peak_mb:.0f} MB traced; {model.baskets:,} baskets; "
                    f"{neighbour_pairs:,} neighbour pairs kept",
                ],
                ["campaign index", f"{index_s:.3f}", ""],
            ],
        )
    )
    max_rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"\nprocess peak RSS {max_rss_mb:,.0f} MB")
    p99_fast = float(np.percentile(fast.latency_ns, 99) / 1e6)
    p99_wall = float(np.percentile(fast.wall_ns, 99) / 1e6)
    print(f"(p99 wall clock on this shared machine: {p99_wall:.2f} ms)")
    print(f"triggers: decisions={fast_rate:.0f}/s p99={p99_fast:.2f}ms")


if __name__ == "__main__":
    main()
