"""Writing parsed catalogue rows: upserts of products and customers, purchases of known customers.

Shared by the REST import routes and the store seeder.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.csv_import import ParsedRows
from server.tables import Customer, Product, Purchase


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


def keep_known_customers(session: Session, parsed: ParsedRows) -> ParsedRows:
    """Purchase rows of unknown customers become row errors (import customers first)."""
    customer_ids = {r["customer_id"] for r in parsed.rows}
    known = set(session.scalars(select(Customer.id).where(Customer.id.in_(customer_ids))))
    pairs = list(zip(parsed.rows, parsed.lines, strict=True))
    errors = parsed.errors + [
        (line, f"unknown customer {r['customer_id']!r}; import customers first")
        for r, line in pairs
        if r["customer_id"] not in known
    ]
    kept = [(r, line) for r, line in pairs if r["customer_id"] in known]
    return ParsedRows([r for r, _ in kept], [line for _, line in kept], sorted(errors))


def insert_purchases(session: Session, rows: list[dict[str, Any]]) -> None:
    session.add_all(Purchase(**r) for r in rows)
