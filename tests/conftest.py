"""Fixtures every test package can use."""

from __future__ import annotations

from pathlib import Path

import pytest

from aislecast.paths import ilc_floors, ilc_root


@pytest.fixture(scope="session")
def ilc_data() -> Path:
    """The real recordings; tests that need them are skipped where they are absent."""
    root = ilc_root()
    if root is None:
        pytest.skip("recordings not present (../shared/data/ilc or $AISLECAST_ILC_DATA)")
    return root


@pytest.fixture(scope="session")
def ilc_floor_dirs(ilc_data: Path) -> list[Path]:
    return ilc_floors(ilc_data)
