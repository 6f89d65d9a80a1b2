"""Products, customers and purchases, imported from the CSVs of CONTRACTS.md (admins)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated

from fastapi import APIRouter, File, HTTPException, Query, UploadFile, status
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.api.deps import AdminUser, CurrentUser, SessionDep
from server.api.helpers import get_or_404
from server.catalogue_store import insert_purchases, keep_known_references, upsert_rows
from server.csv_import import (
    CsvFormatError,
    ParsedRows,
    parse_customers,
    parse_products,
    parse_purchases,
)
from server.schemas.commerce import CustomerPublic, ProductPublic, PurchasePublic
from server.schemas.common import ImportReport, RowError
from server.tables import Customer, Product, Purchase

router = APIRouter(tags=["catalogue"])

# A year of purchases of a mid-size retailer fits; bigger imports go in several files.
MAX_CSV_BYTES = 100 * 1024 * 1024
CsvFile = Annotated[UploadFile, File(description="UTF-8 CSV with a header row")]
Limit = Annotated[int, Query(ge=1, le=5000)]
Offset = Annotated[int, Query(ge=0)]
DryRun = Annotated[bool, Query(description="validate and report without writing")]


def _parsed(upload: UploadFile, parse: Callable[[bytes], ParsedRows]) -> ParsedRows:
    content = upload.file.read(MAX_CSV_BYTES + 1)
    if len(content) > MAX_CSV_BYTES:
        raise HTTPException(status.HTTP_413_CONTENT_TOO_LARGE, f"CSV over {MAX_CSV_BYTES} bytes")
    try:
        return parse(content)
    except CsvFormatError as error:
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, str(error)) from None


def _report(parsed: ParsedRows, imported: int, dry_run: bool) -> ImportReport:
    errors = [RowError(line=line, reason=reason) for line, reason in parsed.errors]
    return ImportReport(imported=imported, errors=errors, dry_run=dry_run)


def _import_upserting(
    file: UploadFile,
    parse: Callable[[bytes], ParsedRows],
    table: type[Product | Customer],
    session: Session,
    dry_run: bool,
) -> ImportReport:
    """Parse, then insert new rows and overwrite known ones (re-importing a file is harmless)."""
    parsed = _parsed(file, parse)
    if not dry_run:
        upsert_rows(session, table, parsed.rows)
        session.commit()
    return _report(parsed, 0 if dry_run else len(parsed.rows), dry_run)


@router.get("/products")
def list_products(
    _user: CurrentUser,
    session: SessionDep,
    category: str | None = None,
    limit: Limit = 500,
    offset: Offset = 0,
) -> list[ProductPublic]:
    query = select(Product).order_by(Product.sku).limit(limit).offset(offset)
    if category is not None:
        query = query.where(Product.category == category)
    return [ProductPublic.model_validate(p) for p in session.scalars(query)]


@router.post("/products/import")
def import_products(
    file: CsvFile, _admin: AdminUser, session: SessionDep, dry_run: DryRun = False
) -> ImportReport:
    return _import_upserting(file, parse_products, Product, session, dry_run)


def _customer_public(customer: Customer) -> CustomerPublic:
    return CustomerPublic(
        id=customer.id,
        gender=customer.gender,
        age=customer.age,
        tier=customer.tier,
        consents=[c for c in customer.consents.split(";") if c],
    )


@router.get("/customers")
def list_customers(
    _admin: AdminUser,
    session: SessionDep,
    limit: Limit = 500,
    offset: Offset = 0,
) -> list[CustomerPublic]:
    query = select(Customer).order_by(Customer.id).limit(limit).offset(offset)
    return [_customer_public(c) for c in session.scalars(query)]


@router.get("/customers/{customer_id}")
def read_customer(customer_id: str, _admin: AdminUser, session: SessionDep) -> CustomerPublic:
    return _customer_public(get_or_404(session, Customer, customer_id, "customer"))


@router.post("/customers/import")
def import_customers(
    file: CsvFile, _admin: AdminUser, session: SessionDep, dry_run: DryRun = False
) -> ImportReport:
    return _import_upserting(file, parse_customers, Customer, session, dry_run)


@router.get("/customers/{customer_id}/purchases")
def list_purchases(
    customer_id: str, _admin: AdminUser, session: SessionDep
) -> list[PurchasePublic]:
    get_or_404(session, Customer, customer_id, "customer")
    query = select(Purchase).where(Purchase.customer_id == customer_id).order_by(Purchase.t_ms)
    return [PurchasePublic.model_validate(p) for p in session.scalars(query)]


@router.post("/purchases/import")
def import_purchases(
    file: CsvFile, _admin: AdminUser, session: SessionDep, dry_run: DryRun = False
) -> ImportReport:
    """Rows naming an unknown customer are row errors: import customers first."""
    parsed = keep_known_references(session, _parsed(file, parse_purchases))
    if not dry_run:
        insert_purchases(session, parsed.rows)
        session.commit()
    return _report(parsed, 0 if dry_run else len(parsed.rows), dry_run)
