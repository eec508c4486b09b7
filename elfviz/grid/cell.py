"""Lattice cells, coordinates and densities: reciprocal cell, rs, mass density, atom overlap (Å; bohr for rs)."""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np

from ..errors import StructureError

BOHR_ANGSTROM = 0.529177210903
"""One bohr in Å (CODATA 2018)."""


AMU_GRAM = 1.66053906660e-24
"""One atomic mass unit in g."""


MIN_INTERATOMIC_DISTANCE = 0.3
"""Atoms closer than this (Å) are rejected as overlapping."""


def as_cell(cell: Any) -> np.ndarray:
    """Return a checked (3, 3) float64 cell matrix (lattice vectors as rows, Å).

    Parameters
    ----------
    cell : array_like
        Lattice vectors as rows, Å. A length-3 sequence is taken as an orthorhombic cell.

    Raises
    ------
    StructureError
        If the cell is missing, not finite, or has (near) zero volume.
    """
    if cell is None:
        raise StructureError("the structure has no cell; elfviz needs a periodic cell (set one with "
                             "atoms.set_cell(...) or give CELL_PARAMETERS / a lattice in the file)")
    arr = np.asarray(cell, dtype=float)
    if arr.shape == (3,):
        arr = np.diag(arr)
    if arr.shape != (3, 3):
        raise StructureError(f"the cell must be a 3x3 matrix of lattice vectors in Å, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise StructureError("the cell contains NaN or infinite values; check the input file's lattice")
    volume = abs(np.linalg.det(arr))
    if volume < 1e-6:
        raise StructureError("the cell has zero volume (missing or degenerate lattice vectors); "
                             "elfviz needs a full 3-D periodic cell")
    return arr


def cell_volume(cell: Any) -> float:
    """Volume of the cell in Å^3."""
    return float(abs(np.linalg.det(as_cell(cell))))


def frac_to_cart(frac: Any, cell: Any) -> np.ndarray:
    """Fractional coordinates (..., 3) to Cartesian (Å): ``frac @ cell``."""
    return np.asarray(frac, dtype=float) @ as_cell(cell)


def cart_to_frac(cart: Any, cell: Any) -> np.ndarray:
    """Cartesian coordinates (..., 3) in Å to fractional: ``cart @ inv(cell)``."""
    return np.asarray(cart, dtype=float) @ np.linalg.inv(as_cell(cell))


def reciprocal_cell(cell: Any) -> np.ndarray:
    """Reciprocal lattice vectors as rows, including the factor 2π (Å^-1): ``B = 2π inv(cell).T``."""
    return 2.0 * np.pi * np.linalg.inv(as_cell(cell)).T


def rs_bohr(cell: Any, n_electrons: float) -> float:
    """Wigner-Seitz radius ``rs`` in bohr: ``(4/3) π rs^3 = V / N_e``.

    Parameters
    ----------
    cell : array_like
        Lattice vectors (Å).
    n_electrons : float
        Number of (valence) electrons in the cell; for hydrogen, the number of atoms.

    Examples
    --------
    >>> round(rs_bohr(np.eye(3) * 2.0, 1), 3)  # one electron in 8 Å^3 = 53.99 bohr^3
    2.345
    """
    if n_electrons <= 0:
        raise StructureError("rs is undefined for a cell without electrons (no atoms)")
    volume_bohr3 = cell_volume(cell) / BOHR_ANGSTROM**3
    return float((3.0 * volume_bohr3 / (4.0 * math.pi * n_electrons)) ** (1.0 / 3.0))


def cell_for_rs(rs: float, n_electrons: int, shape: Any = None) -> np.ndarray:
    """A cell (Å) of the given shape (default cubic) scaled so that it has Wigner-Seitz radius ``rs`` (bohr)."""
    if not rs > 0:
        raise StructureError(f"rs must be positive (bohr), got {rs}")
    volume = (4.0 / 3.0) * math.pi * rs**3 * n_electrons * BOHR_ANGSTROM**3
    base = np.eye(3) if shape is None else as_cell(shape)
    return base * (volume / cell_volume(base)) ** (1.0 / 3.0)


def valence_electrons(numbers: Iterable[int]) -> int:
    """Number of valence electrons used for ``rs``: Z for H and He, else the element's group valence.

    Dense-hydrogen work uses H only; other elements get their number of valence electrons from
    ``ase.data`` if known, else Z (documented approximation).
    """
    numbers = list(numbers)
    total = 0
    for z in numbers:
        z = int(z)
        if z <= 2:
            total += z
        else:
            # number of electrons outside the last closed noble-gas shell
            shells = [2, 10, 18, 36, 54, 86, 118]
            core = max(s for s in shells if s < z)
            total += z - core
    return total


def mass_density_g_cm3(cell: Any, numbers: Iterable[int]) -> float:
    """Mass density in g/cm^3 from the cell (Å) and atomic numbers (standard atomic masses)."""
    from ase.data import atomic_masses

    mass_amu = float(sum(atomic_masses[int(z)] for z in numbers))
    return mass_amu * AMU_GRAM / (cell_volume(cell) * 1e-24)


def check_positions(positions: Any, cell: Any, *, min_distance: float = MIN_INTERATOMIC_DISTANCE) -> np.ndarray:
    """Validate Cartesian positions (Å): finite, shape (N, 3), no two atoms (or images) closer than ``min_distance``."""
    pos = np.asarray(positions, dtype=float)
    if pos.ndim == 1 and pos.size == 0:
        pos = pos.reshape(0, 3)
    if pos.ndim != 2 or pos.shape[1] != 3:
        raise StructureError(f"positions must be an (N, 3) array of Cartesian coordinates in Å, got shape {pos.shape}")
    if not np.all(np.isfinite(pos)):
        bad = np.where(~np.all(np.isfinite(pos), axis=1))[0]
        raise StructureError(f"atom(s) {bad[:10].tolist()} have NaN or infinite coordinates; fix the input structure")
    if len(pos) > 1 and min_distance > 0:
        d, i, j = minimum_image_distance(pos, cell)
        if d < min_distance:
            raise StructureError(
                f"atoms {i} and {j} are {d:.3f} Å apart (closer than {min_distance} Å, counting periodic images): "
                "overlapping atoms; check units (Å expected) and duplicated atoms in the input")
    return pos


def minimum_image_distance(positions: np.ndarray, cell: Any) -> tuple[float, int, int]:
    """Smallest distance (Å) between any two atoms or an atom and its own image, and the pair's indices."""
    cell = as_cell(cell)
    frac = cart_to_frac(positions, cell)
    frac -= np.floor(frac)
    from scipy.spatial import cKDTree

    # Work with a 3x3x3 supercell of images; the tree answers nearest neighbours in O(N log N).
    shifts = np.array([[i, j, k] for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)], dtype=float)
    images = (frac[None, :, :] + shifts[:, None, :]).reshape(-1, 3) @ cell
    owner = np.tile(np.arange(len(frac)), len(shifts))
    tree = cKDTree(images)
    central = frac @ cell
    dist, idx = tree.query(central, k=2)
    # k=2: the first neighbour is the atom itself (distance 0) unless two atoms coincide
    best = int(np.argmin(dist[:, 1]))
    d = float(dist[best, 1])
    # A cell shorter than one image shell still gets its own-image distance from the shortest lattice vector.
    return d, best, int(owner[idx[best, 1]])
