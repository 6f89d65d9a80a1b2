from __future__ import annotations

from collections import Counter

import numpy as np

from simulator.customers import make_customer_base
from simulator.shopper import shopping_list

CATEGORIES = ["bakery", "beer", "dairy", "fish", "fruit & vegetables", "meat", "snacks", "wine"]


def test_purchase_histories_shape_the_shopping_list() -> None:
    rng = np.random.default_rng(0)
    bought = Counter({"dairy": 40, "bakery": 25})
    lists = [shopping_list(bought, CATEGORIES, rng) for _ in range(400)]
    share = {c: sum(c in items for items in lists) / len(lists) for c in CATEGORIES}
    assert share["dairy"] > 0.9
    assert share["bakery"] > 0.85
    assert max(share[c] for c in CATEGORIES if c not in bought) < 0.6
    assert all(len(set(items)) == len(items) for items in lists)


def test_customers_buy_mostly_from_a_few_categories() -> None:
    base = make_customer_base(CATEGORIES, 30, 1_772_442_000_000, seed=3)
    top_two_shares = []
    for customer in base.customers:
        counts = base.category_counts(customer.customer_id)
        top_two_shares.append(sum(n for _, n in counts.most_common(2)) / sum(counts.values()))
    # With Dirichlet(0.3) tastes, two categories carry most of a typical customer's items.
    assert np.median(top_two_shares) > 0.5
    assert all(line.t_ms < 1_772_442_000_000 for line in base.purchases)


def test_same_seed_same_customer_base() -> None:
    one = make_customer_base(CATEGORIES, 10, 1_772_442_000_000, seed=5)
    assert one == make_customer_base(CATEGORIES, 10, 1_772_442_000_000, seed=5)
    assert one != make_customer_base(CATEGORIES, 10, 1_772_442_000_000, seed=6)
