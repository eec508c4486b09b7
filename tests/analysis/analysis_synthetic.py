"""Synthetic fields and frames with known spectral content for the analysis tests."""

from __future__ import annotations

import numpy as np

from elfviz import grid
from elfviz.grid import fourier

TRICLINIC = np.array([[4.0, 0.0, 0.0], [1.3, 3.6, 0.0], [-0.7, 0.9, 4.4]])
"""A strongly skewed cell (Å): no two lattice vectors orthogonal."""


def plane_wave(cell, shape, m, amplitude=1.0, phase=0.3):
    """``A cos(G.r + phase)`` with ``G = m1 b1 + m2 b2 + m3 b3`` sampled on the elfviz grid."""
    points = grid.grid_points_cartesian(cell, shape)
    g = np.asarray(m, dtype=float) @ grid.reciprocal_cell(cell)
    return amplitude * np.cos(points @ g + phase), float(np.linalg.norm(g))


def gaussian_spectrum_field(cell, shape, s, seed=0):
    """A real field with power exactly ``exp(-|G|^2 s^2)`` per mode (random phases).

    Its autocorrelation is the periodic sum of ``exp(-d^2 / 4 s^2)`` (up to normalisation), so its
    e-folding correlation length is ``2 s`` when the cell is much larger than ``s``.
    """
    rng = np.random.default_rng(seed)
    noise = np.fft.rfftn(rng.normal(size=shape))
    phases = noise / np.abs(noise)
    g = fourier.rfft_gnorm(cell, shape)
    coeffs = phases * np.exp(-0.5 * (g * s) ** 2)
    coeffs[0, 0, 0] = 0.0
    return np.fft.irfftn(coeffs, s=shape, axes=(0, 1, 2))


def random_positions(cell, n, seed=0, min_distance=0.9):
    """``n`` random positions (Å) in ``cell`` with no two atoms (or images) closer than ``min_distance``."""
    rng = np.random.default_rng(seed)
    cell = np.asarray(cell, dtype=float)
    frac = []
    while len(frac) < n:
        trial = rng.random(3)
        ok = True
        for f in frac:
            d = trial - f
            d -= np.rint(d)
            if np.linalg.norm(d @ cell) < min_distance:
                ok = False
                break
        if ok:
            frac.append(trial)
    return np.asarray(frac) @ cell


def smeared_atoms(cell, positions, shape, width):
    """Periodic sum of normalised Gaussians of ``width`` (Å) at the atoms, on the grid (Å^-3)."""
    g = fourier.rfft_gnorm(cell, shape)
    s = fourier.structure_factor(positions, cell, shape)
    coeffs = s * np.exp(-0.5 * (g * width) ** 2) / grid.cell_volume(cell)
    return fourier.from_fourier_coefficients(coeffs, shape)


def sharp_prediction(cell, positions, shape):
    """The synthetic "model": a sharp, bounded function of the atoms (values in [0.1, 0.8])."""
    sharp = smeared_atoms(cell, positions, shape, 0.35)
    return 0.1 + 0.7 * sharp / (sharp + 1.0)


class FakePredictor:
    """Stands in for ``elfviz.model.Predictor`` (same ``predict(structure, like=...)`` and ``version``)."""

    version = "synthetic@0"
    device = "cpu"

    def __init__(self):
        self.calls = 0

    def predict(self, structure, *, like=None, **_):
        self.calls += 1
        target = like if like is not None else structure
        values = sharp_prediction(target["cell"].values, target["positions"].values, grid.grid_shape(target))
        out = grid.with_field(grid.structure_only(target), "elf", values)
        out.attrs["source"] = f"model:{self.version}"
        return out


def synthetic_pair(
    seed, *, scale=1.0, n_atoms=8, shape=(16, 16, 16), pressure=None, amplitude=0.08, cell=None
):
    """A (reference, prediction) pair whose residual is a long-wavelength filter of the atom density.

    The prediction is a sharp, bounded function of the atoms; the reference adds a smooth term, a fixed
    low-pass filter of the atom density (wavelengths > ~2 Å), so a radial Fourier filter of the structure
    can learn the residual exactly up to the hat-basis approximation.
    """
    cell = np.eye(3) * 4.2 * scale if cell is None else np.asarray(cell)
    positions = random_positions(cell, n_atoms, seed)
    pred = sharp_prediction(cell, positions, shape)
    smooth = smeared_atoms(cell, positions, shape, 1.1)
    smooth = (smooth - smooth.mean()) / max(float(np.abs(smooth - smooth.mean()).max()), 1e-12)
    ref = np.clip(pred + amplitude * smooth + 0.01, 0.0, 1.0)
    attrs = {"frame_id": f"syn-{seed}"}
    if pressure is not None:
        attrs["pressure_gpa"] = pressure
    ref_ds = grid.make_dataset(cell, positions, [1] * n_atoms, ref, source="dft:synthetic", attrs=attrs)
    pred_ds = grid.make_dataset(cell, positions, [1] * n_atoms, pred, source="model:synthetic")
    return ref_ds, pred_ds
