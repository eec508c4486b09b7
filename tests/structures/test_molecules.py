"""elfviz.structures.molecules: H2 pairing and intermolecular distances under periodic boundaries."""

from __future__ import annotations

import numpy as np
import pytest
from ase import Atoms

from elfviz.errors import StructureError
from elfviz.structures import molecules


def two_molecules(gap: float, box: float = 4.0) -> Atoms:
    """Two parallel H2 (bond 0.74 Å along x) whose centres are ``gap`` Å apart along y, in a cubic box."""
    positions = [[1.0, 1.0, 1.0], [1.74, 1.0, 1.0], [1.0, 1.0 + gap, 1.0], [1.74, 1.0 + gap, 1.0]]
    return Atoms("H4", positions=positions, cell=np.eye(3) * box, pbc=True)


def test_pairs_and_bond_vectors():
    atoms = two_molecules(1.6)
    found = molecules.find_molecules(atoms)
    assert [(i, j) for i, j, _ in found] == [(0, 1), (2, 3)]
    for _, _, vector in found:
        np.testing.assert_allclose(vector, [0.74, 0.0, 0.0], atol=1e-12)
    assert molecules.closest_intermolecular(atoms, found) == pytest.approx(1.6)


def test_pairs_across_the_cell_boundary():
    atoms = Atoms("H2", positions=[[0.1, 0.0, 0.0], [2.86, 0.0, 0.0]], cell=np.eye(3) * 3.5, pbc=True)
    ((i, j, vector),) = molecules.find_molecules(atoms)
    assert (i, j) == (0, 1)
    assert np.linalg.norm(vector) == pytest.approx(0.74)


def test_intermolecular_distance_through_the_periodic_image():
    # box 2.6 Å: the image of the second molecule is 2.6 - 1.6 = 1.0 Å away along -y
    atoms = two_molecules(1.6, box=2.6)
    assert molecules.closest_intermolecular(atoms, molecules.find_molecules(atoms)) == pytest.approx(1.0)


def test_atomic_structures_are_refused():
    atoms = Atoms("H2", scaled_positions=[[0, 0, 0], [0.5, 0.5, 0.5]], cell=np.eye(3) * 2.0, pbc=True)
    with pytest.raises(StructureError, match="not molecular"):
        molecules.find_molecules(atoms)
