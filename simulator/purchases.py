"""How a simulated shopper answers an offer: open it, redeem it, or ignore it (seeded, pure).

The model makes uplift measurable: the chance to act rises with the shopper's **affinity** for the
offer's category (the share of their past items bought in it, from ``purchases.csv``) and with the
offer's **discount**, and there is a known baseline — the chance they would have bought in that
category anyway — so the true uplift of any offer is ``p_redeem − p_baseline``:

    a = items bought in the offer's category / all items bought       (0 when unknown)
    d = content["discount_pct"] / 100                                 (0 when absent)
    p_open          = 0.25 + 0.5·a
    p_redeem | open = min(0.9, 0.1 + 0.6·a + 0.8·d)
    p_baseline      = 0.05 + 0.3·a          (bought without any offer: what a hold-out shows)

Opening happens 2–20 s after the offer arrives (a glance at the notification); redeeming 30–120 s
after opening (it is used at the shelf or the till), or at checkout if the visit ends first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulator.customers import CustomerBase

OPEN_BASE, OPEN_PER_AFFINITY = 0.25, 0.5
REDEEM_BASE, REDEEM_PER_AFFINITY, REDEEM_PER_DISCOUNT, REDEEM_MAX = 0.1, 0.6, 0.8, 0.9
BASELINE_BASE, BASELINE_PER_AFFINITY = 0.05, 0.3
OPEN_DELAY_S = (2.0, 20.0)
REDEEM_DELAY_S = (30.0, 120.0)
# Keys of an offer's content that may name its product or category (campaign authors' choice).
SKU_KEYS = ("promoted_sku", "sku", "product_sku")
CATEGORY_KEYS = ("category", "product_category")


@dataclass(frozen=True)
class OfferResponse:
    """What the shopper will do, in seconds after the offer arrived (None: never)."""

    open_after_s: float | None
    redeem_after_s: float | None
    p_open: float
    p_redeem: float
    p_baseline: float


def category_affinity(customers: CustomerBase, customer_id: str) -> dict[str, float]:
    """Share of the customer's past items per category (sums to 1 when they bought anything)."""
    counts = customers.category_counts(customer_id)
    total = sum(counts.values())
    return {c: n / total for c, n in counts.items()} if total else {}


def offer_category(content: Mapping[str, Any], category_of_sku: Mapping[str, str]) -> str | None:
    """The category an offer is about: named outright, or through its product's SKU."""
    for key in CATEGORY_KEYS:
        if isinstance(content.get(key), str):
            return str(content[key])
    for key in SKU_KEYS:
        sku = content.get(key)
        if isinstance(sku, str) and sku in category_of_sku:
            return category_of_sku[sku]
    return None


def discount_fraction(content: Mapping[str, Any]) -> float:
    value = content.get("discount_pct")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(np.clip(value / 100.0, 0.0, 1.0))
    return 0.0


def respond_to_offer(affinity: float, discount: float, rng: np.random.Generator) -> OfferResponse:
    """Draw the shopper's answer to one offer (the draws are made whatever the outcome, so the
    same seed gives the same answers whatever came before)."""
    p_open = OPEN_BASE + OPEN_PER_AFFINITY * affinity
    p_redeem = min(REDEEM_MAX, REDEEM_BASE + REDEEM_PER_AFFINITY * affinity
                   + REDEEM_PER_DISCOUNT * discount)  # fmt: skip
    p_baseline = BASELINE_BASE + BASELINE_PER_AFFINITY * affinity
    u_open, u_redeem = rng.random(2)
    open_delay = float(rng.uniform(*OPEN_DELAY_S))
    redeem_delay = float(rng.uniform(*REDEEM_DELAY_S))
    opens = u_open < p_open
    redeems = opens and u_redeem < p_redeem
    return OfferResponse(
        open_delay if opens else None,
        open_delay + redeem_delay if redeems else None,
        p_open,
        p_redeem,
        p_baseline,
    )
