"""The catalogue and customer CSVs of CONTRACTS.md into table rows, through triggers' importer.

``triggers.csv_import`` owns the formats and the row checks (``products.csv``
``sku,name,category,price``, ``customers.csv`` ``customer_id,gender,age,tier,consents``,
``purchases.csv`` ``basket_id,customer_id,t_ms,sku,quantity,price``); this module adds what only
the server knows: the upload's bytes (UTF-8, a spreadsheet's byte-order mark accepted), the
column widths of the tables, and the purchases' optional ``store_id`` and ``visit_id`` columns
(empty cells allowed: loyalty history usually has neither). A bad row is reported with its file
line and reason and skipped; the good rows still import.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from triggers import CsvFormatError as TriggersCsvFormatError
from triggers import (
    ImportResult,
    Product,
    Purchase,
    ShopperProfile,
    read_customers,
    read_products,
    read_purchases,
)

T = TypeVar("T")

# The widths of the text columns in server/tables/commerce.py: a longer value cannot be stored.
COLUMN_WIDTHS = {
    "sku": 64,
    "name": 300,
    "category": 120,
    "customer_id": 64,
    "tier": 32,
    "basket_id": 64,
    "visit_id": 36,
}
# Optional purchase columns triggers' reader does not know; read here by file line.
PURCHASE_EXTRA_COLUMNS = ("store_id", "visit_id")
MAX_STORE_ID = 2**31 - 1


class CsvFormatError(ValueError):
    """The file as a whole cannot be read (encoding, header, CSV syntax)."""


@dataclass(frozen=True, slots=True)
class ParsedRows:
    rows: list[dict[str, Any]]
    lines: list[int]  # the file line of each row (header is line 1)
    errors: list[tuple[int, str]]  # (line, reason)


def _text(content: bytes) -> str:
    try:
        return content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CsvFormatError(f"not UTF-8 text: {error}") from None


def _too_wide(row: dict[str, Any]) -> str | None:
    for column, width in COLUMN_WIDTHS.items():
        value = row.get("id" if column == "customer_id" and "id" in row else column)
        if isinstance(value, str) and len(value) > width:
            return f"{column} is longer than {width} characters"
    return None


def _parse(
    content: bytes, read: Callable[[str], ImportResult[T]], to_row: Callable[[T], dict[str, Any]]
) -> ParsedRows:
    try:
        result = read(_text(content))
    except TriggersCsvFormatError as error:
        raise CsvFormatError(str(error)) from None
    except csv.Error as error:
        raise CsvFormatError(f"malformed CSV: {error}") from None
    errors = [(e.row, f"{e.column} {e.reason}") for e in result.errors]
    rows: list[dict[str, Any]] = []
    lines: list[int] = []
    for record, line in zip(result.records, result.record_rows, strict=True):
        row = to_row(record)
        problem = _too_wide(row)
        if problem is not None:
            errors.append((line, problem))
            continue
        rows.append(row)
        lines.append(line)
    return ParsedRows(rows, lines, sorted(errors))


def _product_row(product: Product) -> dict[str, Any]:
    return {
        "sku": product.sku,
        "name": product.name,
        "category": product.category,
        "price": product.price,
    }


def _customer_row(customer: ShopperProfile) -> dict[str, Any]:
    return {
        "id": customer.shopper_id,
        "gender": customer.gender,
        "age": customer.age,
        "tier": customer.tier,
        "consents": ";".join(sorted(customer.consents)),
    }


def _purchase_row(purchase: Purchase) -> dict[str, Any]:
    return {
        "basket_id": purchase.basket_id,
        "customer_id": purchase.customer_id,
        "t_ms": purchase.t_ms,
        "sku": purchase.sku,
        "quantity": purchase.quantity,
        "price": purchase.price,
    }


def parse_products(content: bytes) -> ParsedRows:
    return _parse(content, read_products, _product_row)


def parse_customers(content: bytes) -> ParsedRows:
    return _parse(content, read_customers, _customer_row)


def _store_id(text: str) -> int | None:
    """``store_id`` cell: empty → None, else a positive integer (ValueError says why not)."""
    if not text.strip():
        return None
    value = int(text)
    if not 1 <= value <= MAX_STORE_ID:
        raise ValueError(f"{value} is not a store id")
    return value


def _purchase_extras(text: str) -> dict[int, dict[str, Any]]:
    """File line → ``{"store_id": …, "visit_id": …}`` (or ``{"error": reason}``) for the optional
    columns; empty when the header has neither."""
    reader = csv.DictReader(io.StringIO(text), restkey="__extra__", restval="")
    present = [c for c in PURCHASE_EXTRA_COLUMNS if c in (reader.fieldnames or [])]
    if not present:
        return {}
    extras: dict[int, dict[str, Any]] = {}
    for row in reader:
        try:
            store_id = _store_id(row.get("store_id") or "")
        except ValueError:
            cell = row.get("store_id")
            extras[reader.line_num] = {"error": f"store_id {cell!r} is not a store id"}
            continue
        visit_id = (row.get("visit_id") or "").strip() or None
        extras[reader.line_num] = {"store_id": store_id, "visit_id": visit_id}
    return extras


def parse_purchases(content: bytes) -> ParsedRows:
    """Customers, stores and visits are checked against the database afterwards
    (``catalogue_store.keep_known_references``)."""
    parsed = _parse(content, read_purchases, _purchase_row)
    extras = _purchase_extras(_text(content))
    if not extras:
        return parsed
    rows, lines, errors = [], [], list(parsed.errors)
    for row, line in zip(parsed.rows, parsed.lines, strict=True):
        extra = extras.get(line, {})
        if "error" in extra:
            errors.append((line, extra["error"]))
            continue
        row = {**row, **extra}
        problem = _too_wide(row)
        if problem is not None:
            errors.append((line, problem))
            continue
        rows.append(row)
        lines.append(line)
    return ParsedRows(rows, lines, sorted(errors))
