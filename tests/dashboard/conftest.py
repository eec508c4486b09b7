"""Fixtures for the dashboard tests: a tiny frame collection and a fast stand-in model (see frames.py).

The real bundled Predictor is exercised separately (test_predictions.py).
"""

from __future__ import annotations

import pytest

pytest.importorskip("panel")

from .frames import PromolecularPredictor, build_collection  # noqa: E402


@pytest.fixture(scope="session")
def collection(tmp_path_factory):
    """Two densities x (train, test) liquid-like frames with a reference ELF."""
    return build_collection(tmp_path_factory.mktemp("frames"))


@pytest.fixture(scope="module")
def predictor():
    """Install the stand-in as the dashboard's shared predictor (and clear the prediction cache)."""
    from elfviz.dashboard import predictions

    stand_in = PromolecularPredictor()
    previous = predictions._predictor
    predictions.set_predictor(stand_in)
    yield stand_in
    predictions.set_predictor(previous)
