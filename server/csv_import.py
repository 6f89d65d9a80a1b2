"""The catalogue and customer CSVs of CONTRACTS.md into table rows, through triggers' importer.

``triggers.csv_import`` owns the formats and the row checks (``products.csv``
``sku,name,category,price``, ``customers.csv`` ``customer_id,gender,age,tier,consents``,
``purchases.csv`` ``basket_id,customer_id,t_ms,sku,quantity,price``); this module adds what only
the server knows: the upload's bytes (UTF-8, a spreadsheet's byte-order mark accepted) and the
column widths of the tables. A bad row is reported with its file line and reason and skipped; the
good rows still import.
"""

from __future__ import annotations

import csv
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
}


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


def parse_purchases(content: bytes) -> ParsedRows:
    """Customers are checked against the database afterwards (``keep_known_customers``)."""
    return _parse(content, read_purchases, _purchase_row)
