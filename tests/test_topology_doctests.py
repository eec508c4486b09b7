"""The runnable examples in the topology docstrings stay correct."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = ["elfviz.topology._field", "elfviz.topology.network", "elfviz.topology.components",
           "elfviz.topology.tc", "elfviz.topology.frames"]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0
    assert result.failed == 0
