"""What the molecularity index means, as the teaching notebook states it: above phi* every atom sits in its
own component (basin); just below it the two atoms of a molecule share one."""

from __future__ import annotations

import numpy as np

from elfviz import grid
from elfviz.topology import components_at, networking_analysis


def two_molecules(n: int = 40, length: float = 6.0):
    """Two H2 molecules (0.74 Å bonds) far apart in a cubic cell, with a Gaussian ELF-like blob per atom."""
    cell = np.eye(3) * length
    positions = np.array([[1.5, 1.5, 1.5], [2.24, 1.5, 1.5], [4.5, 4.2, 4.0], [4.5, 4.94, 4.0]])
    frac = np.stack(np.meshgrid(*[np.arange(n) / n] * 3, indexing="ij"), axis=-1)
    xyz = frac @ cell
    field = np.zeros((n, n, n))
    for p in positions:
        d = xyz - p
        d -= np.round(d / length) * length  # nearest periodic image
        field = np.maximum(field, np.exp(-(d ** 2).sum(-1) / (2 * 0.35 ** 2)))
    ds = grid.make_dataset(cell, positions, [1, 1, 1, 1], shape=(n, n, n))
    return grid.with_field(ds, "elf", field)


def test_above_phi_star_each_atom_has_its_own_basin_and_below_it_molecules_join():
    ds = two_molecules()
    net = networking_analysis(ds)
    assert net.phi_star is not None and net.phi < net.phi_star
    above = components_at(ds, net.phi_star + 0.01)
    assert len(set(above.atom_component.tolist())) == 4  # four atoms, four basins
    below = components_at(ds, net.phi_star - 0.01)
    partners = {tuple(sorted(below.atoms_in(k).tolist())) for k in set(below.atom_component.tolist())}
    assert (0, 1) in partners or (2, 3) in partners  # a molecule's two atoms now share a component
    assert not any({0, 1} & set(p) and {2, 3} & set(p) for p in partners)  # molecules are still apart
