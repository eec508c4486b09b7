"""The runnable examples in the analysis docstrings are part of the tests (they must not rot)."""

from __future__ import annotations

import doctest
import importlib

import pytest

MODULES = [
    "elfviz.analysis",
    "elfviz.analysis.kspace",
    "elfviz.analysis.spectra",
    "elfviz.analysis.metrics",
    "elfviz.analysis.residuals",
    "elfviz.analysis.correction",
    "elfviz.analysis.learned_correction",
    "elfviz.analysis.correction_fit",
    "elfviz.analysis.autocorrelation",
    "elfviz.analysis.evaluate",
    "elfviz.viz.plots",
    "elfviz.viz.payload",
    "elfviz.viz.scene",
]


@pytest.mark.parametrize("name", MODULES)
def test_docstring_examples(name):
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0
