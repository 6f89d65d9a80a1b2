"""Small route helpers: find-or-404 and applying a partial update."""

from __future__ import annotations

from typing import Any, TypeVar

from fastapi import HTTPException, status
from pydantic import BaseModel
from sqlalchemy.orm import Session

Row = TypeVar("Row")


def get_or_404(session: Session, table: type[Row], key: Any, what: str) -> Row:
    row = session.get(table, key)
    if row is None:
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no {what} {key!r}")
    return row


def apply_update(row: object, update: BaseModel) -> dict[str, Any]:
    """Copy the fields the client sent (not the defaults) onto the row; return them."""
    changes = update.model_dump(exclude_unset=True)
    for name, value in changes.items():
        setattr(row, name, value)
    return changes


def reject_null(changes: dict[str, Any], *required: str) -> None:
    """A PATCH may omit a required field but may not set it to null."""
    for name in required:
        if name in changes and changes[name] is None:
            raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, f"{name} cannot be null")
