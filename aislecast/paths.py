"""Where things live on disk, outside the pure cores."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
ILC_ENV = "AISLECAST_ILC_DATA"


def ilc_root(explicit: Path | str | None = None) -> Path | None:
    """The recorded walks: an explicit path, ``$AISLECAST_ILC_DATA``, or ``../shared/data/ilc``.

    None when none of them exists (tests and commands must then do without).
    """
    candidates = [explicit, os.environ.get(ILC_ENV), REPO_ROOT.parent / "shared" / "data" / "ilc"]
    for candidate in candidates:
        if candidate and Path(candidate).is_dir():
            return Path(candidate)
    return None


def ilc_floors(root: Path) -> list[Path]:
    """Every ``<site>/<floor>`` folder that holds recorded walks, in a stable order."""
    return sorted(p.parent for p in root.glob("*/*/path_data_files") if p.is_dir())
