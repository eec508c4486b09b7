"""Residual analysis: metrics, radially averaged Fourier spectra, correlation lengths, Fourier corrections.

Everything here is NumPy/xarray only (no torch, no plotting), so it is cheap to import. Pure functions of
fields: nothing here imports the model (the learned Fourier correction lives in :mod:`elfviz.model.correction`,
its fit in :mod:`elfviz.model.training.correction_fit`).

Examples
--------
>>> import numpy as np
>>> from elfviz import grid
>>> from elfviz.analysis import residual_dataset, field_metrics, radial_power_spectrum
>>> ref = grid.make_dataset(np.eye(3) * 3, [[0, 0, 0]], [1], np.linspace(0, 1, 512).reshape(8, 8, 8))
>>> pred = grid.with_field(ref, "elf", np.clip(ref["elf"].values + 0.01, 0, 1))
>>> res = residual_dataset(ref, pred)
>>> round(field_metrics(res["elf_ref"], res["elf"])["mae"], 3)
0.01
>>> int(radial_power_spectrum(res).sizes["k"]) > 1
True
"""

from .autocorrelation import correlation_length, radial_autocorrelation
from .correction import kcut_curves_over_frames, lowpass_correction, r2_versus_kcut
from .evaluate import Evaluation, density_table, evaluate_frames, markdown_table
from .metrics import aggregate_metrics, field_metrics, frame_metrics
from .residuals import check_same_structure, residual_dataset
from .spectra import (
    K_BOND,
    lowk_variance_fraction,
    radial_power_spectrum,
    spectra_over_frames,
    spectral_centroid,
)

__all__ = [
    "K_BOND",
    "Evaluation",
    "density_table",
    "evaluate_frames",
    "kcut_curves_over_frames",
    "markdown_table",
    "aggregate_metrics",
    "check_same_structure",
    "correlation_length",
    "field_metrics",
    "frame_metrics",
    "lowk_variance_fraction",
    "lowpass_correction",
    "r2_versus_kcut",
    "radial_autocorrelation",
    "radial_power_spectrum",
    "residual_dataset",
    "spectra_over_frames",
    "spectral_centroid",
]

_MOVED = {"FourierCorrection": "elfviz.model.correction", "bundled_correction": "elfviz.model.correction",
          "fit_fourier_correction": "elfviz.model.training.correction_fit",
          "select_fourier_correction": "elfviz.model.training.correction_fit"}


def __getattr__(name: str):
    """Deprecated re-exports of the learned correction (moved to elfviz.model in 0.2; removed in the next release)."""
    if name in _MOVED:
        from .._moved import attribute

        return attribute(__name__, name, _MOVED[name])
    raise AttributeError(f"module 'elfviz.analysis' has no attribute {name!r}")
