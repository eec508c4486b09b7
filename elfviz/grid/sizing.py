"""Grid shapes: FFT-friendly sizes, the shape for a spacing, fractional axes, periodic interpolation."""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from ..errors import GridError
from .cell import as_cell

_FFT_PRIMES = (2, 3, 5)


def is_fft_friendly(n: int) -> bool:
    """Whether the grid size ``n`` has no prime factors other than 2, 3 and 5.

    FFTs of such sizes are fast, and they are the only sizes Quantum ESPRESSO accepts for its FFT grid
    (``nr1, nr2, nr3``).

    Parameters
    ----------
    n : int
        Number of grid points along one axis.

    Returns
    -------
    bool
        True for 1, 2, 3, 4, 5, 6, 8, 9, 10, 12, ...; False for sizes with another prime factor and for
        ``n < 1``.

    Examples
    --------
    >>> [n for n in range(40, 50) if is_fft_friendly(n)]
    [40, 45, 48]
    """
    n = int(n)
    if n < 1:
        return False
    for p in _FFT_PRIMES:
        while n % p == 0:
            n //= p
    return n == 1


def next_fft_size(n: int) -> int:
    """Smallest integer >= n whose only prime factors are 2, 3 and 5."""
    n = max(int(n), 1)
    while not is_fft_friendly(n):
        n += 1
    return n


def shape_for_spacing(cell: Any, spacing: float, *, fft_friendly: bool = True,
                      minimum: int = 4) -> tuple[int, int, int]:
    """Grid shape whose spacing along each lattice vector is at most ``spacing`` (Å).

    Parameters
    ----------
    cell : array_like
        Lattice vectors (Å).
    spacing : float
        Largest allowed distance between neighbouring grid points along a lattice vector, Å.
    fft_friendly : bool
        Round each size up to a product of 2, 3 and 5 (fast FFTs, and what Quantum ESPRESSO uses).
    minimum : int
        Smallest size per axis.

    Examples
    --------
    >>> shape_for_spacing(np.eye(3) * 4.8, 0.12)
    (40, 40, 40)
    """
    try:
        spacing = float(spacing)
    except (TypeError, ValueError):
        raise GridError(f"grid spacing must be a number in Å, got {spacing!r}") from None
    if not (spacing > 0 and math.isfinite(spacing)):
        raise GridError(f"grid spacing must be a positive number of Å, got {spacing}; "
                        "0.1-0.15 Å is typical for ELF")
    lengths = np.linalg.norm(as_cell(cell), axis=1)
    sizes = [max(minimum, math.ceil(length / spacing - 1e-9)) for length in lengths]
    if fft_friendly:
        sizes = [next_fft_size(n) for n in sizes]
    if math.prod(sizes) > 1024**3:
        raise GridError(f"a spacing of {spacing} Å gives a grid of {sizes}, too large; use a coarser spacing")
    return tuple(int(n) for n in sizes)  # type: ignore[return-value]


def check_shape(shape: Any) -> tuple[int, int, int]:
    """Validate a grid shape: three integers >= 2."""
    try:
        sizes = tuple(int(n) for n in shape)
    except (TypeError, ValueError):
        raise GridError(f"a grid shape must be three integers like 48,48,48, got {shape!r}") from None
    if (len(sizes) != 3 or any(n < 2 for n in sizes)
            or any(float(n) != float(m) for n, m in zip(sizes, shape, strict=False))):
        raise GridError(f"a grid shape must be three integers >= 2 (points along a, b, c), got {shape!r}")
    return sizes  # type: ignore[return-value]


def fractional_axes(shape: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fractional coordinates ``i/n`` of the grid planes along a, b, c (no end point)."""
    return tuple(np.arange(n) / n for n in shape)  # type: ignore[return-value]


def interpolate_periodic(field: Any, fractional: Any) -> np.ndarray:
    """Values of a periodic grid field at fractional coordinates, by cubic spline (wrapped, not clipped).

    Parameters
    ----------
    field : (na, nb, nc) array
        Values on the grid points ``i/n`` of the cell (any units).
    fractional : (..., 3) array
        Fractional coordinates; any real values (they are wrapped into the cell).

    Returns
    -------
    numpy.ndarray
        float64 values of shape ``fractional.shape[:-1]``; exact at grid points.
    """
    from scipy import ndimage

    values = np.asarray(field, dtype=np.float64)
    frac = np.asarray(fractional, dtype=np.float64)
    coords = np.moveaxis(frac.reshape(-1, 3) % 1.0 * np.array(values.shape), -1, 0)
    return ndimage.map_coordinates(values, coords, order=3, mode="grid-wrap").reshape(frac.shape[:-1])


def nearest_grid_index(fractional: Any, shape: Sequence[int]) -> np.ndarray:
    """Flat (C-order) indices of the grid points nearest to fractional coordinates (wrapped into the cell).

    Examples
    --------
    >>> nearest_grid_index([[0.0, 0.0, 0.49], [1.02, -0.26, 0.0]], (4, 4, 4)).tolist()
    [2, 12]
    """
    sizes = np.array(check_shape(shape))
    frac = np.asarray(fractional, dtype=np.float64).reshape(-1, 3)
    index = np.rint(frac * sizes).astype(np.int64) % sizes
    return np.ravel_multi_index(tuple(index.T), tuple(int(n) for n in sizes))


def grid_points_cartesian(cell: Any, shape: Sequence[int]) -> np.ndarray:
    """Cartesian coordinates (Å) of all grid points, array of shape ``(na, nb, nc, 3)``."""
    fa, fb, fc = fractional_axes(check_shape(shape))
    frac = np.stack(np.meshgrid(fa, fb, fc, indexing="ij"), axis=-1)
    return frac @ as_cell(cell)
