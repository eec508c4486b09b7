"""Residual report on a dataset: ``python -m elfviz.cli.programs.report DATASET_DIR``.

For the held-out frames of a :class:`~elfviz.io.store.FrameCollection` (default: the liquid test
trajectories) it runs the model and the promolecular baseline, and prints a Markdown table per density:
R^2 / MAE / RMSE of both, the low-|G| residual variance fraction (|G| < 2π/0.74 Å), the residual correlation
length, R^2 after the diagnostic low-pass correction and after the transferable Fourier correction.
``elfviz spectra --dataset DIR`` runs the same code.

Predictions can be cached (``--cache DIR``: one netCDF per frame and model version), so the notebook,
the CLI and repeated runs share one set of model evaluations.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ...analysis.evaluate import Evaluation, density_table, evaluate_frames, markdown_table
from ...analysis.residuals import residual_dataset
from ...analysis.spectra import K_BOND
from ...errors import ElfvizError, FileFormatError, ModelError
from ...grid import keys
from ...io.store import FrameCollection, read_netcdf, write_netcdf
from ..correction import FourierCorrection, bundled_correction
from .correction_fit import fit_fourier_correction, select_fourier_correction
from .correction_fit import save_correction as write_correction

log = logging.getLogger(__name__)


RESULT_FILES = ("metrics.nc", "spectra.nc", "kcut_curves.nc")
"""Files written by :func:`write_results`."""


# ----------------------------------------------------------------------------- frames
def select_frames(
    collection: FrameCollection,
    *,
    split: str | Sequence[str] | None = "test",
    phase: str | None = "liquid",
    max_per_trajectory: int | None = None,
) -> list[str]:
    """Frame ids of a collection by split and phase, optionally thinned evenly within each trajectory.

    ``phase="liquid"`` keeps the liquid frames, ``"crystal"`` every other phase, ``None`` or ``"all"`` both.
    """
    table = collection.index
    if table.empty:
        raise FileFormatError(f"{collection.root} holds no frames (no index.csv or an empty one)")
    mask = np.ones(len(table), dtype=bool)
    if split not in (None, "all"):
        splits = [split] if isinstance(split, str) else list(split)
        mask &= table["split"].astype(str).isin(splits).to_numpy()
    if phase not in (None, "all"):
        phases = table["phase"].astype(str)
        mask &= (phases != "liquid").to_numpy() if phase == "crystal" else (phases == phase).to_numpy()
    chosen = table[mask]
    if chosen.empty:
        raise FileFormatError(
            f"no frames with split={split!r} and phase={phase!r} in {collection.root} "
            f"(splits: {sorted(set(table['split'].astype(str)))}, "
            f"phases: {sorted(set(table['phase'].astype(str)))})"
        )
    if max_per_trajectory:
        keep = []
        for _, rows in chosen.groupby(chosen["trajectory"].astype(str), sort=False):
            ids = rows["frame_id"].astype(str).tolist()
            idx = np.unique(
                np.linspace(0, len(ids) - 1, min(max_per_trajectory, len(ids))).round().astype(int)
            )
            keep += [ids[i] for i in idx]
        return keep
    return chosen["frame_id"].astype(str).tolist()


def cached(
    predict: Callable[[xr.Dataset], xr.Dataset], cache_dir: str | Path | None, tag: str
) -> Callable[[xr.Dataset], xr.Dataset]:
    """Wrap a prediction so its result is stored per frame id and ``tag`` (model version) in ``cache_dir``."""
    if cache_dir is None:
        return predict
    folder = Path(cache_dir) / tag.replace(":", "_").replace("/", "_")

    def wrapped(ds: xr.Dataset) -> xr.Dataset:
        frame_id = ds.attrs.get("frame_id")
        if not frame_id:
            return predict(ds)
        path = folder / f"{frame_id}.nc"
        if path.exists():
            out = read_netcdf(path)
            try:  # a stale cache entry (other grid or structure) is recomputed, never trusted
                residual_dataset(ds, out)
                return out
            except ElfvizError:
                log.warning("cached prediction %s does not match the frame; recomputing", path)
        out = predict(ds)
        write_netcdf(out[[keys.CELL, keys.POSITIONS, keys.NUMBERS, keys.ELF]].assign_attrs(out.attrs), path, force=True)
        return out

    return wrapped


def hold_out_tail(collection: FrameCollection, frame_ids: list[str], fraction: float) -> tuple[list, list]:
    """Split frames into (kept, held out): the last ``fraction`` of each trajectory (at least one frame of
    trajectories with two or more) is held out, in index order."""
    table = collection.index.set_index(collection.index["frame_id"].astype(str))
    trajectories: dict[str, list[str]] = {}
    for frame_id in frame_ids:
        trajectories.setdefault(str(table.loc[frame_id, "trajectory"]), []).append(frame_id)
    kept, held = [], []
    for ids in trajectories.values():
        n_held = max(1, round(fraction * len(ids))) if len(ids) > 1 else 0
        kept += ids[: len(ids) - n_held]
        held += ids[len(ids) - n_held :]
    return kept, held


# ----------------------------------------------------------------------------- model and baseline
def load_predictor(device: str = "auto", weights: str | None = None):
    """The bundled (or given) model, with a clear error if the model package or weights are missing."""
    try:
        from .. import Predictor
    except ImportError as exc:
        raise ModelError(
            f"the ELF model cannot be imported ({exc}); install torch (pip install 'elfviz[ml]')"
        ) from None
    return Predictor(weights=weights, device=device)


def model_tag(predictor) -> str:
    """Cache tag of a predictor: its version plus a hash of its weights file (retrained weights often keep
    the version string, and their cached predictions must not be reused)."""
    import hashlib

    from ..network import weight_paths  # torch: only when a model is used

    weights = getattr(predictor, "weights_path", None)
    digest = ""
    if weights is not None:
        pt = weight_paths(weights)[0]
        if pt.exists():
            digest = "-" + hashlib.sha256(pt.read_bytes()).hexdigest()[:12]
    return f"model-{predictor.version}{digest}"


def model_transform(predictor, cache_dir=None) -> Callable[[xr.Dataset], xr.Dataset]:
    """``reference -> prediction on the reference's grid`` for a Predictor, cached per version and weights."""
    return cached(lambda ds: predictor.predict(ds, like=ds), cache_dir, model_tag(predictor))


def promolecular_transform(cache_dir=None) -> Callable[[xr.Dataset], xr.Dataset]:
    """``reference -> promolecular ELF on the reference's grid`` (the baseline of every table)."""
    from ...reference.promolecular import promolecular_elf

    return cached(lambda ds: promolecular_elf(ds, like=ds), cache_dir, "promolecular")


def fit_correction_on_collection(
    collection: FrameCollection,
    predict: Callable[[xr.Dataset], xr.Dataset],
    *,
    max_per_trajectory: int | None = None,
    model_version: str = "",
    progress: Callable | None = None,
    select: bool = True,
    **fit_kwargs: Any,
) -> FourierCorrection:
    """Fit the transferable correction on the collection's liquid train frames.

    The ridge strength and (``select=True``) the configuration among
    :data:`~elfviz.model.correction.CANDIDATE_CONFIGS` are chosen on the validation trajectories;
    if the collection has none, on the last 20 % of every train trajectory (held out from the fit, like
    the model's own early stopping).
    """

    def residuals(ids: list[str], label: str):
        iterator = progress(ids, desc=f"{label} frames") if progress else ids
        for frame_id in iterator:
            ref = collection.read(frame_id)
            yield residual_dataset(ref, predict(ref))

    train_ids = select_frames(
        collection, split="train", phase="liquid", max_per_trajectory=max_per_trajectory
    )
    try:
        val_ids = select_frames(
            collection, split="validation", phase="liquid", max_per_trajectory=max_per_trajectory
        )
    except FileFormatError:
        train_ids, val_ids = hold_out_tail(collection, train_ids, 0.2)
        log.warning(
            "no validation trajectories: choosing the correction on the last 20%% of each train trajectory "
            "(%d frames)",
            len(val_ids),
        )
    validation = list(residuals(val_ids, "validation")) if val_ids else None
    if validation and select:
        correction = select_fourier_correction(list(residuals(train_ids, "train")), validation, **fit_kwargs)
    else:
        correction = fit_fourier_correction(residuals(train_ids, "train"), validation, **fit_kwargs)
    correction.metadata["model_version"] = model_version
    correction.metadata["dataset"] = str(collection.root)
    return correction


# ----------------------------------------------------------------------------- report
def run_report(
    dataset_dir: str | Path,
    *,
    split: str = "test",
    phase: str = "liquid",
    max_per_trajectory: int | None = None,
    correction: str | None = None,
    fit_correction: bool = False,
    save_correction: str | None = None,
    device: str = "auto",
    weights: str | None = None,
    cache_dir: str | None = None,
    baseline: bool = True,
    k_cut: float = K_BOND,
    progress: Callable | None = None,
    model: str = "bundled",
    force: bool = False,
    max_train_frames: int | None = None,
) -> tuple[Evaluation, FourierCorrection | None]:
    """Evaluate the model on a dataset directory; returns the :class:`Evaluation` and the correction used.

    ``model="promolecular"`` analyses the promolecular baseline itself (no trained model needed; the
    baseline columns are then omitted).
    """
    from ...io.store import check_writable

    collection = FrameCollection(dataset_dir)
    if not collection.index_path.exists():
        raise FileFormatError(
            f"{dataset_dir} is not an elfviz dataset (no index.csv); build one with "
            "`elfviz dataset build` or point to data/dataset"
        )
    ids = select_frames(collection, split=split, phase=phase, max_per_trajectory=max_per_trajectory)
    if save_correction:
        check_writable(save_correction, force)  # fail before the expensive fit, not after
    if model == "promolecular":
        predict, version, baseline = promolecular_transform(cache_dir), "promolecular", False
    elif model == "bundled":
        predictor = load_predictor(device, weights)
        predict, version = model_transform(predictor, cache_dir), predictor.version
    else:
        raise ModelError(f"unknown model {model!r}: use 'bundled' (the trained ELF model) or 'promolecular'")
    corr = None
    if correction == "bundled":
        corr = bundled_correction(version)
    elif correction:
        corr = FourierCorrection.load(correction)
        trained_for = corr.metadata.get("model_version")
        if trained_for and trained_for != version:
            log.warning("the correction was fitted on %s predictions, the model is %s", trained_for, version)
    elif fit_correction:
        corr = fit_correction_on_collection(
            collection, predict, model_version=version, progress=progress, max_per_trajectory=max_train_frames
        )
        if save_correction:
            write_correction(corr, save_correction, force=force)
    evaluation = evaluate_frames(
        [collection.read(frame_id) for frame_id in ids],
        predict,
        baseline=promolecular_transform(cache_dir) if baseline else None,
        correction=corr,
        k_cut=k_cut,
        labels={"model": version, "correction": corr.name if corr else ""},
        progress=(lambda items: progress(items, desc=f"{split} frames")) if progress else None,
    )
    return evaluation, corr


def report_text(
    evaluation: Evaluation, correction: FourierCorrection | None = None, *, by: str = "rs_bohr"
) -> str:
    """The Markdown report: the per-density table plus the correction's provenance."""
    lines = [f"Model: {evaluation.labels.get('model', '?')}; frames: {evaluation.metrics.sizes['frame']}", ""]
    lines.append(markdown_table(density_table(evaluation, by=by), k_cut=evaluation.k_cut, by=by))
    if correction is not None:
        meta = correction.metadata
        lines += [
            "",
            f"Learned correction: {correction!r}; ridge alpha {meta.get('alpha', float('nan')):.3g}; "
            f"validation R² {meta.get('validation_r2_before', float('nan')):.4f} -> "
            f"{meta.get('validation_r2_after', float('nan')):.4f} (unclipped).",
        ]
    return "\n".join(lines)


def evaluation_json(evaluation: Evaluation, *, by: str = "rs_bohr") -> dict:
    """JSON-ready summary: the per-density table, per-frame metrics and the spectra."""

    def clean(value):
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, (np.floating, np.integer)):
            return clean(value.item())
        return value

    table = density_table(evaluation, by=by)
    spectra = evaluation.spectra
    return {
        "k_cut": evaluation.k_cut,
        "labels": evaluation.labels,
        "per_group": [{k: clean(v) for k, v in row.items()} for row in table.to_dict(orient="records")],
        "frames": {
            name: [clean(v) for v in evaluation.metrics[name].values.tolist()]
            for name in evaluation.metrics.data_vars
        },
        "frame_ids": evaluation.metrics["frame"].values.tolist(),
        "spectra": {
            "k": spectra["k"].values.tolist(),
            "shell_width": spectra.attrs["shell_width"],
            "power": [[clean(v) for v in row] for row in spectra["power"].values.tolist()],
            **{
                name: [clean(v) for v in spectra[name].values.tolist()]
                for name in (
                    "variance",
                    "mean",
                    "lowk_fraction",
                    "correlation_length",
                    "k_centroid",
                    "median_k",
                )
                if name in spectra
            },
        },
    }


def write_results(evaluation: Evaluation, out_dir: str | Path, *, force: bool = False) -> list[Path]:
    """Write ``metrics.nc``, ``spectra.nc`` and ``kcut_curves.nc`` (plain netCDF) into ``out_dir``."""
    from ...io.store import atomic_write, check_writable

    out = Path(out_dir)
    written = []
    items = [("metrics.nc", evaluation.metrics), ("spectra.nc", evaluation.spectra)]
    if evaluation.kcut_curves is not None:
        items.append(("kcut_curves.nc", evaluation.kcut_curves))
    for name, ds in items:
        path = check_writable(out / name, force)
        ds = ds.copy()
        for coord in ("phase", "trajectory", "split", "frame"):
            if coord in ds.coords:
                ds[coord] = ds[coord].astype(str)
        ds.attrs = {k: v for k, v in ds.attrs.items() if isinstance(v, (str, int, float))}
        atomic_write(path, lambda tmp, ds=ds: ds.to_netcdf(tmp, engine="h5netcdf"))
        written.append(path)
    return written
