"""Fitting the transferable Fourier correction: ridge regression on accumulated normal equations.

See :mod:`elfviz.model.correction` for the model. Each training frame contributes
``A += Re(X^H W X)``, ``b += Re(X^H W y)`` over its low-|G| modes (``W``: mode multiplicity times the frame's
point count, so the loss is the real-space squared error by Parseval); nothing else is kept, so memory
does not grow with the number of frames. Validation frames are accumulated the same way, which makes the
validation error of any weight vector exact and free: ``yy - 2 w.b + w.A.w``.
"""

from __future__ import annotations

import datetime as _dt
import json
import logging
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from ... import grid
from ...errors import GridError
from ...grid import fourier, keys
from ..correction import ATOM_SIGMA, CHANNELS, K_MAX_DEFAULT, FourierCorrection, _frame_rs, design_matrix

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- fitting
class _NormalEquations:
    """Accumulated ``A = sum w Re(X^H X)``, ``b = sum w Re(X^H y)``, ``yy`` over low-|G| modes, plus
    the full-field sums needed for R^2 (``ss_res_all``: the residual's total squared error; ``ss_tot``)."""

    def __init__(self, n_features: int):
        self.a = np.zeros((n_features, n_features))
        self.b = np.zeros(n_features)
        self.yy = 0.0
        self.ss_res_all = 0.0
        self.ss_tot = 0.0
        self.n_frames = 0

    def add(
        self,
        x: np.ndarray,
        y: np.ndarray,
        weight: np.ndarray,
        n_points: int,
        residual: np.ndarray,
        ref: np.ndarray,
    ) -> None:
        w = weight * n_points  # real-space squared error = N * sum_G |R(G)|^2
        xw = x * w[:, None]
        self.a += np.real(xw.conj().T @ x)
        self.b += np.real(xw.conj().T @ y)
        self.yy += float(np.sum(w * np.abs(y) ** 2))
        self.ss_res_all += float(np.sum(residual**2))
        self.ss_tot += float(np.sum((ref - ref.mean()) ** 2))
        self.n_frames += 1

    def sse(self, theta: np.ndarray) -> float:
        """Low-|G| squared error after subtracting the predicted modes (no clipping)."""
        return float(self.yy - 2 * theta @ self.b + theta @ self.a @ theta)

    def r2(self, theta: np.ndarray | None) -> float:
        ss_res = self.ss_res_all if theta is None else self.ss_res_all - self.yy + self.sse(theta)
        return 1.0 - ss_res / self.ss_tot if self.ss_tot > 0 else float("nan")


def _accumulate(frames: Iterable[xr.Dataset], params: dict, n_features: int, field: str):
    eq = _NormalEquations(n_features)
    ids, rs_values = [], []
    for ds in frames:
        if keys.ELF_REF not in ds or field not in ds:
            raise GridError(
                "training frames for the Fourier correction need 'elf_ref' (reference) and the "
                f"predicted '{field}'; build them with elfviz.analysis.residual_dataset(ref, pred)"
            )
        x, mask, weight = design_matrix(ds, field=field, **params)
        ref = ds[keys.ELF_REF].transpose(*grid.GRID_DIMS).values.astype(np.float64)
        residual = ref - ds[field].transpose(*grid.GRID_DIMS).values.astype(np.float64)
        y = fourier.fourier_coefficients(residual)[mask]
        eq.add(x, y, weight, residual.size, residual, ref)
        ids.append(str(ds.attrs.get("frame_id", len(ids))))
        rs_values.append(_frame_rs(ds))
    return eq, ids, rs_values


def fit_fourier_correction(
    train: Iterable[xr.Dataset],
    validation: Iterable[xr.Dataset] | None = None,
    *,
    k_max: float = K_MAX_DEFAULT,
    n_radial: int = 8,
    channels: Sequence[str] = CHANNELS,
    rs_order: int = 1,
    sigma: float = ATOM_SIGMA,
    alphas: Sequence[float] | None = None,
    alpha: float = 1e-3,
    field: str = keys.ELF,
    name: str = "fourier-ridge",
) -> FourierCorrection:
    """Fit a :class:`FourierCorrection` on training frames, choosing the ridge strength on validation frames.

    Parameters
    ----------
    train, validation : iterable of xarray.Dataset
        Residual Datasets (``elf_ref`` = reference, ``elf`` = prediction), e.g. from
        :func:`~elfviz.analysis.residual_dataset`. Without validation frames the fixed ``alpha`` is used.
    k_max : float
        Largest |G| to correct (Å^-1); default 2π/0.74 Å.
    n_radial : int
        Radial hat functions per channel and rs power.
    channels : sequence of str
        Subset of ``("atoms", "elf", "elf2")``.
    rs_order : int
        Polynomial order of the density dependence (0: one filter for all densities).
    alphas : sequence of float, optional
        Candidate relative ridge strengths (default ``10^-8 .. 10^2``), scaled by the diagonal of the
        normal matrix.

    Returns
    -------
    FourierCorrection
        With ``metadata`` recording the frames, rs range, chosen ``alpha`` and the R^2 before/after on the
        training and validation frames (unclipped, from the normal equations).
    """
    train = list(train)
    if not train:
        raise GridError("no training frames for the Fourier correction")
    rs_train = [_frame_rs(ds) for ds in train]
    rs_ref = float(np.mean(rs_train))
    params = {
        "k_max": float(k_max),
        "n_radial": int(n_radial),
        "channels": tuple(channels),
        "rs_ref": rs_ref,
        "rs_order": int(rs_order),
        "sigma": float(sigma),
    }
    n_features = len(params["channels"]) * params["n_radial"] * (params["rs_order"] + 1)
    eq_train, train_ids, _ = _accumulate(train, params, n_features, field)
    scale = np.sqrt(np.diag(eq_train.a))
    scale[scale <= 1e-300] = 1.0
    a_scaled = eq_train.a / np.outer(scale, scale)
    b_scaled = eq_train.b / scale

    def solve(strength: float) -> np.ndarray:
        lhs = a_scaled + strength * np.eye(n_features)
        return np.linalg.lstsq(lhs, b_scaled, rcond=None)[0] / scale

    validation = list(validation or [])
    record: dict[str, Any] = {
        "name": name,
        "created": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "train_frames": train_ids,
        "rs_range": [float(min(rs_train)), float(max(rs_train))],
        "field": field,
    }
    if validation:
        eq_val, val_ids, _ = _accumulate(validation, params, n_features, field)
        candidates = np.logspace(-8, 2, 21) if alphas is None else np.asarray(alphas, dtype=float)
        scores = [(eq_val.sse(solve(float(s))), float(s)) for s in candidates]
        best_sse, best_alpha = min(scores)
        theta = solve(best_alpha)
        if best_sse >= eq_val.yy:
            log.warning(
                "the Fourier correction does not reduce the error on the validation frames (best "
                "low-|G| error %.4g vs %.4g without); it is stored as the identity",
                best_sse,
                eq_val.yy,
            )
            theta = np.zeros(n_features)
        record.update(
            {
                "alpha": best_alpha,
                "validation_frames": val_ids,
                "validation_r2_before": eq_val.r2(None),
                "validation_r2_after": eq_val.r2(theta),
                "alpha_scan": [[s, e] for e, s in sorted(scores, key=lambda t: t[1])],
            }
        )
    else:
        theta = solve(float(alpha))
        record["alpha"] = float(alpha)
    record["train_r2_before"] = eq_train.r2(None)
    record["train_r2_after"] = eq_train.r2(theta)
    log.info(
        "Fourier correction fitted on %d frames: train R^2 %.4f -> %.4f",
        len(train),
        record["train_r2_before"],
        record["train_r2_after"],
    )
    return FourierCorrection(theta, metadata=record, **params)


CANDIDATE_CONFIGS = (
    {"n_radial": 8, "rs_order": 1},
    {"n_radial": 16, "rs_order": 1},
    {"n_radial": 8, "rs_order": 2},
    {"n_radial": 16, "rs_order": 1, "k_max": 2.0 * K_MAX_DEFAULT},
)
"""Candidates of :func:`select_fourier_correction`: radial resolution, rs order, |G| range."""


def select_fourier_correction(
    train: Sequence[xr.Dataset],
    validation: Sequence[xr.Dataset],
    configs: Sequence[Mapping[str, Any]] = CANDIDATE_CONFIGS,
    **common: Any,
) -> FourierCorrection:
    """Fit one correction per configuration and keep the best on the validation frames.

    Each configuration (keyword arguments of :func:`fit_fourier_correction`, e.g. ``n_radial``, ``rs_order``,
    ``k_max``, ``channels``) gets its own ridge strength from the validation frames; the winner is the
    configuration with the highest validation R^2 after correction. Every candidate's score is kept in
    ``metadata["candidates"]``.

    Examples
    --------
    >>> # see tests/analysis/test_correction.py for a worked example on synthetic frames
    >>> len(CANDIDATE_CONFIGS)
    4
    """
    train, validation = list(train), list(validation)
    if not validation:
        raise GridError("model selection needs validation frames (frames not used for fitting)")
    best, scores = None, []
    for config in configs:
        corr = fit_fourier_correction(train, validation, **{**common, **config})
        score = corr.metadata["validation_r2_after"]
        scores.append(
            {
                **{k: (list(v) if isinstance(v, tuple) else v) for k, v in config.items()},
                "validation_r2_after": score,
                "alpha": corr.metadata["alpha"],
            }
        )
        log.info("correction candidate %s: validation R^2 %.5f", config, score)
        if best is None or score > best.metadata["validation_r2_after"]:
            best = corr
    best.metadata["candidates"] = scores
    return best


def save_correction(correction: FourierCorrection, path, *, force: bool = False) -> Path:
    """Write ``correction`` as JSON (atomically; refuses to overwrite unless ``force``); read it back with
    :meth:`elfviz.model.correction.FourierCorrection.load`."""
    from ...io.store import atomic_write, check_writable

    path = check_writable(path, force)
    text = json.dumps(correction.to_dict(), indent=1, default=float)
    atomic_write(path, lambda tmp: Path(tmp).write_text(text))
    return path
