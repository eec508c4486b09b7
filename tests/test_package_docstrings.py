"""Every docstring example in elfviz runs (one test per module that has examples, found by walking the package).

No hand-kept list: a new module's examples are tested the day they are written.
"""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import pkgutil
from pathlib import Path

import pytest

import elfviz

OPTIONS = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE


def is_deprecated_alias(name: str) -> bool:
    """A module left at an old path for one release (it only warns and points at the new one)."""
    spec = importlib.util.find_spec(name)
    path = Path(spec.origin) if spec and spec.origin else None
    return bool(path and path.suffix == ".py" and path.read_text().startswith('"""Deprecated alias'))


def modules_with_examples() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(elfviz.__path__, "elfviz."):
        if info.name.endswith("__main__") or ".js" in info.name or is_deprecated_alias(info.name):
            continue
        module = importlib.import_module(info.name)
        if any(test.examples for test in doctest.DocTestFinder().find(module)):
            names.append(info.name)
    return names


MODULES = modules_with_examples()


def test_the_walk_finds_the_documented_modules():
    assert len(MODULES) >= 60
    assert {"elfviz.resources", "elfviz.topology.tc", "elfviz.viz.percolation_plot", "elfviz.data"} <= set(MODULES)


@pytest.mark.parametrize("name", MODULES)
def test_examples(name):
    result = doctest.testmod(importlib.import_module(name), optionflags=OPTIONS, report=True)
    assert result.failed == 0, f"{result.failed} of {result.attempted} examples in {name} failed (see output)"
