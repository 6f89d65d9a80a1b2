"""A seeded customer base: catalogue, customers with consents, and basket histories, as CSVs.

Formats (CONTRACTS.md, read by the triggers importer):
``products.csv`` ``sku,name,category,price``; ``customers.csv``
``customer_id,gender,age,tier,consents`` (consents ``;``-separated); ``purchases.csv``
``basket_id,customer_id,t_ms,sku,quantity,price`` (unit price paid).

Each customer has a taste: a Dirichlet-distributed preference over categories, concentrated on a
few (people buy from a handful of categories again and again). Their baskets are drawn from it,
and their shopping list on a simulated visit is drawn from what they bought, so offers chosen
from purchase history meet the shelves the shopper actually walks to.
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CONSENT_PURPOSES = ("location_analytics", "personalised_offers", "signage")
# Share of app users granting each purpose: analytics is usually bundled with the app's terms,
# offers and signage are opt-in (a GDPR-style consent screen gets roughly half to two thirds).
CONSENT_RATES = {"location_analytics": 0.85, "personalised_offers": 0.6, "signage": 0.5}
TIERS = ("", "member", "silver", "gold")
TIER_WEIGHTS = (0.3, 0.45, 0.17, 0.08)
GENDERS = ("female", "male", "other", "unknown")
GENDER_WEIGHTS = (0.5, 0.44, 0.02, 0.04)
# Dirichlet concentration: < 1 makes each customer favour a few categories.
TASTE_CONCENTRATION = 0.3
PRODUCTS_PER_CATEGORY = 6
HISTORY_DAYS = 180
DAY_MS = 86_400_000
# The history ends a day before the simulated visits (the base time passed in).
HISTORY_GAP_MS = DAY_MS


@dataclass(frozen=True)
class Product:
    sku: str
    name: str
    category: str
    price: float


@dataclass(frozen=True)
class Customer:
    customer_id: str
    gender: str
    age: int
    tier: str
    consents: tuple[str, ...]


@dataclass(frozen=True)
class PurchaseLine:
    basket_id: str
    customer_id: str
    t_ms: int
    sku: str
    quantity: int
    price: float


@dataclass(frozen=True)
class CustomerBase:
    products: tuple[Product, ...]
    customers: tuple[Customer, ...]
    purchases: tuple[PurchaseLine, ...]

    def category_counts(self, customer_id: str) -> Counter[str]:
        """Items bought per category by one customer (their history's shape)."""
        category_of = {p.sku: p.category for p in self.products}
        counts: Counter[str] = Counter()
        for line in self.purchases:
            if line.customer_id == customer_id:
                counts[category_of[line.sku]] += line.quantity
        return counts


def make_catalogue(categories: list[str], rng: np.random.Generator) -> list[Product]:
    """``PRODUCTS_PER_CATEGORY`` products per category with log-normal prices (median ~3)."""
    products = []
    for c, category in enumerate(categories):
        for k in range(PRODUCTS_PER_CATEGORY):
            price = float(np.round(np.exp(rng.normal(1.1, 0.6)), 2)) + 0.09
            products.append(
                Product(
                    f"SKU{c + 1:03d}{k + 1:02d}",
                    f"{category} item {k + 1}",
                    category,
                    round(price, 2),
                )
            )
    return products


def make_customers(count: int, rng: np.random.Generator) -> list[Customer]:
    customers = []
    for i in range(count):
        consents = tuple(p for p in CONSENT_PURPOSES if rng.random() < CONSENT_RATES[p])
        customers.append(
            Customer(
                customer_id=f"C{i + 1:05d}",
                gender=str(rng.choice(GENDERS, p=GENDER_WEIGHTS)),
                # Adult shoppers: 18–85, most 25–65.
                age=int(np.clip(rng.normal(45, 15), 18, 85)),
                tier=str(rng.choice(TIERS, p=TIER_WEIGHTS)),
                consents=consents,
            )
        )
    return customers


def make_purchases(
    customers: list[Customer], products: list[Product], end_ms: int, rng: np.random.Generator
) -> list[PurchaseLine]:
    """Baskets over the last ``HISTORY_DAYS``: 4–30 per customer, 3–15 lines each."""
    categories = sorted({p.category for p in products})
    by_category = {c: [p for p in products if p.category == c] for c in categories}
    lines = []
    basket_no = 0
    for customer in customers:
        taste = rng.dirichlet(np.full(len(categories), TASTE_CONCENTRATION))
        for _ in range(int(rng.integers(4, 31))):
            basket_no += 1
            t_ms = end_ms - HISTORY_GAP_MS - int(rng.integers(0, HISTORY_DAYS * DAY_MS))
            n_lines = int(rng.integers(3, 16))
            picked = rng.choice(len(categories), size=n_lines, p=taste)
            for c in picked:
                product = by_category[categories[c]][int(rng.integers(0, PRODUCTS_PER_CATEGORY))]
                lines.append(
                    PurchaseLine(
                        basket_id=f"B{basket_no:07d}",
                        customer_id=customer.customer_id,
                        t_ms=t_ms,
                        sku=product.sku,
                        quantity=int(rng.integers(1, 4)),
                        price=product.price,
                    )
                )
    return lines


def make_customer_base(
    categories: list[str], customer_count: int, end_ms: int, seed: int
) -> CustomerBase:
    """The seeded customer base over ``categories`` whose histories end before ``end_ms``."""
    rng = np.random.default_rng([seed, 0xC5])
    products = make_catalogue(sorted(set(categories)), rng)
    customers = make_customers(customer_count, rng)
    purchases = make_purchases(customers, products, end_ms, rng)
    return CustomerBase(tuple(products), tuple(customers), tuple(purchases))


def write_customer_base(base: CustomerBase, out_dir: Path | str) -> list[Path]:
    """Write ``products.csv``, ``customers.csv`` and ``purchases.csv`` into ``out_dir``."""
    out_dir = Path(out_dir)
    tables: list[tuple[str, list[str], list[list[object]]]] = [
        (
            "products.csv",
            ["sku", "name", "category", "price"],
            [[p.sku, p.name, p.category, f"{p.price:.2f}"] for p in base.products],
        ),
        (
            "customers.csv",
            ["customer_id", "gender", "age", "tier", "consents"],
            [
                [c.customer_id, c.gender, c.age, c.tier, ";".join(c.consents)]
                for c in base.customers
            ],
        ),
        (
            "purchases.csv",
            ["basket_id", "customer_id", "t_ms", "sku", "quantity", "price"],
            [
                [p.basket_id, p.customer_id, p.t_ms, p.sku, p.quantity, f"{p.price:.2f}"]
                for p in base.purchases
            ],
        ),
    ]
    paths = []
    for name, header, rows in tables:
        path = out_dir / name
        with path.open("w", encoding="utf-8", newline="") as handle:
            writer = csv.writer(handle, lineterminator="\n")
            writer.writerow(header)
            writer.writerows(rows)
        paths.append(path)
    return paths


def read_customer_base(folder: Path | str) -> CustomerBase:
    """Read back what ``write_customer_base`` wrote (a ``simulate --out`` folder)."""
    folder = Path(folder)

    def rows(name: str) -> list[dict[str, str]]:
        with (folder / name).open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    products = tuple(
        Product(r["sku"], r["name"], r["category"], float(r["price"])) for r in rows("products.csv")
    )
    customers = tuple(
        Customer(
            r["customer_id"],
            r["gender"],
            int(r["age"]),
            r["tier"],
            tuple(c for c in r["consents"].split(";") if c),
        )
        for r in rows("customers.csv")
    )
    purchases = tuple(
        PurchaseLine(
            r["basket_id"],
            r["customer_id"],
            int(r["t_ms"]),
            r["sku"],
            int(r["quantity"]),
            float(r["price"]),
        )
        for r in rows("purchases.csv")
    )
    return CustomerBase(products, customers, purchases)
