"""Periodic Fourier tools on the data layer's grid (NumPy only).

Conventions
-----------
Grid point ``n = (i, j, k)`` sits at fractional coordinates ``n / N`` (``N = (na, nb, nc)``), Cartesian
``r_n = (n / N) @ cell`` (Å). The reciprocal grid holds ``G_h = h @ B`` with integer ``h`` in NumPy's FFT
order and ``B = elfviz.grid.reciprocal_cell(cell)`` (rows, 2π included, Å^-1). Fourier transforms use
``F(G) = ∫ f(r) exp(-i G·r) d^3r`` so that a periodic sum of a kernel ``K`` centred on atom sites is

    f(r) = Σ_j Σ_L K(r - R_j - L) = (1/V) Σ_G K̂(G) S(G) exp(i G·r),    S(G) = Σ_j exp(-i G·R_j).

On the grid this is ``(N_tot / V) * ifftn(K̂ S)``, exact whenever ``K̂`` is negligible beyond the grid's
Nyquist frequency (see :func:`nyquist_g` and :func:`oversampling_for_width`).

Spectra and the Fourier corrections use per-point normalised coefficients of real transforms instead
(:func:`fourier_coefficients`): ``F(G) = (1/N) Σ_r f(r) exp(-i G·r)``, so that ``f(r) = Σ_G F(G) exp(i G·r)``
and Parseval reads ``mean(f²) = Σ_G |F(G)|²``. ``rfftn`` stores half of the modes along the last axis;
:func:`rfft_multiplicity` says how many full-spectrum modes each stored coefficient stands for (1 or 2), and
:func:`rfft_gnorm` gives their ``|G|`` from the reciprocal metric (any cell shape). Index ``(m1, m2, m3)`` is
the plane wave with ``G = m1 b1 + m2 b2 + m3 b3`` for NumPy's signed FFT frequencies (on an even axis the
Nyquist plane is ``-n/2`` on the first two axes and ``+n/2`` on the last).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence

import numpy as np

from ..errors import GridError
from . import as_cell, cart_to_frac, check_shape, reciprocal_cell


def frequency_indices(
    shape: Sequence[int], *, real: bool = False
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Integer Miller indices of the FFT grid along a, b, c (NumPy FFT order).

    Parameters
    ----------
    shape : (int, int, int)
        Grid shape.
    real : bool
        If True, the last axis holds only the ``nc // 2 + 1`` non-negative frequencies of ``rfftn``.

    Examples
    --------
    >>> [h.tolist() for h in frequency_indices((4, 2, 4), real=True)]
    [[0, 1, -2, -1], [0, -1], [0, 1, 2]]
    """
    na, nb, nc = check_shape(shape)
    ha = np.rint(np.fft.fftfreq(na) * na).astype(np.int64)
    hb = np.rint(np.fft.fftfreq(nb) * nb).astype(np.int64)
    hc = (np.arange(nc // 2 + 1) if real else np.rint(np.fft.fftfreq(nc) * nc)).astype(np.int64)
    return ha, hb, hc


def g_vectors(cell, shape: Sequence[int], *, real: bool = False) -> np.ndarray:
    """Cartesian reciprocal vectors G (Å^-1) of the FFT grid, array ``(na, nb, nc or nc//2+1, 3)``.

    Examples
    --------
    >>> g = g_vectors(np.eye(3) * 2 * np.pi, (4, 4, 4))
    >>> g[1, 0, 0].tolist(), g[-1, 0, 0].tolist()
    ([1.0, 0.0, 0.0], [-1.0, 0.0, 0.0])
    """
    recip = reciprocal_cell(cell)
    ha, hb, hc = frequency_indices(shape, real=real)
    return (
        ha[:, None, None, None] * recip[0]
        + hb[None, :, None, None] * recip[1]
        + hc[None, None, :, None] * recip[2]
    )


def nyquist_g(cell, shape: Sequence[int]) -> float:
    """Radius (Å^-1) of the largest sphere of G vectors inside the grid's frequency box.

    The face ``h_a = N_a / 2`` of the box is the plane ``G·a_a = π N_a``, at distance ``π N_a / |a_a|``
    (π over the grid step along a) from the origin; the smallest of the three is returned. A kernel whose transform is
    negligible beyond this radius is represented exactly on the grid.
    """
    lengths = np.linalg.norm(as_cell(cell), axis=1)
    na = np.asarray(check_shape(shape), dtype=float)
    return float(np.min(np.pi * na / lengths))


def oversampling_for_width(
    cell, shape: Sequence[int], width: float, *, degree: int = 0, tolerance: float = 1e-8
) -> int:
    """Smallest integer factor m such that a Gaussian of width ``width`` (Å) is resolved on ``m * shape``.

    The transform of ``(r/s)^l exp(-r^2 / 2 s^2)`` falls like ``(sG)^l exp(-(sG)^2 / 2)``; m is chosen so
    that this is below ``tolerance`` at the Nyquist radius of the refined grid.

    Examples
    --------
    >>> oversampling_for_width(np.eye(3) * 4.0, (32, 32, 32), 0.3)
    1
    >>> oversampling_for_width(np.eye(3) * 4.0, (8, 8, 8), 0.3)
    4
    """
    if width <= 0:
        raise ValueError("kernel width must be positive (Å)")
    g0 = nyquist_g(cell, shape)
    for m in range(1, 65):
        x = width * g0 * m
        if x > 1 and degree * math.log(x) - 0.5 * x * x < math.log(tolerance):
            return m
    return 64


def structure_factor(
    positions, cell, shape: Sequence[int], *, weights=None, real: bool = True, atom_chunk: int = 256
) -> np.ndarray:
    """Periodic structure factor ``S(G) = Σ_j w_j exp(-i G·R_j)`` on the FFT grid's G vectors.

    Separable in fractional coordinates (any cell shape): ``exp(-2πi h·f_j)`` factorises per axis, so the
    cost is ``N_atoms * na * nb * (nc/2 + 1)`` complex multiply-adds done as one matrix product per chunk
    of atoms. This is elfviz's one NumPy implementation (``elfviz.grid.fourier`` uses it); the model's
    torch version, :func:`elfviz.model.descriptors.structure_factor_torch`, is tested against it.

    Parameters
    ----------
    positions : array_like, (N, 3)
        Cartesian positions, Å.
    cell : array_like, (3, 3)
        Lattice vectors as rows, Å.
    shape : (int, int, int)
        Grid shape.
    weights : array_like, (N,), optional
        Weight of each site (default 1).
    real : bool
        Return only the ``rfftn`` half of the last axis (default).
    atom_chunk : int
        Atoms per matrix product (bounds the temporary ``(atom_chunk, na * nb)`` array).

    Returns
    -------
    numpy.ndarray, complex128
        ``(na, nb, nc // 2 + 1)`` (or ``(na, nb, nc)``).

    Examples
    --------
    >>> s = structure_factor([[0, 0, 0], [1, 0, 0]], np.eye(3) * 2.0, (4, 4, 4))
    >>> [round(float(v), 6) for v in (s[0, 0, 0].real, abs(s[1, 0, 0]))]   # two atoms half a cell apart
    [2.0, 0.0]
    """
    frac = cart_to_frac(np.asarray(positions, dtype=float).reshape(-1, 3), cell)
    ha, hb, hc = frequency_indices(shape, real=real)
    w = np.ones(len(frac)) if weights is None else np.asarray(weights, dtype=float).reshape(-1)
    w = np.broadcast_to(w, (len(frac),))  # one weight per site (or one for all)
    chunk = max(int(atom_chunk), 1)
    out = None
    for start in range(0, max(len(frac), 1), chunk):  # one pass for no atoms: S = 0
        f, wj = frac[start : start + chunk], w[start : start + chunk]
        ea = np.exp(-2j * np.pi * f[:, 0:1] * ha[None, :]) * wj[:, None]
        eb = np.exp(-2j * np.pi * f[:, 1:2] * hb[None, :])
        ec = np.exp(-2j * np.pi * f[:, 2:3] * hc[None, :])
        ab = (ea[:, :, None] * eb[:, None, :]).reshape(len(f), len(ha) * len(hb))
        part = ab.T @ ec
        out = part if out is None else out + part
    return out.reshape(len(ha), len(hb), len(hc))


def convolve_sites(
    positions,
    cell,
    shape: Sequence[int],
    kernel_ft: Callable[[np.ndarray], np.ndarray],
    *,
    weights=None,
    oversample: int = 1,
) -> np.ndarray:
    """Periodic sum of a radial kernel centred on every atom, sampled on the grid, by FFT.

    ``f(r_n) = Σ_j w_j Σ_L K(|r_n - R_j - L|)`` computed as ``(N_tot/V) irfftn(K̂(|G|) S(G))``.

    Parameters
    ----------
    positions, cell, shape, weights
        As in :func:`structure_factor` (Å).
    kernel_ft : callable
        ``K̂(|G|)``: the 3-D Fourier transform of the kernel (convention ``∫ K e^{-iG·r}``) as a function
        of ``|G|`` in Å^-1, vectorised over arrays.
    oversample : int
        Compute on an ``oversample``-times finer grid and keep every ``oversample``-th point (controls
        aliasing for kernels narrower than the grid can represent; see :func:`oversampling_for_width`).

    Returns
    -------
    numpy.ndarray, float64, (na, nb, nc)

    Examples
    --------
    >>> s = 0.5  # Gaussian exp(-r^2 / 2 s^2), FT (2π)^{3/2} s^3 exp(-s^2 G^2 / 2)
    >>> ft = lambda g: (2 * np.pi) ** 1.5 * s**3 * np.exp(-0.5 * (s * g) ** 2)
    >>> f = convolve_sites([[0, 0, 0]], np.eye(3) * 6.0, (24, 24, 24), ft)
    >>> [round(float(v), 6) for v in (f[0, 0, 0], f[2, 0, 0], np.exp(-0.5))]   # r = 0.5 Å = s
    [1.0, 0.606531, 0.606531]
    """
    shape = check_shape(shape)
    fine = tuple(int(n * oversample) for n in shape)
    cell = as_cell(cell)
    s_of_g = structure_factor(positions, cell, fine, weights=weights)
    gnorm = np.linalg.norm(g_vectors(cell, fine, real=True), axis=-1)
    volume = abs(np.linalg.det(cell))
    field = np.fft.irfftn(kernel_ft(gnorm) * s_of_g, s=fine, axes=(0, 1, 2)) * (math.prod(fine) / volume)
    if oversample > 1:
        field = field[::oversample, ::oversample, ::oversample]
    return np.ascontiguousarray(field)


def gradient(field, cell) -> np.ndarray:
    """Gradient (units of field per Å) of a periodic field on the grid, by FFT.

    Exact for band-limited fields; the Nyquist planes of even-sized axes are dropped (their derivative is
    not defined for a real field).

    Returns
    -------
    numpy.ndarray, (na, nb, nc, 3)
        Cartesian components ``∂f/∂x, ∂f/∂y, ∂f/∂z``.

    Examples
    --------
    >>> cell = np.eye(3) * 2 * np.pi
    >>> x = np.arange(16) / 16 * 2 * np.pi
    >>> f = np.sin(x)[:, None, None] * np.ones((16, 16, 16))
    >>> bool(np.allclose(gradient(f, cell)[..., 0], np.cos(x)[:, None, None]))
    True
    """
    field = np.asarray(field, dtype=float)
    shape = check_shape(field.shape)
    g = g_vectors(cell, shape, real=True)
    ha, hb, hc = frequency_indices(shape, real=True)
    keep = np.ones(g.shape[:3], dtype=bool)
    if shape[0] % 2 == 0:
        keep[ha == -shape[0] // 2, :, :] = False
    if shape[1] % 2 == 0:
        keep[:, hb == -shape[1] // 2, :] = False
    if shape[2] % 2 == 0:
        keep[:, :, hc == shape[2] // 2] = False
    spectrum = np.fft.rfftn(field) * keep
    return np.stack(
        [np.fft.irfftn(1j * g[..., d] * spectrum, s=shape, axes=(0, 1, 2)) for d in range(3)], axis=-1
    )


def laplacian(field, cell) -> np.ndarray:
    """Laplacian (field per Å^2) of a periodic field on the grid, by FFT: ``-|G|^2 F(G)``."""
    field = np.asarray(field, dtype=float)
    shape = check_shape(field.shape)
    g2 = np.sum(g_vectors(cell, shape, real=True) ** 2, axis=-1)
    return np.fft.irfftn(-g2 * np.fft.rfftn(field), s=shape, axes=(0, 1, 2))


# ----------------------------------------------------------------------------- real transforms (spectra)
def rfft_gnorm(cell, shape: Sequence[int]) -> np.ndarray:
    """``|G|`` in Å^-1 of every ``rfftn`` coefficient, shape ``(na, nb, nc//2 + 1)``.

    Same modes as :func:`elfviz.grid.fourier.g_vectors` with ``real=True``, from the reciprocal metric (no
    (..., 3) array).
    """
    recip = reciprocal_cell(cell)
    metric = recip @ recip.T
    ha, hb, hc = (h.astype(float) for h in frequency_indices(shape, real=True))
    m1, m2, m3 = ha[:, None, None], hb[None, :, None], hc[None, None, :]
    g2 = (
        metric[0, 0] * m1**2
        + metric[1, 1] * m2**2
        + metric[2, 2] * m3**2
        + 2 * metric[0, 1] * m1 * m2
        + 2 * metric[0, 2] * m1 * m3
        + 2 * metric[1, 2] * m2 * m3
    )
    return np.sqrt(np.maximum(g2, 0.0))


def rfft_multiplicity(shape: Sequence[int]) -> np.ndarray:
    """How many full-spectrum modes each ``rfftn`` coefficient represents, shape ``(1, 1, nc//2 + 1)``.

    The ``m3 = 0`` plane (and ``m3 = nc/2`` for even ``nc``) is stored completely and counts once; every
    other stored coefficient also stands for its complex conjugate at ``-G`` and counts twice.

    Examples
    --------
    >>> rfft_multiplicity((4, 4, 6)).ravel().tolist()
    [1.0, 2.0, 2.0, 1.0]
    >>> rfft_multiplicity((4, 4, 5)).ravel().tolist()
    [1.0, 2.0, 2.0]
    """
    nc = check_shape(shape)[2]
    weight = np.full(nc // 2 + 1, 2.0)
    weight[0] = 1.0
    if nc % 2 == 0:
        weight[-1] = 1.0
    return weight[None, None, :]


def fourier_coefficients(values: np.ndarray) -> np.ndarray:
    """Per-point normalised Fourier coefficients ``F(G) = rfftn(f) / N`` (complex128)."""
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim != 3:
        raise GridError(f"expected a 3-D field on the (a, b, c) grid, got shape {arr.shape}")
    return np.fft.rfftn(arr) / arr.size


def from_fourier_coefficients(coeffs: np.ndarray, shape: Sequence[int]) -> np.ndarray:
    """Inverse of :func:`fourier_coefficients`: the real field on ``shape``."""
    shape = check_shape(shape)
    return np.fft.irfftn(coeffs * float(np.prod(shape)), s=shape, axes=(0, 1, 2))
