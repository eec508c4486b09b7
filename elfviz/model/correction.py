"""Transferable Fourier correction: predict the residual's long-wavelength modes from the structure.

Model
-----
For every wavevector with ``|G| < k_max`` the residual's Fourier coefficient is predicted as a learned
radial filter applied to a few fields that are known at prediction time::

    R(G) = sum_c sum_j sum_p  w[c, j, p] * B_j(|G|) * (rs - rs_ref)^p * F_c(G)

* channels ``F_c(G)`` (per-point normalised coefficients, :mod:`elfviz.grid.fourier`):
  ``"atoms"`` the Gaussian-smeared atom density ``(1/V) S(G) exp(-|G|^2 sigma^2 / 2)`` from the structure
  factor (Å^-3), ``"elf"`` the predicted ELF, ``"elf2"`` the predicted ELF squared;
* ``B_j`` linear hat functions of ``|G|`` on knots ``0, h, ..., (n-1) h`` with ``h = k_max / n``, so the
  filter is piecewise linear in ``|G|`` and falls continuously to zero at ``k_max`` (no ringing);
* ``(rs - rs_ref)^p``, ``p = 0 .. rs_order``: the filter may change with density (Wigner-Seitz radius in
  bohr; ``rs_ref`` is the training mean).

The model is a radial (isotropic) filter on equivariant fields, so it commutes with translations and
rotations of the structure. Weights are real and fitted by ridge regression that minimises the real-space
squared error of the corrected field over all grid points of the training frames (Parseval: each ``rfftn``
coefficient is weighted by its multiplicity and the frame's point count). The ridge strength is chosen
on validation frames from accumulated normal equations (exact, no refits); if no strength beats "no
correction" on the validation frames the weights are set to zero and the correction is the identity.

The corrected ELF is ``clip(elf + R(r), 0, 1)``. Weights are stored as JSON (no pickle). Fitting and model
selection live in :mod:`elfviz.model.training.correction_fit`.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .. import grid
from ..errors import GridError, ModelError
from ..grid import fourier, keys

log = logging.getLogger(__name__)

FORMAT = "elfviz-fourier-correction"
FORMAT_VERSION = 1
CHANNELS = ("atoms", "elf", "elf2")
K_MAX_DEFAULT = 2.0 * math.pi / 0.74
ATOM_SIGMA = 0.5
"""Width (Å) of the Gaussians that smear the atoms in the ``"atoms"`` channel."""


# ----------------------------------------------------------------------------- features
def _frame_rs(ds: xr.Dataset) -> float:
    n_el = grid.valence_electrons(ds[keys.NUMBERS].values)
    return grid.rs_bohr(ds[keys.CELL].values, n_el) if n_el > 0 else float("nan")


def _hat_basis(gnorm: np.ndarray, k_max: float, n_radial: int) -> np.ndarray:
    """Hat functions on knots j*h (h = k_max/n_radial), shape (n_radial, len(gnorm))."""
    h = k_max / n_radial
    knots = np.arange(n_radial) * h
    return np.clip(1.0 - np.abs(gnorm[None, :] - knots[:, None]) / h, 0.0, None)


def channel_coefficients(
    ds: xr.Dataset, channels: Sequence[str], mask: np.ndarray, sigma: float = ATOM_SIGMA, field: str = keys.ELF
) -> np.ndarray:
    """Fourier coefficients of each channel at the masked ``rfftn`` modes, shape ``(n_channels, n_modes)``."""
    shape = grid.grid_shape(ds)
    cell = ds[keys.CELL].values
    out = []
    elf = None
    for channel in channels:
        if channel in ("elf", "elf2"):
            if field not in ds:
                raise GridError(f"the Fourier correction needs the predicted field '{field}' in the Dataset")
            if elf is None:
                elf = ds[field].transpose(*grid.GRID_DIMS).values.astype(np.float64)
            values = elf if channel == "elf" else elf**2
            out.append(fourier.fourier_coefficients(values)[mask])
        elif channel == "atoms":
            s = fourier.structure_factor(ds[keys.POSITIONS].values, cell, shape)[mask]
            g = fourier.rfft_gnorm(cell, shape)[mask]
            out.append(s * np.exp(-0.5 * (g * sigma) ** 2) / grid.cell_volume(cell))
        else:
            raise ModelError(f"unknown correction channel {channel!r}; known: {CHANNELS}")
    return np.asarray(out)


def design_matrix(
    ds: xr.Dataset,
    *,
    k_max: float,
    n_radial: int,
    channels: Sequence[str],
    rs_ref: float,
    rs_order: int,
    sigma: float = ATOM_SIGMA,
    field: str = keys.ELF,
):
    """Features of one frame: ``(X, mask, weight)`` with ``X`` complex of shape (n_modes, n_features).

    ``mask`` selects the ``rfftn`` modes with ``|G| < k_max``; ``weight`` is each mode's multiplicity.
    Feature order: channel-major, then radial basis, then rs power.
    """
    shape = grid.grid_shape(ds)
    cell = ds[keys.CELL].values
    gnorm = fourier.rfft_gnorm(cell, shape)
    mask = gnorm < k_max
    g = gnorm[mask]
    basis = _hat_basis(g, k_max, n_radial)  # (n_radial, modes)
    coeffs = channel_coefficients(ds, channels, mask, sigma, field)  # (channels, modes)
    drs = _frame_rs(ds) - rs_ref
    powers = np.array([drs**p for p in range(rs_order + 1)])
    x = coeffs[:, None, None, :] * basis[None, :, None, :] * powers[None, None, :, None]
    weight = np.broadcast_to(fourier.rfft_multiplicity(shape), gnorm.shape)[mask]
    return x.reshape(-1, len(g)).T, mask, weight


# ----------------------------------------------------------------------------- the correction object
class FourierCorrection:
    """A learned long-wavelength correction of predicted ELF; callable on a prediction Dataset.

    Use it as ``Predictor(correction=FourierCorrection.load(path))`` or call it on any Dataset with
    ``elf``, ``cell`` and ``positions``. Build one with :func:`fit_fourier_correction`.

    Parameters
    ----------
    weights : array_like
        Real weights, length ``len(channels) * n_radial * (rs_order + 1)``.
    k_max : float
        Largest |G| corrected (Å^-1).
    n_radial : int
        Number of radial hat functions.
    channels : sequence of str
        Feature channels (see the module docstring).
    rs_ref : float
        Reference Wigner-Seitz radius (bohr) of the density dependence.
    rs_order : int
        Polynomial order of the density dependence.
    sigma : float
        Atom smearing width (Å).
    metadata : dict, optional
        Training record (frames, rs range, validation scores, ridge strength ...).

    Examples
    --------
    >>> corr = FourierCorrection(np.zeros(3 * 4 * 2), k_max=6.0, n_radial=4, channels=CHANNELS,
    ...                          rs_ref=1.5, rs_order=1)
    >>> ds = grid.make_dataset(np.eye(3) * 3, [[0, 0, 0]], [1], np.full((8, 8, 8), 0.3))
    >>> round(float(corr(ds)["elf"].max()), 6)   # zero weights: the identity
    0.3
    """

    def __init__(
        self,
        weights,
        *,
        k_max: float,
        n_radial: int,
        channels: Sequence[str],
        rs_ref: float,
        rs_order: int,
        sigma: float = ATOM_SIGMA,
        metadata: Mapping[str, Any] | None = None,
    ):
        self.k_max = float(k_max)
        self.n_radial = int(n_radial)
        self.channels = tuple(str(c) for c in channels)
        self.rs_ref = float(rs_ref)
        self.rs_order = int(rs_order)
        self.sigma = float(sigma)
        self.metadata = dict(metadata or {})
        unknown = [c for c in self.channels if c not in CHANNELS]
        if unknown:
            raise ModelError(f"unknown correction channel(s) {unknown}; known: {CHANNELS}")
        if not (self.k_max > 0 and self.n_radial >= 1 and self.rs_order >= 0):
            raise ModelError("a Fourier correction needs k_max > 0, n_radial >= 1 and rs_order >= 0")
        self.weights = np.asarray(weights, dtype=float).reshape(-1)
        if self.weights.size != self.n_features or not np.all(np.isfinite(self.weights)):
            raise ModelError(
                f"the correction has {self.weights.size} weights (or non-finite ones); "
                f"{self.n_features} expected for its channels, radial basis and rs order"
            )

    @property
    def n_features(self) -> int:
        return len(self.channels) * self.n_radial * (self.rs_order + 1)

    @property
    def name(self) -> str:
        return str(self.metadata.get("name", "fourier-ridge"))

    def __repr__(self) -> str:
        return (
            f"FourierCorrection(name={self.name!r}, k_max={self.k_max:.3g}, n_radial={self.n_radial}, "
            f"channels={self.channels}, rs_order={self.rs_order})"
        )

    def _design(self, ds: xr.Dataset, field: str = keys.ELF):
        return design_matrix(
            ds,
            k_max=self.k_max,
            n_radial=self.n_radial,
            channels=self.channels,
            rs_ref=self.rs_ref,
            rs_order=self.rs_order,
            sigma=self.sigma,
            field=field,
        )

    def predicted_residual(self, ds: xr.Dataset, field: str = keys.ELF) -> np.ndarray:
        """The predicted long-wavelength residual on the Dataset's grid (before clipping)."""
        x, mask, _ = self._design(ds, field)
        shape = grid.grid_shape(ds)
        coeffs = np.zeros((shape[0], shape[1], shape[2] // 2 + 1), dtype=np.complex128)
        coeffs[mask] = x @ self.weights
        return fourier.from_fourier_coefficients(coeffs, shape)

    def __call__(self, ds: xr.Dataset, *, field: str = keys.ELF, keep_uncorrected: bool = False) -> xr.Dataset:
        """Return ``ds`` with ``field`` replaced by ``clip(field + predicted residual, 0, 1)``.

        The attribute ``correction`` records the correction's name; with ``keep_uncorrected`` the input is
        kept as ``elf_pred``.
        """
        if not isinstance(ds, xr.Dataset) or field not in ds:
            raise GridError(f"the Fourier correction needs an elfviz Dataset with a '{field}' field")
        rs = _frame_rs(ds)
        rs_range = self.metadata.get("rs_range")
        if rs_range and not (rs_range[0] - 0.05 <= rs <= rs_range[1] + 0.05):
            log.warning(
                "rs = %.3f bohr is outside the correction's training range %s; its density dependence "
                "is extrapolated",
                rs,
                rs_range,
            )
        original = ds[field].transpose(*grid.GRID_DIMS).values.astype(np.float64)
        corrected = np.clip(original + self.predicted_residual(ds, field), 0.0, 1.0)
        out = grid.with_field(ds, field, corrected, attrs=dict(ds[field].attrs))
        if keep_uncorrected:
            out = grid.with_field(out, "elf_pred", original)
        out.attrs["correction"] = f"{self.name} (k_max={self.k_max:.3f} 1/angstrom)"
        return out

    # -- persistence
    def to_dict(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "format_version": FORMAT_VERSION,
            "k_max": self.k_max,
            "n_radial": self.n_radial,
            "channels": list(self.channels),
            "rs_ref": self.rs_ref,
            "rs_order": self.rs_order,
            "sigma": self.sigma,
            "weights": self.weights.tolist(),
            "metadata": self.metadata,
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> FourierCorrection:
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise ModelError(f'not an elfviz Fourier correction (expected "format": "{FORMAT}")')
        if int(data.get("format_version", 0)) > FORMAT_VERSION:
            raise ModelError(
                f"the correction file has format version {data['format_version']}; this elfviz "
                f"reads up to {FORMAT_VERSION}: upgrade elfviz"
            )
        try:
            return cls(
                data["weights"],
                k_max=data["k_max"],
                n_radial=data["n_radial"],
                channels=data["channels"],
                rs_ref=data["rs_ref"],
                rs_order=data["rs_order"],
                sigma=data.get("sigma", ATOM_SIGMA),
                metadata=data.get("metadata"),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ModelError(f"the correction file is incomplete or malformed ({exc!r})") from None

    @classmethod
    def load(cls, path) -> FourierCorrection:
        """Read a correction written by :func:`elfviz.model.training.correction_fit.save_correction`."""
        path = Path(path)
        if not path.exists():
            raise ModelError(f"correction file {path} does not exist")
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError) as exc:
            raise ModelError(f"{path} is not a readable JSON correction file ({exc})") from None
        return cls.from_dict(data)


BUNDLED_DIR = Path(__file__).resolve().parent / "weights" / "corrections"
"""Folder of the corrections shipped with elfviz (one JSON per model version they were fitted for)."""


def bundled_correction(model_version: str, *, folder: str | Path | None = None) -> FourierCorrection:
    """The shipped correction fitted on predictions of ``model_version`` (e.g. ``"elfnet-fft@1.6"``).

    Use it as ``Predictor(correction=bundled_correction(Predictor().version))``.

    Raises
    ------
    ModelError
        If no shipped correction was fitted for that model version (a correction is only valid for the
        predictions it was fitted on; fit one with ``elfviz spectra --dataset DIR --fit-correction``).
    """
    folder = BUNDLED_DIR if folder is None else Path(folder)
    available = []
    for path in sorted(folder.glob("*.json")) if folder.is_dir() else []:
        corr = FourierCorrection.load(path)
        found = corr.metadata.get("model_version", "")
        available.append(found)
        if found == model_version:
            return corr
    raise ModelError(
        f"no shipped Fourier correction for model {model_version!r} (available: {available or 'none'}); "
        "fit one with `elfviz spectra --dataset DIR --fit-correction --save-correction FILE.json`"
    )


def load_correction(spec: str | Path, model_version: str) -> FourierCorrection:
    """The correction named by ``spec`` for predictions of ``model_version``.

    Parameters
    ----------
    spec : str or path
        ``"bundled"`` for the shipped correction of ``model_version``, or a JSON file written by
        :meth:`FourierCorrection.save`.
    model_version : str
        Version of the model whose predictions will be corrected (e.g. ``"elfnet-fft@1.6"``).

    Raises
    ------
    ModelError
        If there is no shipped correction for that version, the file cannot be read, or the file was fitted
        on the predictions of another model version (a correction only removes the residuals of the model
        it was fitted on).
    """
    if str(spec) == "bundled":
        return bundled_correction(model_version)
    corr = FourierCorrection.load(spec)
    fitted_for = corr.metadata.get("model_version")
    if fitted_for and fitted_for != model_version:
        raise ModelError(
            f"the correction {spec} was fitted on predictions of {fitted_for}, not {model_version}; "
            "fit one for this model with `elfviz spectra --dataset DIR --fit-correction --save-correction FILE`"
        )
    return corr
