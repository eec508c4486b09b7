"""A prediction describes the model's field: it keeps the structure's attrs, never a reference's DFT provenance."""

from __future__ import annotations

import numpy as np
import pytest

pytest.importorskip("torch")

from elfviz import grid  # noqa: E402
from elfviz.model import Predictor  # noqa: E402


def test_a_prediction_of_a_dft_frame_carries_no_dft_provenance():
    ds = grid.make_dataset(np.eye(3) * 3.0, [[0.0, 0.0, 0.0], [0.74, 0.0, 0.0]], [1, 1], shape=(12, 12, 12))
    ds = grid.with_field(ds, "elf", np.full((12, 12, 12), 0.5))
    ds.attrs.update(engine="qe", total_energy_ev=-31.2, pw_seconds=12.0, scf_converged=1, source="dft:qe",
                    pressure_gpa=250.0, phase="liquid", temperature_k=1500.0)
    out = Predictor().predict(ds, like=ds)
    assert out.attrs["source"].startswith("model:")
    for key in ("engine", "total_energy_ev", "pw_seconds", "scf_converged"):
        assert key not in out.attrs
    assert out.attrs["pressure_gpa"] == 250.0 and out.attrs["phase"] == "liquid"
    assert out.attrs["temperature_k"] == 1500.0
