"""Fourier corrections of a predicted ELF: the diagnostic low-pass restore and a transferable learned one.

(a) Diagnostic (needs the reference): :func:`lowpass_correction` adds back the residual's modes with
``|G| < k_cut`` and reports the metrics before and after; :func:`r2_versus_kcut` scans ``k_cut``. It answers
"how much of the error is long-wavelength?", it is not a predictor.

(b) Transferable (no reference at prediction time): :class:`FourierCorrection`, defined in
:mod:`elfviz.model.correction` and fitted by :mod:`elfviz.model.training.correction_fit`, re-exported
here.

The corrected ELF is always clipped to [0, 1].
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import numpy as np
import xarray as xr

from .. import grid
from ..errors import GridError
from ..grid import fourier, keys
from .metrics import field_metrics
from .residuals import residual_dataset
from .spectra import K_BOND, default_shell_width, frame_coords, frame_ids

__all__ = [
    "lowpass_correction",
    "r2_versus_kcut",
    "lowpass_filter",
    "kcut_curves_over_frames",
]


def lowpass_filter(values: np.ndarray, cell, k_cut: float) -> np.ndarray:
    """The part of a periodic field made of its modes with ``|G| < k_cut`` (Å^-1), including the mean."""
    values = np.asarray(values, dtype=np.float64)
    coeffs = fourier.fourier_coefficients(values)
    coeffs[fourier.rfft_gnorm(cell, values.shape) >= k_cut] = 0.0
    return fourier.from_fourier_coefficients(coeffs, values.shape)


def _residual_input(ref_ds: xr.Dataset, pred_ds: xr.Dataset | None) -> xr.Dataset:
    if pred_ds is None:
        if keys.ELF_REF not in ref_ds or keys.ELF not in ref_ds:
            raise GridError(
                "give a reference and a prediction, or one residual Dataset with 'elf_ref' and 'elf'"
            )
        return ref_ds
    return residual_dataset(ref_ds, pred_ds)


def lowpass_correction(
    ref_ds: xr.Dataset, pred_ds: xr.Dataset | None = None, k_cut: float = K_BOND
) -> xr.Dataset:
    """Diagnostic correction: restore the residual's ``|G| < k_cut`` modes to the prediction.

    Parameters
    ----------
    ref_ds, pred_ds : xarray.Dataset
        Reference and prediction of the same structure on the same grid (or one residual Dataset from
        :func:`~elfviz.analysis.residual_dataset` as ``ref_ds`` and ``pred_ds=None``).
    k_cut : float
        Cut in Å^-1 (default 2π/0.74 Å: wavelengths longer than the H-H bond). ``k_cut = inf`` restores
        every mode and reproduces the reference.

    Returns
    -------
    xarray.Dataset
        The residual Dataset plus ``elf_corrected = clip(elf + lowpass(residual), 0, 1)``; attrs ``k_cut`` and
        ``r2_before``, ``r2_after``, ``mae_before``, ``mae_after``, ``rmse_before``, ``rmse_after``.

    Examples
    --------
    >>> ref = grid.make_dataset(np.eye(3) * 3, [[0, 0, 0]], [1], np.linspace(0, 1, 512).reshape(8, 8, 8))
    >>> pred = grid.with_field(ref, "elf", np.full((8, 8, 8), 0.5))
    >>> out = lowpass_correction(ref, pred, k_cut=np.inf)
    >>> round(out.attrs["r2_before"], 3), round(out.attrs["r2_after"], 6)
    (0.0, 1.0)
    """
    res = _residual_input(ref_ds, pred_ds)
    ref = res[keys.ELF_REF].values.astype(np.float64)
    pred = res[keys.ELF].values.astype(np.float64)
    residual = ref - pred
    corrected = np.clip(pred + lowpass_filter(residual, res[keys.CELL].values, k_cut), 0.0, 1.0)
    out = grid.with_field(res, "elf_corrected", corrected)
    before = field_metrics(ref, pred)
    after = field_metrics(ref, corrected)
    out.attrs["k_cut"] = float(k_cut)
    for name in ("r2", "mae", "rmse", "max_abs_error"):
        out.attrs[f"{name}_before"] = before[name]
        out.attrs[f"{name}_after"] = after[name]
    return out


def r2_versus_kcut(
    ref_ds: xr.Dataset, pred_ds: xr.Dataset | None = None, k_cuts: Sequence[float] | None = None
) -> xr.Dataset:
    """Metrics of the diagnostic low-pass correction as a function of the cut ``k_c``.

    Parameters
    ----------
    ref_ds, pred_ds : xarray.Dataset
        As in :func:`lowpass_correction`.
    k_cuts : sequence of float, optional
        Cuts in Å^-1; default 0 to beyond the largest |G| of the grid in steps of the default shell width
        (the last cut restores everything, so its R^2 is 1).

    Returns
    -------
    xarray.Dataset
        dim ``k_cut`` (Å^-1): ``r2``, ``mae``, ``rmse``, ``max_abs_error`` after the correction, and the
        fraction of modes restored ``mode_fraction``; attrs ``r2_before`` etc.
    """
    res = _residual_input(ref_ds, pred_ds)
    cell = res[keys.CELL].values
    ref = res[keys.ELF_REF].values.astype(np.float64)
    pred = res[keys.ELF].values.astype(np.float64)
    coeffs = fourier.fourier_coefficients(ref - pred)
    gnorm = fourier.rfft_gnorm(cell, ref.shape)
    weight = np.broadcast_to(fourier.rfft_multiplicity(ref.shape), gnorm.shape)
    if k_cuts is None:
        width = default_shell_width(cell)
        k_cuts = np.arange(0.0, gnorm.max() + 2 * width, width)
    k_cuts = np.asarray(k_cuts, dtype=float)
    rows = {name: [] for name in ("r2", "mae", "rmse", "max_abs_error")}
    fraction = []
    for k_cut in k_cuts:
        keep = gnorm < k_cut
        restored = fourier.from_fourier_coefficients(np.where(keep, coeffs, 0.0), ref.shape)
        corrected = np.clip(pred + restored, 0.0, 1.0)
        for name, value in field_metrics(ref, corrected).items():
            rows[name].append(value)
        fraction.append(float(weight[keep].sum() / weight.sum()))
    before = field_metrics(ref, pred)
    out = xr.Dataset(
        {name: ("k_cut", np.asarray(values)) for name, values in rows.items()},
        coords={"k_cut": ("k_cut", k_cuts, {"units": "angstrom^-1"})},
    )
    out["mode_fraction"] = ("k_cut", np.asarray(fraction))
    out.attrs.update({f"{name}_before": value for name, value in before.items()})
    for key in ("pressure_gpa", "rs_bohr", "frame_id", "phase"):
        if key in res.attrs:
            out.attrs[key] = res.attrs[key]
    return out


def kcut_curves_over_frames(
    datasets: Iterable[xr.Dataset], k_cuts: Sequence[float] | None = None
) -> xr.Dataset:
    """:func:`r2_versus_kcut` of many residual Datasets on one ``k_cut`` axis, over a ``frame`` dim.

    Parameters
    ----------
    datasets : iterable of xarray.Dataset
        Residual Datasets (``elf_ref`` and ``elf``).
    k_cuts : sequence of float, optional
        Common cuts (Å^-1); default 0 to 30 Å^-1 in steps of 0.5 Å^-1 (past the Nyquist |G| of a 0.12 Å
        grid, 26 Å^-1, so the last cuts restore nearly everything).

    Returns
    -------
    xarray.Dataset
        dims ``(frame, k_cut)``: ``r2``, ``mae``, ``rmse``, ``max_abs_error``, ``mode_fraction``; per frame
        ``r2_before``; frame coordinates ``pressure_gpa``, ``rs_bohr``, ``phase`` ... for ``groupby``.
    """
    datasets = list(datasets)
    if not datasets:
        raise GridError("no frames given to kcut_curves_over_frames")
    k_cuts = np.arange(0.0, 30.0 + 1e-9, 0.5) if k_cuts is None else np.asarray(k_cuts, dtype=float)
    curves = [r2_versus_kcut(ds, k_cuts=k_cuts) for ds in datasets]
    out = xr.concat(curves, dim="frame", combine_attrs="drop")
    out["r2_before"] = ("frame", np.array([c.attrs["r2_before"] for c in curves]))
    out = out.assign_coords(frame_coords(datasets, frame_ids(datasets)))
    return out
