"""Accuracy metrics of a predicted field against a reference: per field, per frame, per density.

Definitions
-----------
``r2 = 1 - SS_res / SS_tot`` with ``SS_res = sum (ref - pred)^2`` and ``SS_tot = sum (ref - mean(ref))^2``
(about the reference's own mean; 1 is perfect, 0 is no better than predicting the mean, negative is
worse); ``mae = mean |ref - pred|``; ``rmse = sqrt(mean (ref - pred)^2)``;
``max_abs_error = max |ref - pred|``.
ELF is dimensionless, so all metrics are too.

Per-density aggregates pool the grid points of all frames of a group (sums of squares are added, then
``r2`` is formed), so a group's ``r2`` is the R^2 of all its points together, not a mean of per-frame
values.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import xarray as xr

from .. import grid
from ..errors import GridError
from ..grid import keys
from .spectra import frame_coords, frame_ids

METRICS = ("r2", "mae", "rmse", "max_abs_error")
SUMS = ("n_points", "sum_ref", "sum_ref2", "ss_res", "sum_abs")


def _as_array(values, name: str) -> np.ndarray:
    if isinstance(values, xr.DataArray):
        if set(values.dims) == set(grid.GRID_DIMS):
            values = values.transpose(*grid.GRID_DIMS)
        values = values.values
    arr = np.asarray(values, dtype=np.float64)
    if arr.size == 0:
        raise GridError(f"the {name} field is empty")
    if not np.all(np.isfinite(arr)):
        raise GridError(f"the {name} field contains NaN or infinite values")
    return arr


def _paired_arrays(ref, pred) -> tuple[np.ndarray, np.ndarray]:
    """Reference and prediction as float arrays of one shape (GridError otherwise)."""
    ref_arr = _as_array(ref, "reference")
    pred_arr = _as_array(pred, "prediction")
    if ref_arr.shape != pred_arr.shape:
        raise GridError(
            f"reference shape {ref_arr.shape} and prediction shape {pred_arr.shape} differ; "
            "compare fields on the same grid"
        )
    return ref_arr, pred_arr


def field_sums(ref, pred) -> dict[str, float]:
    """Additive sums from which the metrics of any union of fields follow (see :func:`metrics_from_sums`)."""
    ref_arr, pred_arr = _paired_arrays(ref, pred)
    diff = ref_arr - pred_arr
    return {
        "n_points": float(ref_arr.size),
        "sum_ref": float(ref_arr.sum()),
        "sum_ref2": float((ref_arr**2).sum()),
        "ss_res": float((diff**2).sum()),
        "sum_abs": float(np.abs(diff).sum()),
        "max_abs_error": float(np.abs(diff).max()),
    }


def metrics_from_sums(sums) -> dict[str, float]:
    """Metrics from (pooled) sums: ``r2``, ``mae``, ``rmse``, ``max_abs_error``.

    ``r2`` is NaN when the reference is constant (``SS_tot = 0``).
    """
    n = float(sums["n_points"])
    ss_tot = float(sums["sum_ref2"]) - float(sums["sum_ref"]) ** 2 / n
    ss_res = float(sums["ss_res"])
    # SS_tot from sums loses digits when the spread is tiny compared with the mean; treat that as constant
    r2 = 1.0 - ss_res / ss_tot if ss_tot > 1e-12 * max(float(sums["sum_ref2"]), 1e-300) else float("nan")
    return {
        "r2": r2,
        "mae": float(sums["sum_abs"]) / n,
        "rmse": float(np.sqrt(ss_res / n)),
        "max_abs_error": float(sums["max_abs_error"]),
    }


def field_metrics(ref, pred) -> dict[str, float]:
    """R^2, MAE, RMSE and max |error| of ``pred`` against ``ref`` (arrays or DataArrays of one shape).

    Examples
    --------
    >>> m = field_metrics([0.0, 0.5, 1.0], [0.1, 0.5, 0.8])
    >>> round(m["r2"], 6), round(m["mae"], 6), round(m["max_abs_error"], 6)
    (0.9, 0.1, 0.2)
    """
    ref_arr, pred_arr = _paired_arrays(ref, pred)
    diff = ref_arr - pred_arr
    ss_tot = float(((ref_arr - ref_arr.mean()) ** 2).sum())
    ss_res = float((diff**2).sum())
    return {
        "r2": 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan"),
        "mae": float(np.abs(diff).mean()),
        "rmse": float(np.sqrt(ss_res / diff.size)),
        "max_abs_error": float(np.abs(diff).max()),
    }


def frame_metrics(
    datasets: Iterable[xr.Dataset], *, ref_field: str = keys.ELF_REF, pred_field: str = keys.ELF, prefix: str = ""
) -> xr.Dataset:
    """Metrics of each frame as a Dataset over ``frame`` with pressure/rs/phase coordinates.

    Parameters
    ----------
    datasets : iterable of xarray.Dataset
        Residual Datasets (:func:`~elfviz.analysis.residual_dataset`) holding ``ref_field`` and
        ``pred_field``.
    prefix : str
        Prepended to every variable name (e.g. ``"promolecular_"`` to put two models side by side).

    Returns
    -------
    xarray.Dataset
        Variables ``r2, mae, rmse, max_abs_error`` and the additive sums (``n_points, sum_ref, sum_ref2,
        ss_res, sum_abs``) used by :func:`aggregate_metrics`, each over ``frame``.
    """
    datasets = list(datasets)
    if not datasets:
        raise GridError("no frames given to frame_metrics")
    rows = []
    for ds in datasets:
        for fld in (ref_field, pred_field):
            if fld not in ds:
                raise GridError(f"a frame has no field '{fld}' (fields: {grid.field_names(ds)})")
        sums = field_sums(ds[ref_field], ds[pred_field])
        rows.append({**sums, **metrics_from_sums(sums)})
    data_vars = {
        f"{prefix}{name}": ("frame", np.array([row[name] for row in rows], dtype=float))
        for name in METRICS + SUMS
    }
    return xr.Dataset(data_vars, coords=frame_coords(datasets, frame_ids(datasets)))


def aggregate_metrics(
    frames: xr.Dataset, by: str = "rs_bohr", *, prefix: str = "", decimals: int = 3
) -> xr.Dataset:
    """Pool per-frame metrics over groups of frames (default: one group per density).

    Parameters
    ----------
    frames : xarray.Dataset
        Output of :func:`frame_metrics`.
    by : str
        A ``frame`` coordinate to group on (``rs_bohr``, ``pressure_gpa``, ``phase``, ``trajectory``).
    prefix : str
        The prefix used in :func:`frame_metrics`.
    decimals : int
        Numeric group keys are rounded to this many decimals first (frames of one density share it up to
        floating-point noise).

    Returns
    -------
    xarray.Dataset
        Over dim ``by``: pooled ``r2, mae, rmse, max_abs_error`` and ``n_frames``; for ``by="rs_bohr"`` also
        the mean ``pressure_gpa`` of each group where known.

    Examples
    --------
    >>> ds = grid.make_dataset(np.eye(3) * 3, [[0, 0, 0]], [1], np.linspace(0, 1, 64).reshape(4, 4, 4),
    ...                        fields={"elf_ref": np.linspace(0, 1, 64).reshape(4, 4, 4)})
    >>> float(aggregate_metrics(frame_metrics([ds, ds]))["r2"][0])
    1.0
    """
    if by not in frames.coords:
        raise GridError(f"the metrics have no frame coordinate '{by}' (coords: {list(frames.coords)})")
    names = frames[by].values
    if np.issubdtype(np.asarray(names).dtype, np.number):
        names = np.round(names.astype(float), decimals)
    groups: dict = {}
    for i, key in enumerate(names.tolist()):
        groups.setdefault(key, []).append(i)
    ordered = sorted(groups)
    out: dict[str, list] = {name: [] for name in METRICS}
    out["n_frames"] = []
    pressures = []
    for key in ordered:
        idx = groups[key]
        sums = {name: float(frames[f"{prefix}{name}"].values[idx].sum()) for name in SUMS}
        sums["max_abs_error"] = float(frames[f"{prefix}max_abs_error"].values[idx].max())
        for name, value in metrics_from_sums(sums).items():
            out[name].append(value)
        out["n_frames"].append(len(idx))
        if "pressure_gpa" in frames.coords and by != "pressure_gpa":
            pressures.append(
                float(np.nanmean(frames["pressure_gpa"].values[idx]))
                if np.any(np.isfinite(frames["pressure_gpa"].values[idx]))
                else np.nan
            )
    data_vars = {
        f"{prefix}{name}": (by, np.asarray(values, dtype=float))
        for name, values in out.items()
        if name != "n_frames"
    }
    data_vars["n_frames"] = (by, np.asarray(out["n_frames"], dtype=np.int64))
    coords = {by: (by, np.asarray(ordered))}
    if pressures:
        coords["pressure_gpa"] = (by, np.asarray(pressures))
    return xr.Dataset(data_vars, coords=coords)
