"""Evaluate a predictor against reference frames: metrics, baseline, spectra, corrections, per-density table.

This is the one pipeline behind ``elfviz spectra`` and ``python -m elfviz.cli.programs.report``; the notebook
and the dashboard call the same functions, so every number they show is reproducible from the CLI.

Examples
--------
>>> import numpy as np
>>> from elfviz import grid
>>> rng = np.random.default_rng(0)
>>> refs = [grid.make_dataset(np.eye(3) * 3, [[0, 0, 0]], [1], rng.uniform(0.2, 0.8, (8, 8, 8)),
...                           attrs={"pressure_gpa": 100.0}) for _ in range(2)]
>>> predict = lambda ds: grid.with_field(ds, "elf", np.full((8, 8, 8), 0.5))
>>> ev = evaluate_frames(refs, predict)
>>> table = density_table(ev)
>>> int(table["frames"].iloc[0]), round(float(table["r2_model"].iloc[0]), 2) <= 0.0
(2, True)
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xarray as xr

from ..errors import GridError
from ..grid import keys
from .correction import kcut_curves_over_frames, lowpass_filter
from .metrics import METRICS, aggregate_metrics, field_sums, metrics_from_sums
from .residuals import residual_dataset
from .spectra import K_BOND, frame_coords, frame_ids, spectra_over_frames

log = logging.getLogger(__name__)

Transform = Callable[[xr.Dataset], xr.Dataset]


@dataclass
class Evaluation:
    """Results of :func:`evaluate_frames`.

    Attributes
    ----------
    residuals : list of xarray.Dataset
        One residual Dataset (``elf_ref``, ``elf``, ``residual``) per frame, model prediction.
    metrics : xarray.Dataset
        Per-frame metrics over ``frame``: the model's ``r2, mae, rmse, max_abs_error`` (and the additive
        sums), and the same with prefixes ``baseline_`` (promolecular or other baseline), ``lowpass_``
        (after the diagnostic correction at ``k_cut``) and ``corrected_`` (after the transferable
        correction) where those were computed.
    spectra : xarray.Dataset
        :func:`~elfviz.analysis.spectra_over_frames` of the model residuals.
    kcut_curves : xarray.Dataset or None
        :func:`~elfviz.analysis.correction.kcut_curves_over_frames` (R^2 versus k_c).
    k_cut : float
        The low-|G| cut used for ``lowk_fraction`` and the diagnostic correction, Å^-1.
    labels : dict
        Sources: ``model``, ``baseline``, ``correction``.
    """

    residuals: list
    metrics: xr.Dataset
    spectra: xr.Dataset
    kcut_curves: xr.Dataset | None
    k_cut: float
    labels: dict


def _sums_row(ref: np.ndarray, pred: np.ndarray, prefix: str) -> dict[str, float]:
    sums = field_sums(ref, pred)
    return {f"{prefix}{k}": v for k, v in {**sums, **metrics_from_sums(sums)}.items()}


def evaluate_frames(
    references: Iterable[xr.Dataset],
    predict: Transform,
    *,
    baseline: Transform | None = None,
    correction: Transform | None = None,
    k_cut: float = K_BOND,
    k_cuts: Sequence[float] | None = None,
    curves: bool = True,
    labels: dict | None = None,
    progress: Callable | None = None,
) -> Evaluation:
    """Run ``predict`` (and optionally a baseline and a correction) on reference frames and analyse residuals.

    Parameters
    ----------
    references : iterable of xarray.Dataset
        Reference frames with field ``elf`` (e.g. a :class:`~elfviz.io.store.FrameCollection`'s frames).
    predict : callable
        ``reference Dataset -> prediction Dataset`` on the same grid, e.g.
        ``lambda ds: Predictor().predict(ds, like=ds)``.
    baseline : callable, optional
        Same signature, e.g. ``lambda ds: promolecular_elf(ds, like=ds)``.
    correction : callable, optional
        ``prediction Dataset -> corrected Dataset`` (a :class:`~elfviz.model.correction.FourierCorrection`).
    k_cut : float
        Low-|G| cut (Å^-1) for the variance fraction and the diagnostic correction.
    k_cuts : sequence of float, optional
        Cuts of the R^2-versus-k_c curves (default of :func:`kcut_curves_over_frames`).
    curves : bool
        Compute the R^2-versus-k_c curves.
    progress : callable, optional
        Wraps the iterable (e.g. ``tqdm``).

    Returns
    -------
    Evaluation
    """
    references = list(references)
    if not references:
        raise GridError("no reference frames to evaluate")
    iterator = progress(references) if progress else references
    residuals, rows = [], []
    for ref in iterator:
        if keys.ELF not in ref:
            raise GridError(f"reference frame {ref.attrs.get('frame_id', '?')} has no 'elf' field")
        res = residual_dataset(ref, predict(ref))
        ref_values = res[keys.ELF_REF].values.astype(np.float64)
        pred_values = res[keys.ELF].values.astype(np.float64)
        row = _sums_row(ref_values, pred_values, "")
        restored = np.clip(
            pred_values + lowpass_filter(ref_values - pred_values, res[keys.CELL].values, k_cut), 0, 1
        )
        row.update(_sums_row(ref_values, restored, "lowpass_"))
        if baseline is not None:
            base = residual_dataset(ref, baseline(ref))
            row.update(_sums_row(ref_values, base[keys.ELF].values.astype(np.float64), "baseline_"))
        if correction is not None:
            corrected = correction(res[[keys.CELL, keys.POSITIONS, keys.NUMBERS, keys.ELF]].assign_attrs(res.attrs))
            row.update(_sums_row(ref_values, corrected[keys.ELF].values.astype(np.float64), "corrected_"))
        residuals.append(res)
        rows.append(row)
    names = sorted({key for row in rows for key in row})
    metrics = xr.Dataset(
        {name: ("frame", np.array([row.get(name, np.nan) for row in rows], dtype=float)) for name in names},
        coords=frame_coords(residuals, frame_ids(residuals)),
    )
    metrics.attrs["k_cut"] = float(k_cut)
    spectra = spectra_over_frames(residuals, k_cut=k_cut)
    kc = kcut_curves_over_frames(residuals, k_cuts) if curves else None
    return Evaluation(
        residuals=residuals,
        metrics=metrics,
        spectra=spectra,
        kcut_curves=kc,
        k_cut=float(k_cut),
        labels=dict(labels or {}),
    )


def _group_keys(values: np.ndarray, decimals: int = 3) -> np.ndarray:
    values = np.asarray(values)
    if np.issubdtype(values.dtype, np.number):
        return np.round(values.astype(float), decimals)
    return values


def density_table(evaluation: Evaluation, by: str = "rs_bohr") -> pd.DataFrame:
    """One row per density (or per value of another frame coordinate): pooled metrics and spectral measures.

    Columns: ``by``, ``pressure_gpa`` (group mean), ``frames``; ``r2_model``, ``mae_model``, ``rmse_model``,
    ``max_model``; the same for ``baseline`` (if computed); ``lowk_fraction`` and ``lowk_fraction_std`` (mean
    and standard deviation over frames), ``correlation_length`` (Å, mean), ``k_centroid`` (Å^-1, mean),
    ``r2_lowpass`` (after restoring |G| < k_cut), ``r2_corrected`` (after the transferable correction, if
    computed), ``bias`` (mean residual, reference - model), ``median_k`` (Å^-1) and
    ``half_variance_wavelength = 2π / median_k`` (Å; half the residual variance is in longer waves).
    R^2, MAE and RMSE pool all grid points of the group (see :mod:`elfviz.analysis.metrics`).
    """
    metrics, spectra = evaluation.metrics, evaluation.spectra
    if by not in metrics.coords:
        raise GridError(f"the frames have no coordinate '{by}' to group on (coords: {list(metrics.coords)})")
    table = pd.DataFrame({by: aggregate_metrics(metrics, by=by)[by].values})
    for prefix, label in (
        ("", "model"),
        ("baseline_", "baseline"),
        ("lowpass_", "lowpass"),
        ("corrected_", "corrected"),
    ):
        if f"{prefix}r2" not in metrics:
            continue
        agg = aggregate_metrics(metrics, by=by, prefix=prefix)
        if prefix == "":
            table["frames"] = agg["n_frames"].values
            if "pressure_gpa" in agg.coords:
                table["pressure_gpa"] = agg["pressure_gpa"].values
        names = METRICS if prefix in ("", "baseline_") else ("r2",)
        for name in names:
            short = "max" if name == "max_abs_error" else name
            table[f"{short}_{label}"] = agg[f"{prefix}{name}"].values
    groups = _group_keys(spectra[by].values)
    for name in ("mean", "lowk_fraction", "correlation_length", "k_centroid", "median_k"):
        if name not in spectra:
            continue
        values = spectra[name].values
        column = "bias" if name == "mean" else name
        table[column] = [
            float(np.nanmean(values[groups == key])) if np.any(np.isfinite(values[groups == key])) else math.nan
            for key in table[by]
        ]
        if name == "lowk_fraction":
            table["lowk_fraction_std"] = [float(np.nanstd(values[groups == key])) for key in table[by]]
    if "median_k" in table:
        table["half_variance_wavelength"] = 2 * np.pi / table["median_k"]
    return table


def markdown_table(table: pd.DataFrame, *, k_cut: float = K_BOND, by: str = "rs_bohr") -> str:
    """Format :func:`density_table` as a Markdown table with units in the header."""
    columns = [(by, {"rs_bohr": "rs (bohr)", "pressure_gpa": "P (GPa)"}.get(by, by), "{}")]
    columns += [
        ("pressure_gpa", "P (GPa)", "{:.0f}"),
        ("frames", "frames", "{:d}"),
        ("r2_model", "R² model", "{:.4f}"),
        ("mae_model", "MAE model", "{:.4f}"),
        ("rmse_model", "RMSE model", "{:.4f}"),
        ("r2_baseline", "R² promol.", "{:.4f}"),
        ("mae_baseline", "MAE promol.", "{:.4f}"),
        ("rmse_baseline", "RMSE promol.", "{:.4f}"),
        ("lowk_fraction", f"var. frac. k<{k_cut:.2f} Å⁻¹", "{:.3f}"),
        ("correlation_length", "ξ (Å)", "{:.3f}"),
        ("bias", "bias", "{:+.4f}"),
        ("k_centroid", "k̄ (Å⁻¹)", "{:.2f}"),
        ("half_variance_wavelength", "λ½ (Å)", "{:.2f}"),
        ("r2_lowpass", f"R² + low-pass k<{k_cut:.2f}", "{:.4f}"),
        ("r2_corrected", "R² + learned corr.", "{:.4f}"),
    ]
    columns = [c for c in columns if c[0] in table.columns and not (c[0] == by and c is not columns[0])]
    header = "| " + " | ".join(title for _, title, _ in columns) + " |"
    rule = "|" + "|".join("---:" for _ in columns) + "|"
    lines = [header, rule]
    for _, row in table.iterrows():
        cells = []
        for name, _, fmt in columns:
            value = row[name]
            if isinstance(value, float) and not math.isfinite(value):
                cells.append("–")
            elif name == by and isinstance(value, float):
                cells.append(f"{value:.3f}")
            else:
                cells.append(fmt.format(int(value) if fmt == "{:d}" else value))
        lines.append("| " + " | ".join(cells) + " |")
    if "lowk_fraction_std" in table.columns:
        lines.append("")
        lines.append(
            f"var. frac.: share of the residual variance in modes with 0 < |G| < {k_cut:.2f} Å⁻¹ "
            "(wavelengths longer than the 0.74 Å H-H bond), mean over frames; ξ: e-folding length of the "
            "radially averaged residual autocorrelation; bias: mean residual (reference - model); "
            "k̄: power-weighted mean |G|; λ½: half of the residual variance is in waves longer than this; "
            "R², MAE, RMSE pool all grid points of a group."
        )
    return "\n".join(lines)
