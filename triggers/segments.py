"""RFM-style segments from a shopper's baskets: new, frequent, lapsed.

A shopper can be in more than one (a new shopper who came four times this month is both new and
frequent); a shopper with no baskets is only ``new``.
"""

from __future__ import annotations

from triggers.profiles import DAY_MS, PurchaseHistory

SEGMENTS: tuple[str, ...] = ("new", "frequent", "lapsed")
# First basket within a month: the store is still getting to know them.
NEW_CUSTOMER_DAYS = 30
# Four baskets in 30 days is a weekly shop; fewer is an occasional visitor.
FREQUENT_MIN_BASKETS = 4
FREQUENT_WINDOW_DAYS = 30
# Two months without a basket: a weekly or monthly shopper has gone elsewhere.
LAPSED_AFTER_DAYS = 60


def in_segment(history: PurchaseHistory, segment: str, now_ms: int) -> bool:
    first = history.first_basket_ms
    last = history.last_basket_ms
    if segment == "new":
        return first is None or first >= now_ms - NEW_CUSTOMER_DAYS * DAY_MS
    if segment == "frequent":
        since = now_ms - FREQUENT_WINDOW_DAYS * DAY_MS
        return history.baskets_between(since, now_ms) >= FREQUENT_MIN_BASKETS
    if segment == "lapsed":
        return last is not None and last < now_ms - LAPSED_AFTER_DAYS * DAY_MS
    raise ValueError(f"unknown segment {segment!r}; expected one of {SEGMENTS}")
