"""The learned Fourier correction plugs into ``Predictor(correction=...)`` (needs the bundled model)."""

from __future__ import annotations

import numpy as np
import pytest
from analysis_synthetic import random_positions

from elfviz import grid
from elfviz.model.correction import CHANNELS, FourierCorrection

torch = pytest.importorskip("torch")
predictor_module = pytest.importorskip("elfviz.model.predictor")


@pytest.fixture(scope="module")
def structure():
    cell = grid.cell_for_rs(1.4, 16)
    return grid.make_dataset(
        cell, random_positions(cell, 16, seed=5, min_distance=0.7), [1] * 16, shape=(16, 16, 16)
    )


@pytest.fixture(scope="module")
def bundled():
    weights = predictor_module.BUNDLED_WEIGHTS
    if not weights.with_suffix(".pt").exists():
        pytest.skip(f"no bundled model weights at {weights}.pt yet")
    return predictor_module.Predictor(device="cpu")


def _correction(scale: float) -> FourierCorrection:
    rng = np.random.default_rng(0)
    return FourierCorrection(
        scale * rng.normal(size=len(CHANNELS) * 6 * 2),
        k_max=8.0,
        n_radial=6,
        channels=CHANNELS,
        rs_ref=1.4,
        rs_order=1,
        metadata={"name": "test-correction"},
    )


def test_predictor_applies_the_correction(bundled, structure):
    plain = bundled.predict(structure, like=structure)
    corrected = predictor_module.Predictor(device="cpu", correction=_correction(1.0)).predict(
        structure, like=structure
    )
    np.testing.assert_allclose(corrected["elf"], _correction(1.0)(plain)["elf"], atol=1e-6)
    assert not np.allclose(corrected["elf"], plain["elf"])
    assert corrected.attrs["correction"].startswith("test-correction")
    zero = predictor_module.Predictor(device="cpu", correction=_correction(0.0)).predict(
        structure, like=structure
    )
    np.testing.assert_allclose(zero["elf"], plain["elf"], atol=1e-6)


def test_corrected_prediction_stays_in_unit_interval(structure):
    if not predictor_module.BUNDLED_WEIGHTS.with_suffix(".pt").exists():
        pytest.skip("no bundled model weights yet")
    wild = predictor_module.Predictor(device="cpu", correction=_correction(1e4))
    values = wild.predict(structure, like=structure)["elf"].values
    assert values.min() >= 0.0 and values.max() <= 1.0
    assert np.mean((values == 0.0) | (values == 1.0)) > 0.1  # the huge correction really was clipped


def test_shipped_correction_for_the_bundled_model(bundled, structure):
    from elfviz.model.correction import bundled_correction

    corr = bundled_correction(bundled.version)
    assert corr.metadata["validation_r2_after"] > corr.metadata["validation_r2_before"]
    out = predictor_module.Predictor(device="cpu", correction=corr).predict(structure, like=structure)
    values = out["elf"].values
    assert values.min() >= 0.0 and values.max() <= 1.0
    assert out.attrs["correction"].startswith("fourier-ridge")
