"""A long-wavelength head trained with the network: ``ELF(r) = network(r) + Σ_f w_f Φ_f(r)``.

The features ``Φ_f`` are those of the post-hoc Fourier correction (:func:`elfviz.model.correction.design_matrix`):
for every wavevector with ``|G| < k_max``, hat functions of ``|G|`` times powers of ``(rs - rs_ref)`` times the
Fourier coefficients of three fields, the smeared atom density and the network's own ELF and ELF². Here the
two ELF fields are the network's prediction on a **coarse grid** of the cell (spacing <= ``spacing`` Å, odd
sizes; its Nyquist wavevector lies above ``k_max``), so training can refresh them from the network every few
epochs, and prediction computes exactly the same features for any grid. The weights ``w`` are trained with the
network's own (:mod:`elfviz.model.training.atom_ablation`, variants ``<base>+lowk``), not fitted afterwards.

Examples
--------
>>> import numpy as np
>>> cell = np.eye(3) * 4.0
>>> coarse_shape(cell, 0.25)
(17, 17, 17)
>>> spec = LowKSpec(n_radial=4, rs_order=1)
>>> positions = [[0.0, 0.0, 0.0], [0.74, 0.0, 0.0]]
>>> modes, hkl = mode_design(np.full((17, 17, 17), 0.5), positions, [1, 1], cell, spec)
>>> modes.shape[1] == spec.n_features == 3 * 4 * 2, hkl.shape[1]
(True, 3)
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from ..grid import as_cell, check_shape, fractional_axes
from ..grid.fourier import frequency_indices
from .correction import CHANNELS, K_MAX_DEFAULT, design_matrix

__all__ = ["LowKSpec", "coarse_shape", "feature_fields", "features_at", "head_field", "mode_design"]


@dataclass(frozen=True)
class LowKSpec:
    """What the head sees.

    Attributes
    ----------
    k_max : float
        Largest ``|G|`` (Å⁻¹); default 2π/0.74 Å, wavelengths longer than the H-H bond.
    n_radial : int
        Hat functions of ``|G|`` on ``[0, k_max)``.
    channels : tuple of str
        Fields whose low-``|G|`` modes are filtered (``atoms``, ``elf``, ``elf2``).
    rs_ref : float
        Reference Wigner-Seitz radius (bohr) of the density polynomial.
    rs_order : int
        Highest power of ``rs - rs_ref``.
    spacing : float
        Largest spacing (Å) of the coarse grid on which the network's ELF is taken.
    """

    k_max: float = K_MAX_DEFAULT
    n_radial: int = 8
    channels: tuple[str, ...] = CHANNELS
    rs_ref: float = 1.45
    rs_order: int = 2
    spacing: float = 0.25

    def __post_init__(self):
        object.__setattr__(self, "channels", tuple(self.channels))
        if not (self.k_max > 0 and self.spacing > 0 and self.n_radial >= 1 and self.rs_order >= 0):
            raise ValueError("k_max, spacing must be positive; n_radial >= 1; rs_order >= 0")
        if math.pi / self.spacing <= self.k_max:
            raise ValueError(f"a {self.spacing} Å coarse grid cannot hold |G| up to {self.k_max} Å^-1")

    @property
    def n_features(self) -> int:
        return len(self.channels) * self.n_radial * (self.rs_order + 1)

    def to_dict(self) -> dict:
        return {"k_max": self.k_max, "n_radial": self.n_radial, "channels": list(self.channels),
                "rs_ref": self.rs_ref, "rs_order": self.rs_order, "spacing": self.spacing}

    @classmethod
    def from_dict(cls, data: dict) -> LowKSpec:
        return cls(**{**data, "channels": tuple(data["channels"])})


def coarse_shape(cell, spacing: float) -> tuple[int, int, int]:
    """Odd grid sizes with spacing <= ``spacing`` Å along each lattice vector (odd: no Nyquist plane)."""
    lengths = np.linalg.norm(as_cell(cell), axis=1)
    sizes = np.ceil(lengths / spacing).astype(int)
    return tuple(int(n + 1 - n % 2) for n in sizes)


def mode_design(coarse_elf: np.ndarray, positions, numbers, cell, spec: LowKSpec) -> tuple[np.ndarray, np.ndarray]:
    """The head's features mode by mode: ``(X, hkl)``, ``X`` complex ``(modes, n_features)`` and the modes'
    Miller indices ``hkl`` ``(modes, 3)`` (the ``rfftn`` half space), from the network's ELF on a coarse grid."""
    from ..grid.schema import make_dataset

    ds = make_dataset(as_cell(cell), np.asarray(positions, float).reshape(-1, 3), np.asarray(numbers),
                      elf=np.asarray(coarse_elf, dtype=float))
    x, mask, _ = design_matrix(ds, k_max=spec.k_max, n_radial=spec.n_radial, channels=spec.channels,
                               rs_ref=spec.rs_ref, rs_order=spec.rs_order)
    ha, hb, hc = frequency_indices(np.shape(coarse_elf), real=True)
    i, j, k = np.nonzero(mask)
    return x, np.stack([ha[i], hb[j], hc[k]], axis=1)


def _holds_modes(hkl: np.ndarray, shape: tuple[int, int, int]) -> bool:
    """Whether a grid of ``shape`` holds every mode ``hkl`` below its Nyquist plane (an FFT then has room)."""
    top = np.abs(hkl).max(axis=0) if len(hkl) else np.zeros(3, int)
    return all(2 * t < n for t, n in zip(top, shape, strict=True))


def _check_room(hkl: np.ndarray, shape: Sequence[int]) -> tuple[int, int, int]:
    shape = check_shape(shape)
    if not _holds_modes(hkl, shape):
        top = np.abs(hkl).max(axis=0)
        raise ValueError(f"a {shape} grid is too coarse for modes up to {tuple(int(t) for t in top)}")
    return shape


def feature_fields(x: np.ndarray, hkl: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Every feature as a real field on a grid of ``shape``, ``(n_features, na, nb, nc)`` (by inverse FFT)."""
    na, nb, nc = _check_room(hkl, shape)
    coeffs = np.zeros((x.shape[1], na, nb, nc // 2 + 1), dtype=np.complex128)
    coeffs[:, hkl[:, 0] % na, hkl[:, 1] % nb, hkl[:, 2]] = x.T
    return np.fft.irfftn(coeffs * float(na * nb * nc), s=(na, nb, nc), axes=(1, 2, 3))


def features_at(x: np.ndarray, hkl: np.ndarray, fractional: np.ndarray) -> np.ndarray:
    """The same features at arbitrary points (fractional coordinates ``(P, 3)``), ``(P, n_features)``: the
    Fourier series summed directly (the tests check it against :func:`feature_fields`)."""
    fractional = np.asarray(fractional, dtype=float).reshape(-1, 3)
    # rfftn's half space: a mode with l > 0 stands for itself and its conjugate at -G
    weight = np.where(hkl[:, 2] > 0, 2.0, 1.0)
    phase = np.exp(2j * np.pi * (fractional @ hkl.T.astype(float)))  # (P, modes)
    return (phase @ (weight[:, None] * x)).real


def head_field(weights: np.ndarray, x: np.ndarray, hkl: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """``Σ_f w_f Φ_f`` on a grid of ``shape``: one inverse FFT, or, on a grid too coarse to hold every mode, the
    same Fourier series summed at its points (:func:`features_at`; no aliasing either way)."""
    shape = check_shape(shape)
    if not _holds_modes(hkl, shape):
        fractional = np.stack(np.meshgrid(*fractional_axes(shape), indexing="ij"), axis=-1).reshape(-1, 3)
        coefficients = (x @ np.asarray(weights, dtype=float))[:, None]
        return features_at(coefficients, hkl, fractional)[:, 0].reshape(shape)
    na, nb, nc = shape
    coeffs = np.zeros((na, nb, nc // 2 + 1), dtype=np.complex128)
    coeffs[hkl[:, 0] % na, hkl[:, 1] % nb, hkl[:, 2]] = x @ np.asarray(weights, dtype=float)
    return np.fft.irfftn(coeffs * float(na * nb * nc), s=(na, nb, nc), axes=(0, 1, 2))

