"""Writing parsed catalogue rows: upserts of products and customers, purchases of known customers.

Shared by the REST import routes and the store seeder.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.csv_import import ParsedRows
from server.tables import Customer, Product, Purchase, Store, Visit


def upsert_rows(
    session: Session, table: type[Product | Customer], rows: list[dict[str, Any]]
) -> None:
    """Insert new rows, overwrite known ones (re-importing a file is harmless)."""
    key_name = "sku" if table is Product else "id"
    for row in rows:
        existing = session.get(table, row[key_name])
        if existing is None:
            session.add(table(**row))
        else:
            for name, value in row.items():
                setattr(existing, name, value)


def keep_known_references(session: Session, parsed: ParsedRows) -> ParsedRows:
    """Purchase rows naming an unknown customer (import customers first), store or visit, or a
    visit of another store or customer, become row errors."""
    rows = parsed.rows
    customers = set(session.scalars(
        select(Customer.id).where(Customer.id.in_({r["customer_id"] for r in rows}))
    ))  # fmt: skip
    store_ids = {r["store_id"] for r in rows if r.get("store_id") is not None}
    stores = set(session.scalars(select(Store.id).where(Store.id.in_(store_ids))))
    visit_ids = {r["visit_id"] for r in rows if r.get("visit_id") is not None}
    visits = {
        v.id: (v.store_id, v.customer_id)
        for v in session.scalars(select(Visit).where(Visit.id.in_(visit_ids)))
    }
    errors = list(parsed.errors)
    kept: list[tuple[dict[str, Any], int]] = []
    for row, line in zip(rows, parsed.lines, strict=True):
        problem = _reference_problem(row, customers, stores, visits)
        if problem is None:
            visit = visits.get(row.get("visit_id") or "")
            if visit is not None and row.get("store_id") is None:
                row = {**row, "store_id": visit[0]}  # a visit's purchase is in its store
            kept.append((row, line))
        else:
            errors.append((line, problem))
    return ParsedRows([r for r, _ in kept], [line for _, line in kept], sorted(errors))


def _reference_problem(
    row: dict[str, Any],
    customers: set[str],
    stores: set[int],
    visits: dict[str, tuple[int, str]],
) -> str | None:
    if row["customer_id"] not in customers:
        return f"unknown customer {row['customer_id']!r}; import customers first"
    store_id, visit_id = row.get("store_id"), row.get("visit_id")
    if store_id is not None and store_id not in stores:
        return f"unknown store {store_id}"
    if visit_id is None:
        return None
    if visit_id not in visits:
        return f"unknown visit {visit_id!r}"
    visit_store, visit_customer = visits[visit_id]
    if visit_customer != row["customer_id"]:
        return f"visit {visit_id!r} is not customer {row['customer_id']!r}'s"
    if store_id is not None and visit_store != store_id:
        return f"visit {visit_id!r} is in store {visit_store}, not {store_id}"
    return None


def insert_purchases(session: Session, rows: list[dict[str, Any]]) -> None:
    session.add_all(Purchase(**r) for r in rows)
