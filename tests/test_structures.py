"""elfviz.structures: published phases, symmetry, rs scaling, rigid molecules, supercells, pressure table."""

from __future__ import annotations

import math

import numpy as np
import pytest

from elfviz import grid, structures
from elfviz.errors import StructureError

spglib = pytest.importorskip("spglib")


def space_group_number(atoms, symprec=1e-3) -> int:
    dataset = spglib.get_symmetry_dataset(
        (atoms.cell.array, atoms.get_scaled_positions(), atoms.numbers), symprec=symprec
    )
    return int(dataset.number)


def bond_lengths(atoms) -> np.ndarray:
    return np.sort([np.linalg.norm(v) for _, _, v in structures.find_molecules(atoms)])


def test_phase_table_lists_the_five_phases():
    assert list(structures.PHASES) == ["C2c-24", "Cmca-12", "Cmca-4", "P63m-16", "I41amd"]
    assert structures.available_phases() == ["C2c-24"]
    for phase in structures.PHASES.values():
        assert "Pickard" in phase.source
        assert phase.space_group_number in (15, 64, 176, 141)


def test_c2c_published_cell():
    atoms = structures.build_phase("C2c-24")
    assert len(atoms) == 24
    assert space_group_number(atoms) == 15
    # the published cell (300 GPa): volume a b c sin(beta), rs from it by hand
    a, b, c, beta = 4.939, 4.939 * 0.569143551326, 4.939 * 0.838023891476, math.radians(142.47)
    volume = a * b * c * math.sin(beta)
    assert atoms.cell.volume == pytest.approx(volume, rel=1e-9)
    rs = (3 * volume / grid.BOHR_ANGSTROM**3 / (4 * math.pi * 24)) ** (1 / 3)
    assert atoms.info["rs_bohr"] == pytest.approx(rs, rel=1e-12)
    assert rs == pytest.approx(1.3295, abs=1e-4)
    bonds = bond_lengths(atoms)
    assert len(bonds) == 12
    np.testing.assert_allclose(np.unique(bonds.round(4)), [0.7511, 0.7567])


@pytest.mark.parametrize("rs", [1.30, 1.38, 1.5, 1.8])
def test_c2c_scaled_to_rs_keeps_symmetry_and_bonds(rs):
    reference = bond_lengths(structures.build_phase("C2c-24"))
    atoms = structures.build_phase("C2c-24", rs=rs)
    assert grid.rs_bohr(atoms.cell.array, len(atoms)) == pytest.approx(rs, rel=1e-12)
    assert atoms.info["rs_bohr"] == pytest.approx(rs, rel=1e-12)
    np.testing.assert_allclose(bond_lengths(atoms), reference, atol=1e-9)  # molecules are rigid
    assert space_group_number(atoms) == 15
    distances = atoms.get_all_distances(mic=True)[np.triu_indices(len(atoms), 1)]
    assert distances.min() == pytest.approx(reference.min(), abs=1e-9)  # nothing closer than a bond
    # the distance between molecules grows with rs, the bond does not
    assert structures._closest_intermolecular(atoms, structures.find_molecules(atoms)) > reference.max()


def test_intermolecular_distances_scale_with_the_cell():
    small = structures.build_phase("C2c-24", rs=1.3)
    large = structures.build_phase("C2c-24", rs=1.6)
    d_small = structures._closest_intermolecular(small, structures.find_molecules(small))
    d_large = structures._closest_intermolecular(large, structures.find_molecules(large))
    assert d_large > d_small * 1.15


def test_supercell():
    atoms = structures.build_phase("C2c-24", rs=1.38, supercell=(2, 1, 3))
    assert len(atoms) == 24 * 6
    assert atoms.info["rs_bohr"] == pytest.approx(1.38, rel=1e-12)
    assert len(structures.build_phase("C2c-24", supercell=2)) == 24 * 8
    for bad in [(0, 1, 1), (1.5, 1, 1), (1, 1), "x"]:
        with pytest.raises(StructureError, match="supercell"):
            structures.build_phase("C2c-24", supercell=bad)


def test_pressure_table_reproduces_published_points_and_is_monotonic():
    for pressure, rs, _source in structures.EOS_POINTS:
        assert structures.rs_from_pressure(pressure) == pytest.approx(rs, rel=1e-9)
        assert structures.pressure_from_rs(rs) == pytest.approx(pressure, rel=1e-9)
    pressures = np.geomspace(5.4, 3500, 50)
    rs_values = [structures.rs_from_pressure(p) for p in pressures]
    assert np.all(np.diff(rs_values) < 0)
    assert structures.pressure_from_rs(structures.rs_from_pressure(123.0)) == pytest.approx(123.0, rel=1e-9)


def test_build_by_pressure():
    atoms = structures.build_phase("c2c-24", pressure_gpa=300.0)
    assert atoms.info["rs_bohr"] == pytest.approx(1.3294697, rel=1e-6)
    assert atoms.info["pressure_gpa"] == 300.0
    ds = grid.from_atoms(atoms, spacing=0.5)
    assert ds.attrs["pressure_gpa"] == 300.0 and ds.attrs["phase"] == "C2c-24"


def test_bad_requests():
    with pytest.raises(StructureError, match="unknown phase"):
        structures.build_phase("Fm-3m")
    with pytest.raises(StructureError, match="not bundled"):
        structures.build_phase("Cmca-4", rs=1.3)
    with pytest.raises(StructureError, match="not both"):
        structures.build_phase("C2c-24", rs=1.3, pressure_gpa=300)
    for rs in (0.0, -1.0, float("nan")):
        with pytest.raises(StructureError, match="positive"):
            structures.build_phase("C2c-24", rs=rs)
    with pytest.raises(StructureError, match="outside the range"):
        structures.build_phase("C2c-24", pressure_gpa=1.0)
    with pytest.raises(StructureError, match="no longer molecular"):
        structures.build_phase("C2c-24", rs=0.9)


def test_register_phase_with_checked_data():
    # a simple cubic test crystal to exercise the general builder (not a hydrogen phase)
    phase = structures.Phase(
        name="test-sc",
        space_group="Pm-3m",
        space_group_number=221,
        n_atoms=1,
        molecular=False,
        source="unit test",
        cellpar=(2.0, 2.0, 2.0, 90, 90, 90),
        basis=((0.0, 0.0, 0.0),),
        pressure_range_gpa=(100.0, 200.0),
    )
    try:
        structures.register_phase(phase)
        atoms = structures.build_phase("test-sc", rs=2.0)
        assert len(atoms) == 1
        assert grid.rs_bohr(atoms.cell.array, 1) == pytest.approx(2.0)
        with pytest.raises(StructureError, match="already registered"):
            structures.register_phase(phase)
    finally:
        structures.PHASES.pop("test-sc", None)


def test_find_molecules_refuses_atomic_structures():
    from ase import Atoms

    atoms = Atoms("H2", scaled_positions=[[0, 0, 0], [0.5, 0.5, 0.5]], cell=np.eye(3) * 2.0, pbc=True)
    with pytest.raises(StructureError, match="not molecular"):
        structures.find_molecules(atoms)


@pytest.mark.parametrize("module", ["elfviz.structures", "elfviz.eos"])
def test_docstring_examples(module):
    import doctest
    import importlib

    result = doctest.testmod(importlib.import_module(module), optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted >= 2
