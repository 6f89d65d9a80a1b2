"""Pieces every API schema shares: strict base model, bounded numbers, row errors."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

# Floors are measured in metres; nothing a store builds exceeds 2 km a side.
MAX_FLOOR_SIDE_M = 2000.0

Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Key = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=64, pattern=r"^[\w.:\-]+$"),
]
Metres = Annotated[float, Field(ge=-MAX_FLOOR_SIDE_M, le=MAX_FLOOR_SIDE_M, allow_inf_nan=False)]
HeadingDeg = Annotated[float, Field(ge=0.0, lt=360.0, allow_inf_nan=False)]


class ApiModel(BaseModel):
    """Unknown fields are an error (a typo must not pass silently); NaN and infinities too."""

    model_config = ConfigDict(extra="forbid", allow_inf_nan=False, from_attributes=True)


class RowError(ApiModel):
    line: int  # 1-based line in the uploaded file, header is line 1
    reason: str


class ImportReport(ApiModel):
    imported: int
    errors: list[RowError]
    dry_run: bool
