"""Reciprocal-space bookkeeping shared by the spectra and the Fourier corrections.

All transforms here are real FFTs (``numpy.fft.rfftn``) of a periodic field sampled on the elfviz grid
(point ``(i, j, k)`` at fractional coordinates ``(i/na, j/nb, k/nc)``). Index ``(m1, m2, m3)`` of the
transform is the plane wave ``exp(i G.r)`` with ``G = m1 b1 + m2 b2 + m3 b3``, where ``b_i`` are the
reciprocal lattice vectors including the factor 2π (:func:`elfviz.grid.reciprocal_cell`) and ``m_i`` are
the *signed* FFT frequencies (``-n//2 .. (n-1)//2``; numpy's conventions, so on an even axis the
Nyquist plane, which is the same mode as its alias at ``+n/2``, is taken as ``-n/2`` on the first two
axes and ``+n/2`` on the last). The cell may have any shape: ``|G|`` is computed
from the full reciprocal metric, not from the grid indices.

The real transform stores only half of the modes along the last axis; :func:`rfft_multiplicity` gives
how many full-spectrum modes each stored coefficient stands for (1 or 2), so sums over the half spectrum
equal sums over all modes.

Conventions
-----------
Fourier coefficients are normalised per grid point, ``F(G) = (1/N) sum_r f(r) exp(-i G.r)``, so that
``f(r) = sum_G F(G) exp(i G.r)`` and Parseval reads ``mean(f^2) = sum_G |F(G)|^2``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .. import fourier, grid
from ..errors import GridError


def rfft_gnorm(cell, shape: Sequence[int]) -> np.ndarray:
    """``|G|`` in Å^-1 of every ``rfftn`` coefficient, shape ``(na, nb, nc//2 + 1)``.

    Same modes as :func:`elfviz.fourier.g_vectors` with ``real=True``, from the reciprocal metric (no
    (..., 3) array).
    """
    recip = grid.reciprocal_cell(cell)
    metric = recip @ recip.T
    ha, hb, hc = (h.astype(float) for h in fourier.frequency_indices(shape, real=True))
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
    nc = grid.check_shape(shape)[2]
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
    shape = grid.check_shape(shape)
    return np.fft.irfftn(coeffs * float(np.prod(shape)), s=shape, axes=(0, 1, 2))


def structure_factor(cell, positions, shape: Sequence[int]) -> np.ndarray:
    """Structure factor ``S(G) = sum_j exp(-i G.R_j)`` on the ``rfftn`` grid of ``shape`` (complex128).

    :func:`elfviz.fourier.structure_factor` with this module's argument order (cell first); any cell shape,
    ``O(N_atoms * N_grid)``. The phase convention matches :func:`fourier_coefficients` (a unit point at
    ``R_j`` sampled on the grid has coefficients ``exp(-i G.R_j) / N``).

    Examples
    --------
    >>> s = structure_factor(np.eye(3) * 3.0, [[0.0, 0.0, 0.0], [1.5, 0.0, 0.0]], (4, 4, 4))
    >>> round(float(abs(s[0, 0, 0])), 6), round(float(abs(s[1, 0, 0])), 6)   # the two atoms cancel at G = b1
    (2.0, 0.0)
    """
    return fourier.structure_factor(positions, cell, shape)
