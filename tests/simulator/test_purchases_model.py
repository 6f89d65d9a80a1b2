"""The offer model's basket side: who buys the promoted product with and without the offer, and
what else goes in the basket (seeded, no server)."""

from __future__ import annotations

import numpy as np
import pytest

from simulator.customers import make_customer_base
from simulator.purchases import (
    baseline_draw,
    baseline_rate,
    discount_fraction,
    respond_to_offer,
    shopping_list_items,
)

N = 4000


def test_offered_shoppers_buy_at_the_offered_rate_and_the_others_at_the_baseline() -> None:
    """The same per-shopper draw u_b decides "buys anyway" with or without the offer, so the
    difference of the two buying rates is the model's uplift, shopper by shopper."""
    affinity, discount = 0.3, 0.2
    offered, anyway = [], []
    for i in range(N):
        u_b = baseline_draw(7, f"C{i:05d}", "SKU1")
        response = respond_to_offer(affinity, discount, np.random.default_rng([7, i]), u_b)
        offered.append(response.buys)
        anyway.append(u_b < baseline_rate(affinity))
        assert response.buys or not anyway[-1]  # an offer never stops a purchase
        assert (response.redeem_after_s is not None) == (
            response.buys and response.open_after_s is not None
        )
    sigma = np.sqrt(0.25 / N)  # the largest standard error of a rate over N shoppers
    assert np.mean(anyway) == pytest.approx(baseline_rate(affinity), abs=4 * sigma)
    assert np.mean(offered) == pytest.approx(response.p_offered, abs=4 * sigma)
    # p_open = 0.25 + 0.5·0.3, 1 − p_b = 1 − (0.05 + 0.3·0.3), p_convert = 0.1 + 0.4·0.3 + 0.8·0.2
    assert response.uplift == pytest.approx(0.40 * 0.86 * (0.1 + 0.12 + 0.16))


def test_discount_comes_from_the_field_or_the_title() -> None:
    assert discount_fraction({"discount_pct": 30, "title": "-20 % on tea"}) == pytest.approx(0.3)
    assert discount_fraction({"title": "-20 % on tea"}) == pytest.approx(0.2)
    assert discount_fraction({"title": "Fresh this week"}) == 0.0


def test_shopping_list_items_come_from_the_listed_shelves_and_leave_out_promoted() -> None:
    base = make_customer_base(["bakery", "coffee", "dairy"], 5, 1_795_000_000_000, 3)
    category_of = {p.sku: p.category for p in base.products}
    coffee = sorted(p.sku for p in base.products if p.category == "coffee")
    leave_out = frozenset(coffee[:3])
    items = shopping_list_items(
        base, "C00001", ["coffee", "dairy"], leave_out, np.random.default_rng(1)
    )
    assert {category_of[i.sku] for i in items} == {"coffee", "dairy"}
    assert not leave_out & {i.sku for i in items}
    assert all(1 <= i.quantity <= 3 and i.price > 0 for i in items)
    again = shopping_list_items(
        base, "C00001", ["coffee", "dairy"], leave_out, np.random.default_rng(1)
    )
    assert again == items  # seeded
