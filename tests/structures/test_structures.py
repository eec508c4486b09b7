"""elfviz.structures: published phases, symmetry, rs scaling, rigid molecules, supercells, pressure table."""

from __future__ import annotations

import math

import numpy as np
import pytest

from elfviz import grid, structures
from elfviz.errors import StructureError
from elfviz.structures import molecules

spglib = pytest.importorskip("spglib")


def space_group_number(atoms, symprec=1e-3) -> int:
    dataset = spglib.get_symmetry_dataset(
        (atoms.cell.array, atoms.get_scaled_positions(), atoms.numbers), symprec=symprec
    )
    return int(dataset.number)


def bond_lengths(atoms) -> np.ndarray:
    return np.sort([np.linalg.norm(v) for _, _, v in structures.find_molecules(atoms)])


def primitive_atom_count(atoms, symprec) -> int:
    cell = (atoms.cell.array, atoms.get_scaled_positions(), atoms.numbers)
    return len(spglib.find_primitive(cell, symprec=symprec)[2])


BUNDLED = structures.available_phases()


def test_phase_table_lists_the_phases_and_bundles_only_checked_data():
    assert list(structures.PHASES) == ["C2c-12", "C2c-24", "Cmca-12", "Cmca-4", "P63m-16", "I41amd"]
    assert BUNDLED == ["C2c-12", "C2c-24", "Cmca-12", "Cmca-4", "I41amd"]
    for phase in structures.PHASES.values():
        assert "Pickard" in phase.source
        assert phase.space_group_number in (15, 64, 176, 141)
        assert phase.available == (not phase.missing)  # every unbundled phase says why
        assert phase.name.endswith(str(phase.n_atoms)) or phase.name == "I41amd"


@pytest.mark.parametrize("name", BUNDLED)
@pytest.mark.parametrize("symprec", [0.01, 0.05])
def test_source_cell_symmetry_and_primitive_atom_count(name, symprec):
    """spglib finds the published space group; the primitive cell holds the atoms the name counts."""
    phase = structures.get_phase(name)
    primitive = structures.build_phase(name)
    conventional = structures.build_phase(name, cell="conventional")
    for atoms in (primitive, conventional):
        assert space_group_number(atoms, symprec) == phase.space_group_number
        assert primitive_atom_count(atoms, symprec) == phase.n_atoms
    assert len(primitive) == phase.n_atoms
    assert len(conventional) % len(primitive) == 0 and len(conventional) >= len(primitive)
    assert primitive.info["cell"] == "primitive" and conventional.info["cell"] == "conventional"
    assert conventional.info["rs_bohr"] == pytest.approx(primitive.info["rs_bohr"], rel=1e-12)


@pytest.mark.parametrize("name", BUNDLED)
def test_source_cell_is_physical(name):
    """H2 bonds 0.70-0.80 Å (Cmca-4: 0.815, stretched in PBE at rs 1.30), nothing closer than 1.0 Å between
    molecules, rs consistent with its pressure."""
    phase = structures.get_phase(name)
    atoms = structures.build_phase(name)
    if phase.molecular:
        pairs = structures.find_molecules(atoms)
        assert 2 * len(pairs) == len(atoms)
        bonds = bond_lengths(atoms)
        assert bonds.min() >= 0.70 and bonds.max() <= (0.82 if name == "Cmca-4" else 0.80)
        assert molecules.closest_intermolecular(atoms, pairs) >= 1.0
    rs_eos = structures.rs_from_pressure(phase.pressure_gpa)
    assert phase.rs_reference == pytest.approx(rs_eos, rel=0.05)
    assert atoms.info["rs_bohr"] == pytest.approx(phase.rs_reference, rel=1e-12)


def test_c2c12_published_cell():
    atoms = structures.build_phase("C2c-12", cell="conventional")
    assert len(atoms) == 24
    # AFLOW's H-III parameters (300 GPa): volume a b c sin(beta), rs from it by hand
    a, b, c, beta = 4.939, 4.939 * 0.569143551326, 4.939 * 0.838023891476, math.radians(142.47)
    volume = a * b * c * math.sin(beta)
    assert atoms.cell.volume == pytest.approx(volume, rel=1e-9)
    assert structures.build_phase("C2c-12").cell.volume == pytest.approx(volume / 2, rel=1e-9)
    rs = (3 * volume / grid.BOHR_ANGSTROM**3 / (4 * math.pi * 24)) ** (1 / 3)
    assert atoms.info["rs_bohr"] == pytest.approx(rs, rel=1e-12)
    assert rs == pytest.approx(1.3295, abs=1e-4)
    bonds = bond_lengths(atoms)
    assert len(bonds) == 12
    np.testing.assert_allclose(np.unique(bonds.round(4)), [0.7511, 0.7567])
    np.testing.assert_allclose(
        np.unique(bond_lengths(structures.build_phase("C2c-12")).round(4)), [0.7511, 0.7567]
    )


@pytest.mark.parametrize(("name", "rs", "n_atoms", "conventional", "bonds"), [
    ("Cmca-12", 1.30, 12, 24, (0.7615, 0.7828)),
    ("Cmca-4", 1.45, 4, 8, (0.8148, 0.8148)),
])
def test_cmca_phases_from_the_relaxed_public_cells(name, rs, n_atoms, conventional, bonds):
    """Cmca-12 and Cmca-4: Cmca (64) on 8f, the named atom count, the relaxed bonds, provenance recorded."""
    phase = structures.get_phase(name)
    atoms = structures.build_phase(name, rs=rs)
    assert len(atoms) == n_atoms and atoms.info["rs_bohr"] == pytest.approx(rs, rel=1e-12)
    assert len(structures.build_phase(name, rs=rs, cell="conventional")) == conventional
    for symprec in (1e-3, 0.01, 0.05):
        assert space_group_number(atoms, symprec) == 64 and primitive_atom_count(atoms, symprec) == n_atoms
    lengths = bond_lengths(atoms)
    assert lengths.min() == pytest.approx(bonds[0], abs=2e-4) and lengths.max() == pytest.approx(bonds[1], abs=2e-4)
    assert molecules.closest_intermolecular(atoms, structures.find_molecules(atoms)) > 1.0
    assert phase.rs_reference == pytest.approx(1.30, abs=1e-6)
    for text in ("jrjturnbull/SummerProject", "b4300387", "crystal_fit " + name.lower().replace("-", "")):
        assert text in phase.source
    assert "30 GPa" in phase.notes and "2020" in phase.notes
    assert phase.pressure_range_gpa == {"Cmca-12": (270.0, 385.0), "Cmca-4": (385.0, 500.0)}[name]


@pytest.mark.parametrize("name", BUNDLED)
@pytest.mark.parametrize("rs", [1.30, 1.38, 1.45, 1.8])
def test_scaled_to_rs_keeps_symmetry_and_bonds(name, rs):
    reference = structures.build_phase(name)
    atoms = structures.build_phase(name, rs=rs)
    assert grid.rs_bohr(atoms.cell.array, len(atoms)) == pytest.approx(rs, rel=1e-12)
    assert atoms.info["rs_bohr"] == pytest.approx(rs, rel=1e-12)
    assert space_group_number(atoms, 0.01) == structures.get_phase(name).space_group_number
    assert len(atoms) == len(reference)
    if structures.get_phase(name).molecular:
        bonds = bond_lengths(reference)
        np.testing.assert_allclose(bond_lengths(atoms), bonds, atol=1e-9)  # molecules are rigid
        distances = atoms.get_all_distances(mic=True)[np.triu_indices(len(atoms), 1)]
        assert distances.min() == pytest.approx(bonds.min(), abs=1e-9)  # nothing closer than a bond
        assert molecules.closest_intermolecular(atoms, structures.find_molecules(atoms)) > bonds.max()


@pytest.mark.parametrize("name", [n for n, p in structures.PHASES.items() if not p.available])
def test_unbundled_phases_refuse_with_the_reason(name):
    phase = structures.PHASES[name]
    with pytest.raises(StructureError, match="not bundled") as info:
        structures.build_phase(name, rs=1.3)
    message = str(info.value)
    assert phase.missing in message and "structures.data.SEARCHED" in message and "C2c-12" in message
    assert phase.rs_reference is None


def test_i41amd_is_the_four_coordinated_cs_iv_cell_with_the_fitted_c_over_a():
    from elfviz.structures.data import I41AMD_C_OVER_A

    assert 2.0 < I41AMD_C_OVER_A < 3.2
    for rs in (1.1, 1.23, 1.3):
        conventional = structures.build_phase("I41amd", rs=rs, cell="conventional")
        a, b, c = conventional.cell.lengths()
        assert len(conventional) == 4 and a == pytest.approx(b) and c / a == pytest.approx(I41AMD_C_OVER_A)
        primitive = structures.build_phase("I41amd", rs=rs) * (3, 3, 3)
        distances = np.sort(primitive.get_distances(0, range(1, len(primitive)), mic=True))
        assert distances[3] == pytest.approx(distances[0], rel=1e-9)  # four nearest neighbours
        assert distances[4] > 1.1 * distances[0]  # then a clear gap to the next shell
        assert distances[0] > 0.8  # no H2 bond (0.70-0.80 Å) in the atomic phase


def test_i41amd_recipe_and_bundled_cell_agree():
    """The bundled cell is exactly what structures_fit builds at the fitted c/a and rs 1.23."""
    from elfviz.reference import crystal_fit as structures_fit
    from elfviz.structures.data import I41AMD_C_OVER_A

    bundled = structures.build_phase("I41amd", rs=1.23)
    recipe = structures_fit.i41amd_cell(I41AMD_C_OVER_A, rs=1.23)
    assert structures.get_phase("I41amd").rs_reference == pytest.approx(1.23, rel=1e-12)
    np.testing.assert_allclose(np.sort(bundled.cell.lengths()), np.sort(recipe.cell.lengths()), rtol=1e-12)
    assert bundled.cell.volume == pytest.approx(recipe.cell.volume, rel=1e-12)
    assert space_group_number(recipe) == 141


def test_c2c24_is_the_24_atom_layered_c2c():
    atoms = structures.build_phase("C2/c-24", rs=1.38)
    assert len(atoms) == 24 and len(structures.build_phase("C2c-24", cell="conventional")) == 48
    for symprec in (0.01, 0.05):
        assert space_group_number(atoms, symprec) == 15 and primitive_atom_count(atoms, symprec) == 24
    bonds = bond_lengths(atoms)
    assert len(bonds) == 12 and bonds.min() >= 0.70 and bonds.max() <= 0.80
    phase = structures.get_phase("C2c-24")
    assert phase.rs_reference == pytest.approx(1.38, rel=1e-6)
    assert "solid_hydrogen" in phase.source and "crystal_fit" in phase.source


def test_c2c24_is_the_relaxed_idealised_start_in_the_same_cell():
    from elfviz.reference import crystal_fit as structures_fit

    start = structures_fit.c2c24_start(1.38)
    relaxed = structures.build_phase("C2c-24", rs=1.38)
    conventional = structures.build_phase("C2c-24", rs=1.38, cell="conventional")
    assert conventional.cell.volume == pytest.approx(2 * start.cell.volume, rel=1e-6)
    a, b, c = conventional.cell.lengths()  # the fixed start cell in its C-centred orthogonal setting
    np.testing.assert_allclose(
        [a, b, c], np.array([1, math.sqrt(3), 1]) * start.cell.lengths()[[0, 0, 2]], rtol=1e-6
    )
    np.testing.assert_allclose(bond_lengths(start), 0.74, atol=1e-9)
    assert bond_lengths(relaxed).min() > 0.745  # PBE stretched the bonds: the positions were relaxed
    assert molecules.closest_intermolecular(relaxed, structures.find_molecules(relaxed)) > 1.1


def test_records_are_complete():
    from elfviz.structures import data as structures_data

    for record in structures_data.PHASE_RECORDS:
        assert {"name", "space_group", "space_group_number", "n_atoms", "molecular", "source"} <= set(record)
        if "missing" not in record:
            assert len(record["cellpar"]) == 6 and record["basis"] and record["pressure_gpa"] > 0


def test_intermolecular_distances_scale_with_the_cell():
    small = structures.build_phase("C2c-12", rs=1.3)
    large = structures.build_phase("C2c-12", rs=1.6)
    d_small = molecules.closest_intermolecular(small, structures.find_molecules(small))
    d_large = molecules.closest_intermolecular(large, structures.find_molecules(large))
    assert d_large > d_small * 1.15


def test_supercell():
    atoms = structures.build_phase("C2c-12", rs=1.38, supercell=(2, 1, 3))
    assert len(atoms) == 12 * 6
    assert atoms.info["rs_bohr"] == pytest.approx(1.38, rel=1e-12)
    assert len(structures.build_phase("C2c-12", supercell=2)) == 12 * 8
    for bad in [(0, 1, 1), (1.5, 1, 1), (1, 1), "x"]:
        with pytest.raises(StructureError, match="supercell"):
            structures.build_phase("C2c-12", supercell=bad)


def test_build_by_pressure():
    atoms = structures.build_phase("c2c-12", pressure_gpa=300.0)
    assert atoms.info["rs_bohr"] == pytest.approx(1.3294697, rel=1e-6)
    assert atoms.info["pressure_gpa"] == 300.0
    ds = grid.from_atoms(atoms, spacing=0.5)
    assert ds.attrs["pressure_gpa"] == 300.0 and ds.attrs["phase"] == "C2c-12"


def test_bad_requests():
    with pytest.raises(StructureError, match="unknown phase"):
        structures.build_phase("Fm-3m")
    with pytest.raises(StructureError, match="not bundled"):
        structures.build_phase("P63m-16", rs=1.3)
    with pytest.raises(StructureError, match="primitive' or 'conventional"):
        structures.build_phase("C2c-12", cell="unit")
    with pytest.raises(StructureError, match="not both"):
        structures.build_phase("C2c-12", rs=1.3, pressure_gpa=300)
    for rs in (0.0, -1.0, float("nan")):
        with pytest.raises(StructureError, match="positive"):
            structures.build_phase("C2c-12", rs=rs)
    with pytest.raises(StructureError, match="outside the range"):
        structures.build_phase("C2c-12", pressure_gpa=1.0)
    with pytest.raises(StructureError, match="no longer molecular"):
        structures.build_phase("C2c-12", rs=0.9)


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


def _c2c12_record(**changes):
    from elfviz.structures import data as structures_data

    record = dict(structures_data.PHASE_RECORDS[0], name="test-c2c", **changes)
    return structures.Phase(**record)


def test_register_phase_checks_the_published_cell():
    try:
        structures.register_phase(_c2c12_record())  # the bundled data pass the check
        assert len(structures.build_phase("test-c2c")) == 12
        structures.PHASES.pop("test-c2c")
        with pytest.raises(StructureError, match="give 12 atoms in the primitive cell, but n_atoms is 24"):
            structures.register_phase(_c2c12_record(n_atoms=24))  # the old C2c-24 mislabel
        b, c = 4.939 * 0.569143551326, 4.939 * 0.838023891476
        with pytest.raises(StructureError, match="bonds"):  # cell stretched along b: bonds too long
            structures.register_phase(_c2c12_record(cellpar=(4.939, 1.3 * b, c, 90.0, 142.47, 90.0)))
        squeezed = ((0.0, 0.1012, 0.25), (0.0, 0.3684, 0.25), (0.226, 0.0672, 0.2464), (0.2, 0.11, 0.2))
        with pytest.raises(StructureError):
            structures.register_phase(_c2c12_record(basis=squeezed))
        assert "test-c2c" not in structures.PHASES
    finally:
        structures.PHASES.pop("test-c2c", None)
