"""Shoppers, the catalogue and purchases, and the per-shopper purchase summary audiences read.

The summary (:class:`PurchaseHistory`) is built once per shopper so an audience check is a dict
lookup or a bisection, never a scan of the purchase list.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from itertools import accumulate

CONSENT_PURPOSES: frozenset[str] = frozenset(
    {"location_analytics", "personalised_offers", "signage"}
)
GENDERS: tuple[str, ...] = ("female", "male", "other", "unknown")
DAY_MS = 86_400_000


class ProfileError(ValueError):
    """A profile, product or purchase with an impossible value."""


@dataclass(frozen=True, slots=True)
class Product:
    sku: str
    name: str
    category: str
    price: float


@dataclass(frozen=True, slots=True)
class Purchase:
    """One line of a basket; ``price`` is the unit price paid."""

    customer_id: str
    sku: str
    quantity: int
    price: float
    t_ms: int
    basket_id: str
    category: str = ""

    @property
    def amount(self) -> float:
        return self.quantity * self.price


class PurchaseHistory:
    """What audiences ask of a shopper's purchases, precomputed.

    ``last_sku_ms``/``last_category_ms``: the last time each sku/category was bought.
    Baskets are kept in time order with a running total of spend, so spend and basket counts
    within a window are two bisections: spend(t0, t1] = cum[j] − cum[i].
    """

    __slots__ = ("_basket_cumulative_spend", "basket_t_ms", "last_category_ms", "last_sku_ms")

    def __init__(
        self,
        last_sku_ms: dict[str, int],
        last_category_ms: dict[str, int],
        basket_t_ms: list[int],
        basket_spend: list[float],
    ) -> None:
        if len(basket_t_ms) != len(basket_spend):
            raise ProfileError("basket times and spends differ in length")
        order = sorted(range(len(basket_t_ms)), key=basket_t_ms.__getitem__)
        self.last_sku_ms = last_sku_ms
        self.last_category_ms = last_category_ms
        self.basket_t_ms = [basket_t_ms[i] for i in order]
        self._basket_cumulative_spend = [0.0, *accumulate(basket_spend[i] for i in order)]

    @classmethod
    def from_purchases(cls, purchases: Iterable[Purchase]) -> PurchaseHistory:
        last_sku: dict[str, int] = {}
        last_category: dict[str, int] = {}
        basket_t: dict[str, int] = {}
        basket_spend: dict[str, float] = {}
        for p in purchases:
            if last_sku.get(p.sku, -1) < p.t_ms:
                last_sku[p.sku] = p.t_ms
            if p.category and last_category.get(p.category, -1) < p.t_ms:
                last_category[p.category] = p.t_ms
            # A basket's time is its last line's time (the till closes once).
            basket_t[p.basket_id] = max(basket_t.get(p.basket_id, p.t_ms), p.t_ms)
            basket_spend[p.basket_id] = basket_spend.get(p.basket_id, 0.0) + p.amount
        baskets = list(basket_t)
        return cls(
            last_sku,
            last_category,
            [basket_t[b] for b in baskets],
            [basket_spend[b] for b in baskets],
        )

    def _window(self, since_ms: int, until_ms: int) -> tuple[int, int]:
        return bisect_left(self.basket_t_ms, since_ms), bisect_right(self.basket_t_ms, until_ms)

    def spend_between(self, since_ms: int, until_ms: int) -> float:
        i, j = self._window(since_ms, until_ms)
        return self._basket_cumulative_spend[j] - self._basket_cumulative_spend[i]

    def baskets_between(self, since_ms: int, until_ms: int) -> int:
        i, j = self._window(since_ms, until_ms)
        return j - i

    @property
    def first_basket_ms(self) -> int | None:
        return self.basket_t_ms[0] if self.basket_t_ms else None

    @property
    def last_basket_ms(self) -> int | None:
        return self.basket_t_ms[-1] if self.basket_t_ms else None

    def skus_bought_since(self, since_ms: int) -> list[str]:
        """Skus bought at or after ``since_ms``, most recent first."""
        recent = [(t, sku) for sku, t in self.last_sku_ms.items() if t >= since_ms]
        recent.sort(reverse=True)
        return [sku for _, sku in recent]


EMPTY_HISTORY = PurchaseHistory({}, {}, [], [])


@dataclass(frozen=True, slots=True)
class ShopperProfile:
    """A shopper keyed by a pseudonymous id. ``tier`` is empty for non-members.

    ``history`` is built from ``purchases`` when not given (bulk loaders pass it precomputed).
    """

    shopper_id: str
    gender: str = "unknown"
    age: int | None = None
    tier: str = ""
    consents: frozenset[str] = frozenset()
    purchases: tuple[Purchase, ...] = ()
    history: PurchaseHistory = field(default=EMPTY_HISTORY, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.gender not in GENDERS:
            raise ProfileError(f"gender {self.gender!r} is not one of {GENDERS}")
        if self.age is not None and not 0 <= self.age <= 130:
            raise ProfileError(f"age {self.age} is outside 0..130")
        unknown = self.consents - CONSENT_PURPOSES
        if unknown:
            raise ProfileError(f"unknown consent purposes {sorted(unknown)}")
        if self.history is EMPTY_HISTORY and self.purchases:
            object.__setattr__(self, "history", PurchaseHistory.from_purchases(self.purchases))

    @property
    def is_member(self) -> bool:
        return self.tier != ""

    def has_consent(self, purpose: str) -> bool:
        return purpose in self.consents

    def with_consents(self, consents: Iterable[str]) -> ShopperProfile:
        """The same shopper after granting or withdrawing consents (takes effect at once)."""
        return replace(self, consents=frozenset(consents))


def catalogue_of(products: Iterable[Product]) -> dict[str, Product]:
    """The catalogue as sku → product."""
    return {p.sku: p for p in products}


def build_profiles(
    customers: Iterable[ShopperProfile],
    purchases: Iterable[Purchase],
    catalogue: Mapping[str, Product] | None = None,
) -> dict[str, ShopperProfile]:
    """Attach purchases (with categories from the catalogue when missing) to their shoppers.

    Purchases of customers not in ``customers`` raise, so none is dropped silently.
    """
    by_customer: dict[str, list[Purchase]] = {}
    for p in purchases:
        if not p.category and catalogue is not None and p.sku in catalogue:
            p = replace(p, category=catalogue[p.sku].category)
        by_customer.setdefault(p.customer_id, []).append(p)
    profiles = {c.shopper_id: c for c in customers}
    unknown = set(by_customer) - set(profiles)
    if unknown:
        raise ProfileError(f"purchases of unknown customers: {sorted(unknown)[:5]}")
    return {
        sid: replace(
            c,
            purchases=(*c.purchases, *by_customer.get(sid, ())),
            history=EMPTY_HISTORY,
        )
        for sid, c in profiles.items()
    }
