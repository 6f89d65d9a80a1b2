"""Baskets posted by a store's point of sale: checked, linked to the shopper's visit, written once.

A basket is refused whole (the till shows the reason and can post it again) when its customer or
one of its SKUs is unknown, or when the visit it names is not this customer's visit to this store.
Posting the same basket id to the same store again is harmless: the first copy stands and the
answer says ``duplicate``; a different basket under a used id is a conflict.

Without a visit id, the basket goes with the customer's latest visit to the store that started
before the basket's time and was last seen at most ``CHECKOUT_AFTER_VISIT_MS`` before it (the app
often closes at the till, or the phone loses the store's beacons in the checkout queue).
"""

from __future__ import annotations

from collections import Counter

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.schemas.commerce import BasketCreate, BasketRecorded
from server.tables import Customer, Product, Purchase, Visit
from server.visit_log import VISIT_RESUME_WINDOW_MS

# A basket paid this long after the app was last seen in the store still belongs to that visit;
# the same span after which a returning shopper starts a new visit.
CHECKOUT_AFTER_VISIT_MS = VISIT_RESUME_WINDOW_MS


class BasketRejected(ValueError):
    """The basket cannot be recorded; ``conflict`` when its id is taken by another basket."""

    def __init__(self, reason: str, conflict: bool = False) -> None:
        super().__init__(reason)
        self.conflict = conflict


def _checked_lines(session: Session, basket: BasketCreate) -> None:
    skus = {line.sku for line in basket.lines}
    known = set(session.scalars(select(Product.sku).where(Product.sku.in_(skus))))
    for i, line in enumerate(basket.lines):
        if line.sku not in known:
            raise BasketRejected(f"lines[{i}]: sku {line.sku!r} is not in the catalogue")


def visit_at_checkout(session: Session, store_id: int, customer_id: str, t_ms: int) -> str | None:
    """The customer's visit this basket was paid in, if any (see the module's rule)."""
    return session.scalar(
        select(Visit.id)
        .where(
            Visit.store_id == store_id,
            Visit.customer_id == customer_id,
            Visit.started_ms <= t_ms,
            Visit.last_seen_ms >= t_ms - CHECKOUT_AFTER_VISIT_MS,
        )
        .order_by(Visit.started_ms.desc())
        .limit(1)
    )


def _named_visit(session: Session, store_id: int, basket: BasketCreate) -> str:
    assert basket.visit_id is not None
    visit = session.get(Visit, basket.visit_id)
    if visit is None:
        raise BasketRejected(f"unknown visit {basket.visit_id!r}")
    if visit.customer_id != basket.customer_id or visit.store_id != store_id:
        raise BasketRejected(
            f"visit {basket.visit_id!r} is not customer {basket.customer_id!r}'s visit to store "
            f"{store_id}"
        )
    return visit.id


def _recorded(
    store_id: int, basket: BasketCreate, visit_id: str | None, duplicate: bool
) -> BasketRecorded:
    return BasketRecorded(
        basket_id=basket.basket_id,
        store_id=store_id,
        customer_id=basket.customer_id,
        visit_id=visit_id,
        t_ms=basket.t_ms,
        lines=len(basket.lines),
        total=round(sum(line.quantity * line.price for line in basket.lines), 2),
        duplicate=duplicate,
    )


def record_basket(session: Session, store_id: int, basket: BasketCreate) -> BasketRecorded:
    """Check the basket and add its lines to the session (the caller commits)."""
    if session.get(Customer, basket.customer_id) is None:
        raise BasketRejected(f"unknown customer {basket.customer_id!r}")
    _checked_lines(session, basket)
    same_id = (Purchase.store_id == store_id, Purchase.basket_id == basket.basket_id)
    stored = session.scalars(select(Purchase).where(*same_id)).all()
    lines = [(line.sku, line.quantity, line.price) for line in basket.lines]
    if stored:
        if stored[0].customer_id != basket.customer_id or Counter(
            (p.sku, p.quantity, p.price) for p in stored
        ) != Counter(lines):
            raise BasketRejected(
                f"basket {basket.basket_id!r} was already recorded with other lines or customer",
                conflict=True,
            )
        return _recorded(store_id, basket, stored[0].visit_id, duplicate=True)
    if basket.visit_id is not None:
        visit_id: str | None = _named_visit(session, store_id, basket)
    else:
        visit_id = visit_at_checkout(session, store_id, basket.customer_id, basket.t_ms)
    session.add_all(
        Purchase(
            basket_id=basket.basket_id,
            customer_id=basket.customer_id,
            t_ms=basket.t_ms,
            sku=sku,
            quantity=quantity,
            price=price,
            store_id=store_id,
            visit_id=visit_id,
        )
        for sku, quantity, price in lines
    )
    return _recorded(store_id, basket, visit_id, duplicate=False)
