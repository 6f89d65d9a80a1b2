"""How a simulated shopper answers an offer: open it, redeem it, or ignore it (seeded, pure).

The model makes uplift measurable and known. The shopper's **affinity** a for the offer's
category (the share of their past items bought in it, from ``purchases.csv``) sets how likely
they are to buy there anyway; the offer converts some of those who open it, more so with a
**discount**:

    a = items bought in the offer's category / all items bought       (0 when unknown)
    d = content["discount_pct"] / 100                                 (0 when absent)
    p_baseline       = 0.05 + 0.3·a            would buy in the category anyway (a hold-out's rate)
    p_open           = 0.25 + 0.5·a
    p_convert | open = min(0.9, 0.1 + 0.4·a + 0.8·d)   an opener who would not have bought, does
    redeems          = opens and (buys anyway or is converted)
    P(buy | offered) = p_baseline + p_open·(1 − p_baseline)·p_convert
    true uplift      = p_open·(1 − p_baseline)·p_convert  (> 0: an offer never hurts here)

Opening happens 2–20 s after the offer arrives (a glance at the notification); redeeming 30–120 s
after opening (at the shelf or the till), or at checkout if the visit ends first.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulator.customers import CustomerBase

OPEN_BASE, OPEN_PER_AFFINITY = 0.25, 0.5
CONVERT_BASE, CONVERT_PER_AFFINITY, CONVERT_PER_DISCOUNT, CONVERT_MAX = 0.1, 0.4, 0.8, 0.9
BASELINE_BASE, BASELINE_PER_AFFINITY = 0.05, 0.3
OPEN_DELAY_S = (2.0, 20.0)
REDEEM_DELAY_S = (30.0, 120.0)
# Keys of an offer's content that may name its product or category (campaign authors' choice).
SKU_KEYS = ("promoted_sku", "sku", "product_sku")
CATEGORY_KEYS = ("category", "product_category")


@dataclass(frozen=True)
class OfferResponse:
    """What the shopper will do, in seconds after the offer arrived (None: never), and the
    model's probabilities for this offer (to check an uplift estimate against)."""

    open_after_s: float | None
    redeem_after_s: float | None
    p_open: float
    p_baseline: float
    p_offered: float  # P(buy in the category | offered) = P(redeem)

    @property
    def uplift(self) -> float:
        return self.p_offered - self.p_baseline


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
    """Draw the shopper's answer to one offer (all draws are made whatever the outcome, so the
    same seed gives the same answers whatever came before)."""
    p_baseline = BASELINE_BASE + BASELINE_PER_AFFINITY * affinity
    p_open = OPEN_BASE + OPEN_PER_AFFINITY * affinity
    p_convert = min(CONVERT_MAX, CONVERT_BASE + CONVERT_PER_AFFINITY * affinity
                    + CONVERT_PER_DISCOUNT * discount)  # fmt: skip
    u_baseline, u_open, u_convert = rng.random(3)
    open_delay = float(rng.uniform(*OPEN_DELAY_S))
    redeem_delay = float(rng.uniform(*REDEEM_DELAY_S))
    opens = u_open < p_open
    redeems = opens and (u_baseline < p_baseline or u_convert < p_convert)
    return OfferResponse(
        open_delay if opens else None,
        open_delay + redeem_delay if redeems else None,
        p_open,
        p_baseline,
        p_baseline + p_open * (1.0 - p_baseline) * p_convert,
    )
