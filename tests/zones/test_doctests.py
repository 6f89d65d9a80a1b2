"""The usage examples in the zones docstrings run and give what they show."""

from __future__ import annotations

import doctest
from types import ModuleType

import pytest

from zones import detector, lookup


@pytest.mark.parametrize("module", [detector, lookup])
def test_docstring_examples_hold(module: ModuleType) -> None:
    result = doctest.testmod(module)
    assert result.attempted > 0
    assert result.failed == 0
