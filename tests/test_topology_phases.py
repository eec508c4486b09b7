"""Topology of a real dense-hydrogen structure: phase III candidate C2/c-24 with the promolecular ELF.

C2/c-24 is a molecular phase (layers of H2 molecules), so between the 1-D threshold t1 and the molecularity
index phi* the set {ELF >= t} must hold every atom in a two-atom component, and each linked pair must be a
molecule: about 0.74 Å apart when atom j is taken at the reported periodic image.
"""

from __future__ import annotations

import numpy as np
import pytest

from elfviz.reference.promolecular import promolecular_elf
from elfviz.structures import build_phase
from elfviz.topology import components_at, networking_analysis


@pytest.fixture(scope="module")
def c2c24():
    return promolecular_elf(build_phase("C2c-24"), spacing=0.15)


def bond_length(ds, i, j, image):
    pos, cell = ds["positions"].values, ds["cell"].values
    return float(np.linalg.norm(pos[j] + np.asarray(image) @ cell - pos[i]))


def test_molecular_phase_has_molecules_between_t1_and_phi_star(c2c24):
    res = networking_analysis(c2c24)
    assert res.n_atoms == 24
    assert res.phi_star > res.t1 >= res.t2 >= res.t3
    i, j, image = res.phi_star_atoms
    assert i != j and 0.6 < bond_length(c2c24, i, j, image) < 0.9

    rep = components_at(c2c24, (res.phi_star + res.t1) / 2)
    assert np.all(rep.atom_component >= 0)
    assert np.all(np.bincount(rep.atom_component, minlength=rep.n_components)[:12] == 2)
    assert rep.wrap_rank[np.unique(rep.atom_component)].max() == 0  # molecules are finite
    assert len(rep.bonds) == 12
    assert sorted(rep.bonds[:, :2].reshape(-1).tolist()) == list(range(24))  # each atom in one molecule
    lengths = [bond_length(c2c24, b[0], b[1], b[2:]) for b in rep.bonds]
    assert max(lengths) < 0.9 and min(lengths) > 0.6


def test_phase_thresholds_do_not_depend_on_the_supercell(c2c24):
    """A 1x2x1 supercell on the same grid spacing has the same field, so the same thresholds."""
    na, nb, nc = (c2c24.sizes[d] for d in "abc")
    doubled = np.concatenate([c2c24["elf"].values] * 2, axis=1)
    cell = c2c24["cell"].values * np.array([[1], [2], [1]])
    pos = np.concatenate([c2c24["positions"].values, c2c24["positions"].values + c2c24["cell"].values[1]])
    ref = networking_analysis(c2c24)
    sup = networking_analysis(doubled, cell=cell, positions=pos)
    assert doubled.shape == (na, 2 * nb, nc)
    assert sup.thresholds == ref.thresholds and sup.phi_star == ref.phi_star
