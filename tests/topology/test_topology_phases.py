"""Topology of real dense-hydrogen structures: the bundled molecular phases with the promolecular ELF.

A molecular phase (e.g. the phase III candidate C2/c) holds H2 molecules, so between the 1-D threshold t1 and
the molecularity index phi* the set {ELF >= t} must hold every atom in a two-atom component, and the linked
pairs must be the molecules that :func:`elfviz.structures.find_molecules` finds geometrically, ~0.74 Å apart
when atom j is taken at the reported periodic image.
"""

from __future__ import annotations

import numpy as np
import pytest

from elfviz import grid
from elfviz.reference.promolecular import promolecular_elf
from elfviz.structures import PHASES, available_phases, build_phase, find_molecules
from elfviz.topology import components_at, networking_analysis

MOLECULAR = [name for name in available_phases() if PHASES[name].molecular]


def test_a_molecular_phase_is_bundled():
    assert MOLECULAR, "no molecular phase bundled: the phase tests below would not run"


@pytest.fixture(scope="module", params=MOLECULAR)
def phase(request):
    return promolecular_elf(build_phase(request.param), spacing=0.15)


def bond_vector(ds, i, j, image):
    pos, cell = ds["positions"].values, ds["cell"].values
    return pos[j] + np.asarray(image) @ cell - pos[i]


def test_molecular_phase_has_molecules_between_t1_and_phi_star(phase):
    n_atoms = phase.sizes["atom"]
    res = networking_analysis(phase)
    assert res.n_atoms == n_atoms
    assert res.phi_star > res.t1 >= res.t2 >= res.t3
    i, j, image = res.phi_star_atoms
    assert i != j and 0.6 < np.linalg.norm(bond_vector(phase, i, j, image)) < 0.9

    rep = components_at(phase, (res.phi_star + res.t1) / 2)
    assert np.all(rep.atom_component >= 0)
    occupied = np.unique(rep.atom_component)
    assert np.all(np.bincount(rep.atom_component)[occupied] == 2)
    assert rep.wrap_rank[occupied].max() == 0  # molecules are finite
    # the ELF bond graph is the geometric molecule list, with the right periodic images
    geometric = {(min(a, b), max(a, b)): (v if a < b else -v)
                 for a, b, v in find_molecules(grid.to_atoms(phase))}
    assert len(rep.bonds) == n_atoms // 2 == len(geometric)
    for b in rep.bonds:
        key = (int(b[0]), int(b[1]))
        assert np.allclose(bond_vector(phase, *key, b[2:]), geometric[key], atol=1e-9)


def test_phase_thresholds_do_not_depend_on_the_supercell(phase):
    """A 1x2x1 supercell on the same grid has the same field, so the same thresholds and phi*."""
    na, nb, nc = (phase.sizes[d] for d in "abc")
    doubled = np.concatenate([phase["elf"].values] * 2, axis=1)
    cell = phase["cell"].values * np.array([[1], [2], [1]])
    pos = np.concatenate([phase["positions"].values, phase["positions"].values + phase["cell"].values[1]])
    ref = networking_analysis(phase)
    sup = networking_analysis(doubled, cell=cell, positions=pos)
    assert doubled.shape == (na, 2 * nb, nc)
    assert sup.thresholds == ref.thresholds and sup.phi_star == ref.phi_star
