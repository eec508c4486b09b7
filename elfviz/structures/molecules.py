"""H2 molecules in periodic hydrogen structures: pairing atoms, distances between molecules.

Pure geometry on :class:`ase.Atoms` with minimum-image periodic images (cells at least a bond
length wide); used by :mod:`elfviz.structures` to keep molecules rigid when a phase is compressed.
"""

from __future__ import annotations

import numpy as np

from ..errors import StructureError

__all__ = ["MOLECULE_CUTOFF", "find_molecules", "closest_intermolecular", "scale_molecular"]

MOLECULE_CUTOFF = 1.0
"""Atoms closer than this (Å) in a molecular phase belong to one H2 molecule."""


def find_molecules(atoms, cutoff: float = MOLECULE_CUTOFF) -> list[tuple[int, int, np.ndarray]]:
    """Pair every atom with its nearest neighbour into H2 molecules (minimum image).

    Returns
    -------
    list of (i, j, vector)
        Atom indices and the Cartesian vector from ``i`` to the nearest image of ``j`` (Å).

    Raises
    ------
    StructureError
        If some atom has no partner within ``cutoff`` Å or nearest neighbours are not mutual.
    """
    images, owner, central = _periodic_images(atoms)
    from scipy.spatial import cKDTree

    dist, idx = cKDTree(images).query(central, k=2)
    partner = owner[idx[:, 1]]
    molecules = []
    for i in range(len(atoms)):
        j = int(partner[i])
        if dist[i, 1] > cutoff or partner[j] != i or j == i:
            raise StructureError(
                f"atom {i} has no unique H2 partner within {cutoff} Å; the structure is not molecular"
            )
        if i < j:
            molecules.append((i, j, images[idx[i, 1]] - central[i]))
    return molecules


def closest_intermolecular(atoms, molecules) -> float:
    """Shortest distance (Å) between atoms of different molecules (minimum image)."""
    partner = {}
    for i, j, _ in molecules:
        partner[i], partner[j] = j, i
    images, owner, central = _periodic_images(atoms)
    from scipy.spatial import cKDTree

    dist, idx = cKDTree(images).query(central, k=4)
    best = np.inf
    for a in range(len(atoms)):
        for d, k in zip(dist[a, 1:], idx[a, 1:], strict=True):
            if owner[k] != partner.get(a) and owner[k] != a:
                best = min(best, float(d))
                break
    return best


def scale_molecular(atoms, factor: float, name: str = "the structure"):
    """Scale a molecular cell by ``factor``, moving whole molecules: centres follow, bonds stay rigid.

    The cell grows by ``factor`` (1 keeps it); every molecular centre keeps its fractional position and
    every intramolecular vector its length and direction (Å), so the space group is kept.

    Raises
    ------
    StructureError
        If the structure is not molecular, or atoms of different molecules end up no farther apart
        than the longest bond (``name`` names the structure in the message).

    Examples
    --------
    >>> from ase import Atoms
    >>> h2 = Atoms("H2", positions=[[0, 0, 0], [0.74, 0, 0]], cell=[2.0, 2.0, 2.0], pbc=True)
    >>> scaled = scale_molecular(h2, 1.5)
    >>> round(float(scaled.cell[0, 0]), 3), round(float(scaled.get_distance(0, 1)), 3)
    (3.0, 0.74)
    """
    molecules = find_molecules(atoms)
    cell = atoms.cell.array
    inv = np.linalg.inv(cell)
    positions = atoms.positions.copy()
    new_cell = cell * factor
    bond = max(float(np.linalg.norm(v)) for _, _, v in molecules)
    for i, j, vector in molecules:
        centre = (positions[i] + 0.5 * vector) @ inv @ new_cell
        positions[i] = centre - 0.5 * vector
        positions[j] = centre + 0.5 * vector
    scaled = atoms.copy()
    scaled.set_cell(new_cell, scale_atoms=False)
    scaled.positions = positions
    closest = closest_intermolecular(scaled, molecules)
    if closest <= bond:
        raise StructureError(
            f"{name} compressed by a factor {factor:.3f} puts atoms of different molecules "
            f"{closest:.3f} Å apart, closer than the H2 bond ({bond:.3f} Å): the phase is no longer "
            "molecular at this density; use a larger rs or an atomic phase"
        )
    return scaled


def _periodic_images(atoms) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Atoms and their 26 neighbour-cell images (Cartesian), the atom each image belongs to, wrapped atoms."""
    cell = atoms.cell.array
    frac = atoms.get_scaled_positions(wrap=True)
    shifts = np.array([[i, j, k] for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)], dtype=float)
    images = (frac[None, :, :] + shifts[:, None, :]).reshape(-1, 3) @ cell
    return images, np.tile(np.arange(len(atoms)), len(shifts)), frac @ cell
