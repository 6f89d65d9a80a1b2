"""Parse the catalogue and customer CSVs of CONTRACTS.md into rows, with row-level errors.

A stand-in until triggers' importer lands (the lead switches the routes to it): the same formats,
``products.csv`` ``sku,name,category,price``, ``customers.csv``
``customer_id,gender,age,tier,consents``, ``purchases.csv``
``basket_id,customer_id,t_ms,sku,quantity,price``. A bad row is reported with its line and reason
and skipped; the good rows still import.
"""

from __future__ import annotations

import csv
import io
import math
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

GENDERS = frozenset({"female", "male", "other", "unknown"})
CONSENT_PURPOSES = frozenset({"location_analytics", "personalised_offers", "signage"})
# Ages a loyalty scheme may hold (children under 13 cannot sign up under GDPR-K/COPPA rules).
MIN_AGE, MAX_AGE = 13, 120

PRODUCT_COLUMNS = ("sku", "name", "category", "price")
CUSTOMER_COLUMNS = ("customer_id", "gender", "age", "tier", "consents")
PURCHASE_COLUMNS = ("basket_id", "customer_id", "t_ms", "sku", "quantity", "price")


class CsvFormatError(ValueError):
    """The file as a whole cannot be read (encoding, header)."""


@dataclass(frozen=True, slots=True)
class ParsedRows:
    rows: list[dict[str, Any]]
    lines: list[int]  # the file line of each row (header is line 1)
    errors: list[tuple[int, str]]  # (line, reason)


def _text(row: dict[str, str], name: str, max_len: int = 200) -> str:
    value = (row.get(name) or "").strip()
    if not value:
        raise ValueError(f"{name} is empty")
    if len(value) > max_len:
        raise ValueError(f"{name} is longer than {max_len} characters")
    return value


def _number(row: dict[str, str], name: str, minimum: float = 0.0) -> float:
    raw = (row.get(name) or "").strip()
    try:
        value = float(raw)
    except ValueError:
        raise ValueError(f"{name} {raw!r} is not a number") from None
    if not math.isfinite(value) or value < minimum:
        raise ValueError(f"{name} {raw!r} must be a finite number ≥ {minimum:g}")
    return value


def _product(row: dict[str, str]) -> dict[str, Any]:
    return {
        "sku": _text(row, "sku", 64),
        "name": _text(row, "name", 300),
        "category": _text(row, "category", 120),
        "price": _number(row, "price"),
    }


def _customer(row: dict[str, str]) -> dict[str, Any]:
    gender = (row.get("gender") or "unknown").strip().lower() or "unknown"
    if gender not in GENDERS:
        raise ValueError(f"gender {gender!r} is not one of {sorted(GENDERS)}")
    age_raw = (row.get("age") or "").strip()
    age = None
    if age_raw:
        if not age_raw.isdigit() or not MIN_AGE <= int(age_raw) <= MAX_AGE:
            raise ValueError(f"age {age_raw!r} is not a whole number in [{MIN_AGE}, {MAX_AGE}]")
        age = int(age_raw)
    consents = sorted({c.strip() for c in (row.get("consents") or "").split(";") if c.strip()})
    unknown = set(consents) - CONSENT_PURPOSES
    if unknown:
        raise ValueError(f"unknown consent purposes {sorted(unknown)}")
    return {
        "id": _text(row, "customer_id", 64),
        "gender": gender,
        "age": age,
        "tier": (row.get("tier") or "").strip()[:32],
        "consents": ";".join(consents),
    }


def _purchase(row: dict[str, str]) -> dict[str, Any]:
    t_raw = (row.get("t_ms") or "").strip()
    if not t_raw.isdigit():
        raise ValueError(f"t_ms {t_raw!r} is not Unix milliseconds")
    return {
        "basket_id": _text(row, "basket_id", 64),
        "customer_id": _text(row, "customer_id", 64),
        "t_ms": int(t_raw),
        "sku": _text(row, "sku", 64),
        "quantity": _number(row, "quantity"),
        "price": _number(row, "price"),
    }


def _records(content: bytes, columns: tuple[str, ...]) -> Iterator[tuple[int, dict[str, str]]]:
    try:
        text = content.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise CsvFormatError(f"not UTF-8 text: {error}") from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = [h.strip() for h in reader.fieldnames or []]
    missing = [c for c in columns if c not in header]
    if missing:
        raise CsvFormatError(f"header lacks columns {missing}; expected {','.join(columns)}")
    reader.fieldnames = header
    for row in reader:
        yield reader.line_num, row


def _parse(content: bytes, columns: tuple[str, ...], parse_row: Callable[..., Any]) -> ParsedRows:
    rows: list[dict[str, Any]] = []
    lines: list[int] = []
    errors: list[tuple[int, str]] = []
    try:
        for line, raw in _records(content, columns):
            try:
                rows.append(parse_row(raw))
                lines.append(line)
            except ValueError as error:
                errors.append((line, str(error)))
    except csv.Error as error:
        raise CsvFormatError(f"malformed CSV: {error}") from None
    return ParsedRows(rows, lines, errors)


def parse_products(content: bytes) -> ParsedRows:
    return _parse(content, PRODUCT_COLUMNS, _product)


def parse_customers(content: bytes) -> ParsedRows:
    return _parse(content, CUSTOMER_COLUMNS, _customer)


def parse_purchases(content: bytes) -> ParsedRows:
    return _parse(content, PURCHASE_COLUMNS, _purchase)
