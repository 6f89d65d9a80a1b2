"""Bulk import of the catalogue, customers and purchases from CSV, with row-level error reports.

Files are UTF-8 (a byte-order mark from spreadsheet exports is accepted). Every row either
becomes a record or an error naming its row (the file's line number, header = row 1), column and
reason; good rows are never dropped because a neighbour is bad. A file whose header lacks a
required column is refused whole (:class:`CsvFormatError`), since no row of it can be read.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Generic, TypeVar

from triggers.profiles import CONSENT_PURPOSES, GENDERS, Product, Purchase, ShopperProfile

T = TypeVar("T")

PRODUCT_COLUMNS = ("sku", "name", "category", "price")
CUSTOMER_COLUMNS = ("customer_id", "gender", "age", "tier", "consents")
PURCHASE_COLUMNS = ("basket_id", "customer_id", "t_ms", "sku", "quantity", "price")
# Ages outside this band are typing errors, not shoppers.
MAX_AGE = 120


class CsvFormatError(ValueError):
    """The file as a whole cannot be read (missing header columns)."""


@dataclass(frozen=True, slots=True)
class RowError:
    row: int
    column: str
    reason: str

    def __str__(self) -> str:
        return f"row {self.row}, column {self.column}: {self.reason}"


@dataclass
class ImportResult(Generic[T]):
    """The records read and the rows refused (with why)."""

    records: list[T] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    # The file row of each record (header = row 1), for callers that report on records later.
    record_rows: list[int] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.errors

    def report(self) -> str:
        lines = [f"{len(self.records)} rows imported, {len(self.errors)} rows refused"]
        lines += [str(e) for e in self.errors]
        return "\n".join(lines)


class _RowRejected(Exception):
    def __init__(self, column: str, reason: str) -> None:
        super().__init__(reason)
        self.column = column
        self.reason = reason


def _text(row: Mapping[str, str], column: str, *, required: bool = True) -> str:
    value = (row.get(column) or "").strip()
    if required and not value:
        raise _RowRejected(column, "is empty")
    return value


def _number(row: Mapping[str, str], column: str, *, minimum: float = 0.0) -> float:
    raw = _text(row, column)
    try:
        value = float(raw)
    except ValueError:
        raise _RowRejected(column, f"{raw!r} is not a number") from None
    if not math.isfinite(value) or value < minimum:
        raise _RowRejected(column, f"{raw!r} must be a finite number ≥ {minimum:g}")
    return value


def _integer(row: Mapping[str, str], column: str, *, minimum: int) -> int:
    raw = _text(row, column)
    try:
        value = int(raw)
    except ValueError:
        raise _RowRejected(column, f"{raw!r} is not a whole number") from None
    if value < minimum:
        raise _RowRejected(column, f"{raw!r} must be ≥ {minimum}")
    return value


def _read_rows(
    source: str | Iterable[str],
    columns: tuple[str, ...],
    parse: Callable[[Mapping[str, str]], T],
    unique_key: Callable[[T], str] | None = None,
) -> ImportResult[T]:
    """Parse each row; with ``unique_key``, a repeated key is refused and the first row kept."""
    text = io.StringIO(source) if isinstance(source, str) else source
    reader = csv.DictReader(text, restkey="__extra__", restval=None)
    seen: set[str] = set()
    header = reader.fieldnames or []
    missing = [c for c in columns if c not in header]
    if missing:
        raise CsvFormatError(f"header lacks columns {missing}; expected {','.join(columns)}")
    result: ImportResult[T] = ImportResult()
    for row in reader:
        row_number = reader.line_num
        if row.get("__extra__"):
            result.errors.append(RowError(row_number, "*", "more fields than header columns"))
            continue
        short = [c for c in columns if row.get(c) is None]
        if short:
            result.errors.append(RowError(row_number, short[0], "missing (row has too few fields)"))
            continue
        try:
            record = parse(row)
        except _RowRejected as rejected:
            result.errors.append(RowError(row_number, rejected.column, rejected.reason))
            continue
        if unique_key is not None:
            key = unique_key(record)
            if key in seen:
                result.errors.append(
                    RowError(
                        row_number, columns[0], f"{key!r} repeats an earlier row; the first is kept"
                    )
                )
                continue
            seen.add(key)
        result.records.append(record)
        result.record_rows.append(row_number)
    return result


def _product(row: Mapping[str, str]) -> Product:
    return Product(
        sku=_text(row, "sku"),
        name=_text(row, "name"),
        category=_text(row, "category"),
        price=_number(row, "price"),
    )


def _customer(row: Mapping[str, str]) -> ShopperProfile:
    gender = _text(row, "gender", required=False).lower() or "unknown"
    if gender not in GENDERS:
        raise _RowRejected("gender", f"{gender!r} is not one of {'|'.join(GENDERS)}")
    age: int | None = None
    if _text(row, "age", required=False):
        age = _integer(row, "age", minimum=0)
        if age > MAX_AGE:
            raise _RowRejected("age", f"{age} is above {MAX_AGE}")
    consents = frozenset(c.strip() for c in _text(row, "consents", required=False).split(";"))
    consents -= {""}
    unknown = consents - CONSENT_PURPOSES
    if unknown:
        raise _RowRejected(
            "consents", f"unknown purposes {sorted(unknown)}; known: {sorted(CONSENT_PURPOSES)}"
        )
    return ShopperProfile(
        shopper_id=_text(row, "customer_id"),
        gender=gender,
        age=age,
        tier=_text(row, "tier", required=False).lower(),
        consents=consents,
    )


def read_products(source: str | Iterable[str]) -> ImportResult[Product]:
    """Parse ``products.csv`` text (``sku,name,category,price``); a repeated sku is an error."""
    return _read_rows(source, PRODUCT_COLUMNS, _product, lambda p: p.sku)


def read_customers(source: str | Iterable[str]) -> ImportResult[ShopperProfile]:
    """Parse ``customers.csv`` (``customer_id,gender,age,tier,consents``)."""
    return _read_rows(source, CUSTOMER_COLUMNS, _customer, lambda c: c.shopper_id)


def read_purchases(
    source: str | Iterable[str],
    catalogue: Mapping[str, Product] | None = None,
    customer_ids: frozenset[str] | set[str] | None = None,
) -> ImportResult[Purchase]:
    """Parse ``purchases.csv`` (``basket_id,customer_id,t_ms,sku,quantity,price``).

    With a catalogue, unknown skus are refused and categories filled in; with ``customer_ids``,
    purchases of unknown customers are refused.
    """

    def parse(row: Mapping[str, str]) -> Purchase:
        sku = _text(row, "sku")
        category = ""
        if catalogue is not None:
            if sku not in catalogue:
                raise _RowRejected("sku", f"{sku!r} is not in the catalogue")
            category = catalogue[sku].category
        customer_id = _text(row, "customer_id")
        if customer_ids is not None and customer_id not in customer_ids:
            raise _RowRejected("customer_id", f"{customer_id!r} is not a known customer")
        return Purchase(
            customer_id=customer_id,
            sku=sku,
            quantity=_integer(row, "quantity", minimum=1),
            price=_number(row, "price"),
            t_ms=_integer(row, "t_ms", minimum=0),
            basket_id=_text(row, "basket_id"),
            category=category,
        )

    return _read_rows(source, PURCHASE_COLUMNS, parse)


def load_products(path: Path) -> ImportResult[Product]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return read_products(f)


def load_customers(path: Path) -> ImportResult[ShopperProfile]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return read_customers(f)


def load_purchases(
    path: Path,
    catalogue: Mapping[str, Product] | None = None,
    customer_ids: frozenset[str] | set[str] | None = None,
) -> ImportResult[Purchase]:
    with path.open(encoding="utf-8-sig", newline="") as f:
        return read_purchases(f, catalogue, customer_ids)
