"""The square-metre grid heatmaps are counted on, and the k-anonymity rule shared by every view."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

# A cell is suppressed when fewer distinct visitors than this stood in it (or entered a zone):
# with 5 or more, no figure can be traced back to one shopper's walk. Stores may raise it.
DEFAULT_K_ANONYMITY = 5


@dataclass(frozen=True)
class CellGrid:
    """Square cells of ``cell_m`` over a floor, row-major from the SW corner (``nx`` columns)."""

    width_m: float
    height_m: float
    cell_m: float = 1.0

    def __post_init__(self) -> None:
        for name in ("width_m", "height_m", "cell_m"):
            value = getattr(self, name)
            if not (np.isfinite(value) and value > 0):
                raise ValueError(f"grid: {name} must be a positive number of metres, got {value}")

    @property
    def nx(self) -> int:
        return int(np.ceil(self.width_m / self.cell_m))

    @property
    def ny(self) -> int:
        return int(np.ceil(self.height_m / self.cell_m))

    @property
    def n_cells(self) -> int:
        return self.nx * self.ny

    @property
    def cell_area_m2(self) -> float:
        return self.cell_m * self.cell_m

    def cell_of(self, x: ArrayLike, y: ArrayLike) -> NDArray[np.int64]:
        """Flat cell index per point (``row * nx + column``); -1 off the floor."""
        xa = np.asarray(x)
        ya = np.asarray(y)
        scale = np.float32(1.0 / self.cell_m) if xa.dtype == np.float32 else 1.0 / self.cell_m
        column = np.floor(xa * scale).astype(np.int64)
        row = np.floor(ya * scale).astype(np.int64)
        on_floor = (column >= 0) & (column < self.nx) & (row >= 0) & (row < self.ny)
        return np.where(on_floor, row * self.nx + column, -1)

    def as_image(self, flat: NDArray[np.generic]) -> NDArray[np.generic]:
        """A flat per-cell array as (ny, nx): row 0 is the southern edge."""
        return flat.reshape(self.ny, self.nx)


def suppression_note(n_suppressed: int, k: int, what: str) -> str:
    """The sentence a page or export shows beside a suppressed view."""
    if n_suppressed == 0:
        return f"No {what} suppressed: every {what[:-1]} shown has at least {k} visitors."
    return (
        f"{n_suppressed} {what} hidden because fewer than {k} distinct visitors were there "
        "(k-anonymity: no figure may point to one shopper)."
    )
