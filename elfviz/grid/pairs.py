"""Atom pairs of periodic structures: the midpoints of all pairs within a distance window.

Pure geometry (Å, fractional coordinates), periodic images included through the ASE neighbour list. Used by
:mod:`elfviz.model.training.bond_midpoints` (ELF at bond midpoints, reference vs model) and by
:mod:`elfviz.model.training` (training points drawn near bond midpoints, where networking saddles sit).
"""

from __future__ import annotations

import numpy as np

from .. import grid

__all__ = ["pair_midpoints"]


def pair_midpoints(
    positions: np.ndarray, cell: np.ndarray, d_min: float, d_max: float
) -> tuple[np.ndarray, np.ndarray]:
    """Every distinct atom pair with a distance in ``[d_min, d_max]`` (periodic images included).

    Parameters
    ----------
    positions : (n_atoms, 3) array
        Cartesian positions, Å.
    cell : (3, 3) array
        Lattice vectors as rows, Å.
    d_min, d_max : float
        Distance window, Å.

    Returns
    -------
    distances : (n_pairs,) array
        Pair distances, Å.
    midpoints : (n_pairs, 3) array
        Fractional coordinates of the pair midpoints, wrapped into [0, 1).
    """
    from ase import Atoms
    from ase.neighborlist import neighbor_list

    if not 0 <= d_min <= d_max:
        raise ValueError(f"need 0 <= d_min <= d_max, got d_min={d_min}, d_max={d_max} (Å)")
    atoms = Atoms(numbers=np.ones(len(positions), int), positions=positions, cell=cell, pbc=True)
    i, j, d, vec = neighbor_list("ijdD", atoms, float(d_max))
    keep = d >= d_min
    # each pair appears as i->j and j->i: keep one of the two (for i == j, one of +D and -D)
    first = (i < j) | ((i == j) & (_lexicographic_positive(vec)))
    keep &= first
    mid_cart = positions[i[keep]] + vec[keep] / 2
    return d[keep], grid.cart_to_frac(mid_cart, cell) % 1.0


def _lexicographic_positive(vectors: np.ndarray) -> np.ndarray:
    """True for vectors whose first non-zero component is positive."""
    out = np.zeros(len(vectors), bool)
    undecided = np.ones(len(vectors), bool)
    for axis in range(3):
        component = vectors[:, axis]
        nonzero = undecided & (np.abs(component) > 1e-9)
        out[nonzero] = component[nonzero] > 0
        undecided &= ~nonzero
    return out
