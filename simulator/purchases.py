"""How a simulated shopper answers an offer: open it, redeem it, or ignore it (seeded, pure).

The model makes uplift measurable and known. The shopper's **affinity** a for the offer's
category (the share of their past items bought in it, from ``purchases.csv``) sets how likely
they are to buy there anyway; the offer converts some of those who open it, more so with a
**discount**:

    a = items bought in the offer's category / all items bought       (0 when unknown)
    d = content["discount_pct"] / 100, else a "-NN %" in its title / 100   (0 when neither)
    p_baseline       = 0.05 + 0.3·a            would buy in the category anyway (a hold-out's rate)
    p_open           = 0.25 + 0.5·a
    p_convert | open = min(0.9, 0.1 + 0.4·a + 0.8·d)   an opener who would not have bought, does
    buys             = buys anyway (u_b < p_baseline) or (opens and is converted)
    redeems          = opens and buys
    P(buy | offered) = p_baseline + p_open·(1 − p_baseline)·p_convert
    true uplift      = p_open·(1 − p_baseline)·p_convert  (> 0: an offer never hurts here)

"Buys" means the offer's product is in the basket the shopper pays at checkout. Whether they buy
it anyway is one draw u_b per shopper and product (``baseline_draw``), made whether or not an
offer comes: a hold-out shopper (never sent the offer) or one outside the audience buys it at
exactly p_baseline, and an offered shopper who would have bought it anyway still does.

Opening happens 2–20 s after the offer arrives (a glance at the notification); redeeming 30–120 s
after opening (at the shelf or the till), or at checkout if the visit ends first.

The rest of the basket is the shopper's shopping list (the categories their visit was planned
around): one to two products per listed category, picked in proportion to how often the customer
bought each (plus a small prior), 1–3 of each, at the catalogue price; an offer's product is paid
with its discount when the offer was redeemed.
"""

from __future__ import annotations

import re
import zlib
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from simulator.customers import CustomerBase, Product

OPEN_BASE, OPEN_PER_AFFINITY = 0.25, 0.5
CONVERT_BASE, CONVERT_PER_AFFINITY, CONVERT_PER_DISCOUNT, CONVERT_MAX = 0.1, 0.4, 0.8, 0.9
BASELINE_BASE, BASELINE_PER_AFFINITY = 0.05, 0.3
OPEN_DELAY_S = (2.0, 20.0)
REDEEM_DELAY_S = (30.0, 120.0)
# Keys of an offer's content that may name its product or category (campaign authors' choice).
SKU_KEYS = ("promoted_sku", "sku", "product_sku")
CATEGORY_KEYS = ("category", "product_category")
# "-20 %", "-20%", "−20 %" in an offer's title.
TITLE_DISCOUNT = re.compile(r"[-−]\s*(\d{1,3})\s*%")
# Basket of the rest of the list: products per listed category, units per product, and the prior
# count that lets a customer now and then pick a product they never bought.
PRODUCTS_PER_LISTED_CATEGORY = (1, 2)
UNITS_PER_PRODUCT = (1, 3)
NEW_PRODUCT_PRIOR = 0.5


@dataclass(frozen=True)
class OfferResponse:
    """What the shopper will do, in seconds after the offer arrived (None: never), and the
    model's probabilities for this offer (to check an uplift estimate against)."""

    open_after_s: float | None
    redeem_after_s: float | None
    p_open: float
    p_baseline: float
    p_offered: float  # P(the offer's product is in the basket | offered)
    buys: bool = False  # this shopper's draw: the offer's product goes in their basket

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
    """The offer's discount: ``discount_pct`` if the content has it, else what its title says
    (``-20 % on …``: triggers' content carries a title, not a discount field, and the title is
    what the shopper reads)."""
    value = content.get("discount_pct")
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(np.clip(value / 100.0, 0.0, 1.0))
    title = content.get("title")
    found = TITLE_DISCOUNT.search(title) if isinstance(title, str) else None
    return float(np.clip(int(found.group(1)) / 100.0, 0.0, 1.0)) if found else 0.0


def baseline_rate(affinity: float) -> float:
    """P(buy the product anyway) = 0.05 + 0.3·a."""
    return BASELINE_BASE + BASELINE_PER_AFFINITY * affinity


def baseline_draw(seed: int, customer_id: str, sku: str) -> float:
    """The shopper's u_b for one product: the same with or without an offer (seeded)."""
    key = [seed, zlib.crc32(customer_id.encode()), zlib.crc32(sku.encode())]
    return float(np.random.default_rng(key).random())


def respond_to_offer(
    affinity: float, discount: float, rng: np.random.Generator, u_baseline: float | None = None
) -> OfferResponse:
    """Draw the shopper's answer to one offer (all draws are made whatever the outcome, so the
    same seed gives the same answers whatever came before). ``u_baseline``: the shopper's
    ``baseline_draw`` for the offer's product, when known, in place of the one drawn here."""
    p_baseline = baseline_rate(affinity)
    p_open = OPEN_BASE + OPEN_PER_AFFINITY * affinity
    p_convert = min(CONVERT_MAX, CONVERT_BASE + CONVERT_PER_AFFINITY * affinity
                    + CONVERT_PER_DISCOUNT * discount)  # fmt: skip
    u_drawn, u_open, u_convert = rng.random(3)
    u_b = u_drawn if u_baseline is None else u_baseline
    open_delay = float(rng.uniform(*OPEN_DELAY_S))
    redeem_delay = float(rng.uniform(*REDEEM_DELAY_S))
    opens = u_open < p_open
    buys = bool(u_b < p_baseline or (opens and u_convert < p_convert))
    redeems = opens and buys
    return OfferResponse(
        open_delay if opens else None,
        open_delay + redeem_delay if redeems else None,
        p_open,
        p_baseline,
        p_baseline + p_open * (1.0 - p_baseline) * p_convert,
        buys,
    )


@dataclass(frozen=True)
class BasketItem:
    sku: str
    quantity: int
    price: float  # unit price paid


def shopping_list_items(
    customers: CustomerBase,
    customer_id: str,
    listed_categories: Sequence[str],
    leave_out: frozenset[str],
    rng: np.random.Generator,
) -> list[BasketItem]:
    """What the shopper takes from their list's shelves (``leave_out``: products the offer model
    decides, e.g. every campaign's promoted product)."""
    bought: Counter[str] = Counter()
    for line in customers.purchases:
        if line.customer_id == customer_id:
            bought[line.sku] += line.quantity
    by_category: dict[str, list[Product]] = {}
    for product in customers.products:
        if product.sku not in leave_out:
            by_category.setdefault(product.category, []).append(product)
    items: dict[str, BasketItem] = {}
    for category in listed_categories:
        shelf = by_category.get(category, [])
        if not shelf:
            continue
        weights = np.array([bought[p.sku] + NEW_PRODUCT_PRIOR for p in shelf], dtype=float)
        low, high = PRODUCTS_PER_LISTED_CATEGORY
        size = min(len(shelf), int(rng.integers(low, high + 1)))
        for k in rng.choice(len(shelf), size=size, replace=False, p=weights / weights.sum()):
            product = shelf[int(k)]
            units = int(rng.integers(UNITS_PER_PRODUCT[0], UNITS_PER_PRODUCT[1] + 1))
            items[product.sku] = BasketItem(product.sku, units, product.price)
    return list(items.values())
