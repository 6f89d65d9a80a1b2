"""A seeded synthetic store: catalogue, shoppers with purchase histories, campaigns and occasions.

For the benchmark and the fast-path-against-obvious-path tests. Purchases are generated as
columns (numpy arrays) and summarised per shopper without building a Purchase per line, which is
what a bulk loader for millions of lines does too.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from triggers.audience import (
    AgeRange,
    AllOf,
    AudienceRule,
    Bought,
    GenderIs,
    InSegment,
    Member,
    Not,
    Spent,
    Visits,
)
from triggers.campaigns import Budget, Campaign, Content, Context, Recommendation
from triggers.occasion import Occasion
from triggers.profiles import DAY_MS, GENDERS, Product, PurchaseHistory, ShopperProfile
from triggers.schedule import Schedule, TimeWindow

ZONE_KINDS = ("shelf", "area", "screen", "entrance", "checkout")
ZONE_KIND_WEIGHTS = (0.75, 0.15, 0.07, 0.02, 0.01)
EVENTS = ("enter", "dwell", "facing", "near_screen", "app_open", "visit_end")
EVENT_WEIGHTS = (0.35, 0.2, 0.15, 0.1, 0.15, 0.05)
HISTORY_DAYS = 180


@dataclass(frozen=True, slots=True)
class SyntheticZone:
    id: str
    kind: str
    categories: tuple[str, ...]


@dataclass
class SyntheticStore:
    catalogue: dict[str, Product]
    zones: list[SyntheticZone]
    profiles: dict[str, ShopperProfile]
    basket_ids: np.ndarray  # one entry per purchase line
    skus: np.ndarray
    campaigns: list[Campaign]
    now_ms: int


def _catalogue(rng: np.random.Generator, n_skus: int, n_categories: int) -> dict[str, Product]:
    categories = rng.integers(0, n_categories, n_skus)
    prices = np.round(rng.lognormal(1.2, 0.6, n_skus), 2)
    return {
        f"sku{i}": Product(f"sku{i}", f"product {i}", f"cat{categories[i]}", float(prices[i]))
        for i in range(n_skus)
    }


def _zones(rng: np.random.Generator, n_zones: int, n_categories: int) -> list[SyntheticZone]:
    kinds = rng.choice(len(ZONE_KINDS), n_zones, p=ZONE_KIND_WEIGHTS)
    zones = []
    for i in range(n_zones):
        k = int(rng.integers(1, 3))
        cats = tuple(sorted({f"cat{c}" for c in rng.integers(0, n_categories, k)}))
        zones.append(SyntheticZone(f"z{i}", ZONE_KINDS[kinds[i]], cats))
    return zones


def _purchase_columns(
    rng: np.random.Generator, n_shoppers: int, n_lines: int, n_skus: int, now_ms: int
) -> tuple[np.ndarray, ...]:
    """Baskets of ~5 lines; each basket draws most lines from a few related skus so that
    co-purchases carry signal (sku i goes with i+1..i+4)."""
    n_baskets = n_lines // 5
    basket_shopper = rng.integers(0, n_shoppers, n_baskets)
    basket_t = now_ms - rng.integers(1, HISTORY_DAYS * DAY_MS, n_baskets)
    basket_of_line = np.sort(rng.integers(0, n_baskets, n_lines))
    anchor = rng.integers(0, n_skus, n_baskets)[basket_of_line]
    related = (anchor + rng.integers(0, 5, n_lines)) % n_skus
    random_sku = rng.integers(0, n_skus, n_lines)
    sku = np.where(rng.random(n_lines) < 0.6, related, random_sku)
    quantity = rng.integers(1, 4, n_lines)
    return basket_of_line, basket_shopper[basket_of_line], basket_t[basket_of_line], sku, quantity


def _histories(
    n_shoppers: int,
    shopper: np.ndarray,
    basket: np.ndarray,
    t_ms: np.ndarray,
    sku: np.ndarray,
    amount: np.ndarray,
    sku_category: np.ndarray,
) -> list[PurchaseHistory]:
    """One PurchaseHistory per shopper from the columns (sorted once, then sliced)."""
    order = np.lexsort((t_ms, shopper))
    shopper, basket, t_ms, sku, amount = (a[order] for a in (shopper, basket, t_ms, sku, amount))
    bounds = np.searchsorted(shopper, np.arange(n_shoppers + 1))
    sku_names = [f"sku{i}" for i in range(int(sku.max(initial=0)) + 1)]
    cat_names = [f"cat{c}" for c in sku_category]
    histories = []
    for s in range(n_shoppers):
        lo, hi = bounds[s], bounds[s + 1]
        ts, ks = t_ms[lo:hi].tolist(), sku[lo:hi].tolist()
        # Lines are in time order, so later assignments keep each sku's last time.
        last_sku = {sku_names[k]: t for k, t in zip(ks, ts, strict=True)}
        last_cat = {cat_names[k]: t for k, t in zip(ks, ts, strict=True)}
        b_ids, first = np.unique(basket[lo:hi], return_index=True)
        spend = np.bincount(np.searchsorted(b_ids, basket[lo:hi]), weights=amount[lo:hi])
        histories.append(
            PurchaseHistory(last_sku, last_cat, t_ms[lo:hi][first].tolist(), spend.tolist())
        )
    return histories


def _audience(rng: np.random.Generator, n_categories: int, n_skus: int) -> AudienceRule | None:
    leaves: list[AudienceRule] = []
    pick = rng.random(7)
    if pick[0] < 0.4:
        leaves.append(
            Bought(float(rng.integers(7, 90)), category=f"cat{rng.integers(n_categories)}")
        )
    if pick[1] < 0.15:
        leaves.append(Bought(30.0, sku=f"sku{rng.integers(n_skus)}"))
    if pick[2] < 0.2:
        leaves.append(Spent(float(rng.integers(10, 200)), 30.0))
    if pick[3] < 0.3:
        low = int(rng.integers(18, 50))
        leaves.append(AgeRange(low, low + int(rng.integers(10, 30))))
    if pick[4] < 0.2:
        leaves.append(GenderIs(frozenset({str(rng.choice(GENDERS[:2]))})))
    if pick[5] < 0.3:
        leaves.append(Member())
    if pick[6] < 0.2:
        leaves.append(InSegment(str(rng.choice(["new", "frequent", "lapsed"]))))
    if rng.random() < 0.1:
        leaves.append(Not(Visits(30.0, min_count=6)))
    return AllOf(tuple(leaves)) if leaves else None


def _campaign(
    rng: np.random.Generator, i: int, zones: list[SyntheticZone], n_categories: int, n_skus: int
) -> Campaign:
    event = str(rng.choice(EVENTS, p=EVENT_WEIGHTS))
    place = rng.random()
    zone_ids: frozenset[str] = frozenset()
    kinds: frozenset[str] = frozenset()
    categories: frozenset[str] = frozenset()
    if event not in ("app_open", "visit_end"):
        if place < 0.55:
            zone_ids = frozenset(zones[int(z)].id for z in rng.integers(0, len(zones), 2))
        elif place < 0.65:
            kinds = frozenset({str(rng.choice(ZONE_KINDS[1:]))})
        elif place < 0.95:
            categories = frozenset(f"cat{c}" for c in rng.integers(0, n_categories, 2))
    context = Context(
        event, float(rng.integers(0, 30)) if event == "dwell" else 0.0, zone_ids, kinds, categories
    )
    hours = (TimeWindow(int(rng.integers(6, 12)) * 60, int(rng.integers(15, 23)) * 60),)
    schedule = Schedule(
        weekdays=frozenset(int(d) for d in rng.choice(7, 5, replace=False))
        if rng.random() < 0.3
        else frozenset(),
        hours=hours if rng.random() < 0.4 else (),
    )
    recommend = rng.random() < 0.3
    channel = "signage" if event == "near_screen" and rng.random() < 0.5 else "app"
    return Campaign(
        id=f"camp{i:04d}",
        name=f"Campaign {i}",
        context=context,
        content=Content(
            f"Offer {i}",
            "Body",
            coupon_code=f"C{i}",
            promoted_sku=None if recommend else f"sku{rng.integers(n_skus)}",
        ),
        channel=channel,  # type: ignore[arg-type]
        schedule=schedule,
        audience=_audience(rng, n_categories, n_skus),
        priority=int(rng.integers(0, 10)),
        budget=Budget(max_issued=int(rng.integers(10_000, 1_000_000))),
        per_shopper_per_day=1,
        holdout_share=0.1 if rng.random() < 0.5 else 0.0,
        recommendation=Recommendation() if recommend else None,
    )


def synthetic_store(
    seed: int = 0,
    *,
    shoppers: int = 1000,
    purchases: int = 20_000,
    campaigns: int = 100,
    skus: int = 2000,
    categories: int = 40,
    zones: int = 200,
    now_ms: int = 1_772_546_400_000,  # Tue 2026-03-03 14:00 UTC
) -> SyntheticStore:
    rng = np.random.default_rng(seed)
    catalogue = _catalogue(rng, skus, categories)
    store_zones = _zones(rng, zones, categories)
    basket, shopper, t_ms, sku, quantity = _purchase_columns(rng, shoppers, purchases, skus, now_ms)
    prices = np.array([catalogue[f"sku{i}"].price for i in range(skus)])
    sku_category = np.array([int(catalogue[f"sku{i}"].category[3:]) for i in range(skus)])
    histories = _histories(
        shoppers, shopper, basket, t_ms, sku, quantity * prices[sku], sku_category
    )
    genders = rng.choice(GENDERS, shoppers, p=(0.48, 0.44, 0.03, 0.05))
    ages = rng.integers(16, 85, shoppers)
    tiers = rng.choice(["", "member", "silver", "gold"], shoppers, p=(0.4, 0.35, 0.15, 0.1))
    consent_draw = rng.random((shoppers, 2))
    profiles = {}
    for s in range(shoppers):
        consents = {"location_analytics"}
        if consent_draw[s, 0] < 0.8:
            consents.add("personalised_offers")
        if consent_draw[s, 1] < 0.6:
            consents.add("signage")
        profiles[f"u{s}"] = ShopperProfile(
            f"u{s}",
            str(genders[s]),
            int(ages[s]),
            str(tiers[s]),
            frozenset(consents),
            history=histories[s],
        )
    return SyntheticStore(
        catalogue=catalogue,
        zones=store_zones,
        profiles=profiles,
        basket_ids=basket,
        skus=np.array([f"sku{k}" for k in range(skus)])[sku],
        campaigns=[_campaign(rng, i, store_zones, categories, skus) for i in range(campaigns)],
        now_ms=now_ms,
    )


def synthetic_occasions(
    store: SyntheticStore, n: int, seed: int = 1, store_id: str = "s1"
) -> list[Occasion]:
    """Occasions spread over eight store hours after ``store.now_ms``, visits of ~10 events."""
    rng = np.random.default_rng(seed)
    shoppers = list(store.profiles)
    times = np.sort(rng.integers(0, 8 * 3_600_000, n)) + store.now_ms
    visit_of = rng.integers(0, max(1, n // 10), n)
    visit_shopper = rng.integers(0, len(shoppers), max(1, n // 10))
    kinds = rng.choice(EVENTS, n, p=EVENT_WEIGHTS)
    zone_pick = rng.integers(0, len(store.zones), n)
    occasions = []
    for i in range(n):
        kind = str(kinds[i])
        zone = store.zones[int(zone_pick[i])]
        in_zone = kind not in ("app_open", "visit_end") or (
            kind == "app_open" and rng.random() < 0.3
        )
        occasions.append(
            Occasion(
                kind,  # type: ignore[arg-type]
                shoppers[int(visit_shopper[visit_of[i]])],
                store_id,
                int(times[i]),
                zone.id if in_zone else None,
                zone.kind if in_zone else None,
                zone.categories if in_zone else (),
                float(rng.integers(0, 60)) if kind == "dwell" else 0.0,
                f"screen-{zone.id}" if kind == "near_screen" else None,
                f"visit{visit_of[i]}",
            )
        )
    return occasions
