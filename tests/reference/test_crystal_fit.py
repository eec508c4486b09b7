"""elfviz.reference.crystal_fit: the recipes behind the DFT-derived phase data (cells, pw.x inputs, fits)."""

from __future__ import annotations

import math
import shutil

import numpy as np
import pytest

from elfviz import grid, structures
from elfviz.errors import EngineError
from elfviz.reference import crystal_fit as structures_fit

spglib = pytest.importorskip("spglib")


def symmetry(atoms, symprec):
    cell = (atoms.cell.array, atoms.get_scaled_positions(), atoms.numbers)
    dataset = spglib.get_symmetry_dataset(cell, symprec=symprec)
    return int(dataset.number), len(spglib.find_primitive(cell, symprec=symprec)[2])


@pytest.mark.parametrize("c_over_a", [2.0, 2.6, 3.1])
@pytest.mark.parametrize("rs", [1.1, 1.23])
def test_i41amd_cell(c_over_a, rs):
    atoms = structures_fit.i41amd_cell(c_over_a, rs)
    assert len(atoms) == 2
    assert grid.rs_bohr(atoms.cell.array, 2) == pytest.approx(rs, rel=1e-12)
    assert symmetry(atoms, 1e-4) == (141, 2)
    lengths = atoms.cell.lengths()  # body-centred primitive vectors: (±a/2, ±a/2, ±c/2)
    a = math.sqrt(2) * np.linalg.norm(atoms.cell.array[0, :2])
    assert 2 * abs(atoms.cell.array[0, 2]) / a == pytest.approx(c_over_a)
    np.testing.assert_allclose(lengths, lengths[0])
    conventional = structures_fit.i41amd_cell(c_over_a, rs, conventional=True)
    assert len(conventional) == 4 and symmetry(conventional, 1e-4) == (141, 2)
    a, b, c = conventional.cell.lengths()
    assert a == pytest.approx(b) and c / a == pytest.approx(c_over_a)
    assert conventional.cell.volume == pytest.approx(2 * atoms.cell.volume)
    with pytest.raises(EngineError, match="positive"):
        structures_fit.i41amd_cell(-1.0)


def test_fit_minimum_finds_the_vertex_and_refuses_unbracketed_scans():
    x = np.array([2.5, 2.3, 2.7, 2.4, 2.6])  # order does not matter
    xmin, emin = structures_fit.fit_minimum(x, 0.8 * (x - 2.52) ** 2 - 13.4)
    assert xmin == pytest.approx(2.52, abs=1e-12) and emin == pytest.approx(-13.4, abs=1e-12)
    # a cubic term: the parabola through the lowest points still lands near the minimum
    energies = 0.8 * (x - 2.52) ** 2 + 0.3 * (x - 2.52) ** 3
    assert structures_fit.fit_minimum(x, energies)[0] == pytest.approx(2.52, abs=0.01)
    with pytest.raises(EngineError, match="end of the scan"):
        structures_fit.fit_minimum(x, -x)
    with pytest.raises(EngineError, match="not convex"):
        structures_fit.fit_minimum([1.0, 2.0, 3.0, 4.0, 5.0], [0.0, -1.0, 0.0, -0.99, -0.99], n_points=3)


def test_pw_text_uses_symmetry_the_kspacing_mesh_and_the_reference_settings():
    atoms = structures_fit.i41amd_cell(2.5)
    text = structures_fit.pw_text(atoms, kspacing=0.25)
    assert "nosym" not in text and "ecutwfc = 60" in text and "ecutrho = 240" in text
    assert "smearing = 'fd', degauss = 0.02" in text and "tstress = .true." in text
    lengths = np.linalg.norm(grid.reciprocal_cell(atoms.cell.array), axis=1)
    mesh = " ".join(str(math.ceil(b / 0.25 - 1e-9)) for b in lengths)
    assert f"K_POINTS automatic\n{mesh} 0 0 0" in text
    assert "&IONS" not in text
    relax = structures_fit.pw_text(structures_fit.c2c24_start(), kspacing=0.4, calculation="relax")
    assert "calculation = 'relax'" in relax and "ion_dynamics = 'bfgs'" in relax
    assert "forc_conv_thr = 1.000e-03" in relax and "nat = 24" in relax
    rows = relax.split("ATOMIC_POSITIONS crystal\n")[1].splitlines()[:24]
    np.testing.assert_allclose(
        [[float(v) for v in row.split()[1:]] for row in rows],
        structures_fit.c2c24_start().get_scaled_positions(),
        atol=1e-11,
    )


@pytest.mark.parametrize("rs", [1.3, 1.38, 1.5])
def test_c2c24_start_is_c2c_with_24_atoms_per_primitive_cell(rs):
    atoms = structures_fit.c2c24_start(rs)
    assert len(atoms) == 24 and grid.rs_bohr(atoms.cell.array, 24) == pytest.approx(rs, rel=1e-12)
    for symprec in (1e-3, 0.05):
        assert symmetry(atoms, symprec) == (15, 24)
    pairs = structures.find_molecules(atoms)
    np.testing.assert_allclose([np.linalg.norm(v) for _, _, v in pairs], 0.74, atol=1e-9)
    centres_z = np.unique(np.round(atoms.positions[:, 2], 6))
    assert len(centres_z) == 4  # four layers of flat-lying molecules
    with pytest.raises(EngineError):
        structures_fit.c2c24_start(1.38, bond=-0.7)


def test_wyckoff_record_round_trips_through_ase_crystal():
    from ase.spacegroup import crystal

    atoms = structures_fit.c2c24_start(1.38)
    record = structures_fit.wyckoff_record(atoms, 15)
    assert record["wyckoffs"] == "f" * 6  # 6 x 8f = 48 atoms in the conventional cell
    rebuilt = crystal(["H"] * 6, basis=list(record["basis"]), spacegroup=15, cellpar=list(record["cellpar"]))
    assert len(rebuilt) == 48
    assert rebuilt.cell.volume == pytest.approx(2 * atoms.cell.volume, rel=1e-5)
    assert symmetry(rebuilt, 1e-3) == (15, 24)
    with pytest.raises(EngineError, match="not space group 64"):
        structures_fit.wyckoff_record(atoms, 64)


@pytest.mark.parametrize("name, n_atoms, n_orbits, bonds", [("Cmca-12", 12, 3, (0.7428, 0.7474)),
                                                              ("Cmca-4", 4, 1, (0.7335, 0.7335))])
def test_published_cells_are_cmca_with_the_named_atom_count(name, n_atoms, n_orbits, bonds):
    """The public CASTEP cells as recorded: Cmca on 8f, 24 / 8 atoms conventional, 12 / 4 primitive."""
    from ase.spacegroup import crystal

    record = structures_fit.PUBLISHED_CELLS[name]
    conventional = crystal(["H"] * n_orbits, basis=list(record["basis"]), spacegroup=64,
                           cellpar=list(record["cellpar"]))
    assert len(conventional) == 2 * n_atoms
    for symprec in (1e-5, 1e-3, 0.05):
        assert symmetry(conventional, symprec) == (64, n_atoms)
    assert structures_fit.wyckoff_record(conventional, 64, symprec=1e-3)["wyckoffs"] == "f" * n_orbits
    pairs = structures.find_molecules(conventional)
    lengths = [np.linalg.norm(v) for _, _, v in pairs]
    assert min(lengths) == pytest.approx(bonds[0], abs=1e-4) and max(lengths) == pytest.approx(bonds[1], abs=1e-4)
    assert "jrjturnbull/SummerProject" in record["source"] and "b4300387" in record["source"]


@pytest.mark.parametrize("name, n_atoms", [("Cmca-12", 12), ("Cmca-4", 4)])
@pytest.mark.parametrize("rs", [1.3, 1.45])
def test_published_start_moves_rigid_molecules_to_rs_and_keeps_cmca(name, n_atoms, rs):
    from ase.spacegroup import crystal

    atoms = structures_fit.published_start(name, rs)
    assert len(atoms) == n_atoms and grid.rs_bohr(atoms.cell.array, n_atoms) == pytest.approx(rs, rel=1e-12)
    for symprec in (1e-3, 0.05):
        assert symmetry(atoms, symprec) == (64, n_atoms)
    record = structures_fit.PUBLISHED_CELLS[name]
    published = crystal(["H"] * len(record["basis"]), basis=list(record["basis"]), spacegroup=64,
                         cellpar=list(record["cellpar"]), primitive_cell=True)
    np.testing.assert_allclose(  # bonds as published
        sorted(np.linalg.norm(v) for _, _, v in structures.find_molecules(atoms)),
        sorted(np.linalg.norm(v) for _, _, v in structures.find_molecules(published)),
        atol=1e-9,
    )
    with pytest.raises(EngineError, match="positive"):
        structures_fit.published_start(name, -1.0)
    with pytest.raises(EngineError, match="no published cell"):
        structures_fit.published_start("C2c-24")


def test_pw_text_refuses_calculations_it_does_not_support():
    with pytest.raises(EngineError, match="calculation must be"):
        structures_fit.pw_text(structures_fit.published_start("Cmca-4"), kspacing=0.25, calculation="vc-relax")


def test_parse_forces_stress_converts_units_and_sign():
    text = (
        "     number of atoms/cell      =            2\n"
        "!    total energy              =      -2.00000000 Ry\n"
        "     Forces acting on atoms (cartesian axes, Ry/au):\n\n"
        "     atom    1 type  1   force =     0.01000000    0.00000000   -0.02000000\n"
        "     atom    2 type  1   force =    -0.01000000    0.00000000    0.02000000\n"
        "     The non-local contrib.  to forces\n"
        "     atom    1 type  1   force =     9.00000000    9.00000000    9.00000000\n"
        "          total   stress  (Ry/bohr**3)                   (kbar)     P=     2941.90\n"
        "   0.02000000   0.00000000   0.00000000         2942.10        0.00        0.00\n"
        "   0.00000000   0.02000000   0.00000000            0.00     2942.10        0.00\n"
        "   0.00000000   0.00000000   0.02000000            0.00        0.00     2942.10\n"
    )
    from ase import units

    energy, forces, stress = structures_fit.parse_forces_stress(text)
    assert energy == pytest.approx(-2.0 * units.Ry, rel=1e-6)
    np.testing.assert_allclose(forces[0], np.array([0.01, 0.0, -0.02]) * units.Ry / units.Bohr, rtol=1e-6)
    assert forces.shape == (2, 3)  # the per-term breakdown that follows is not read
    # compression: QE prints a positive stress, ASE's convention is negative; 0.02 Ry/bohr^3 = 294.2 GPa
    np.testing.assert_allclose(np.diag(stress) / units.GPa, -294.21, rtol=1e-3)
    with pytest.raises(EngineError, match="no forces or stress"):
        structures_fit.parse_forces_stress(text.split("     Forces")[0])


def test_relax_shape_keeps_volume_and_space_group(monkeypatch):
    """The ASE driver of the shape relaxation, with a cheap stand-in for pw.x (a pair potential)."""
    from ase.calculators.lj import LennardJones

    def stand_in(kspacing, workdir=None):
        return LennardJones(sigma=1.0, epsilon=0.1, rc=3.0)

    monkeypatch.setattr(structures_fit, "pw_calculator", stand_in)
    start = structures_fit.published_start("Cmca-4", 1.45)
    relaxed, pressure, steps = structures_fit.relax_shape(start, fmax=0.02, max_steps=200)
    assert relaxed.cell.volume == pytest.approx(start.cell.volume, rel=1e-6)
    assert symmetry(relaxed, 1e-3) == (64, 4)
    assert steps > 0 and np.isfinite(pressure) and np.isfinite(relaxed.info["energy_ev"])
    assert relaxed.calc is None and not relaxed.constraints
    assert not np.allclose(relaxed.cell.cellpar(), start.cell.cellpar(), atol=1e-3)  # it did move
    with pytest.raises(EngineError, match="did not converge"):
        structures_fit.relax_shape(start, fmax=1e-6, max_steps=2)


def test_pressure_and_energy_parsers():
    text = (
        "!    total energy              =      -1.97469708 Ry\n"
        "  total   stress  (Ry/bohr**3) (kbar)     P=     4912.35\n"
    )
    assert structures_fit._energy_ry(text) == pytest.approx(-1.97469708)
    assert structures_fit.pressure_gpa(text) == pytest.approx(491.235)
    with pytest.raises(EngineError):
        structures_fit.pressure_gpa("no stress")
    with pytest.raises(EngineError):
        structures_fit._energy_ry("convergence NOT achieved")


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("pw.x") is None, reason="Quantum ESPRESSO (pw.x) is not installed")
def test_i41amd_energy_is_lower_near_the_bundled_c_over_a():
    """Two coarse-k pw.x runs (about a minute): the bundled c/a beats a squashed cell by > 10 meV/atom."""
    from elfviz.structures.data import I41AMD_C_OVER_A

    energies = structures_fit.scan_i41amd([2.0, I41AMD_C_OVER_A], kspacing=0.5)
    assert energies[1] < energies[0] - 0.01


def test_pw_runs_with_the_callers_environment(tmp_path, monkeypatch):
    """A conda-forge pw.x needs the caller's PATH and libraries: the runner must not replace the environment."""
    fake = tmp_path / "bin" / "pw.x"
    fake.parent.mkdir()
    fake.write_text('#!/bin/sh\nif [ "$ELFVIZ_TEST_MARK" = kept ]; then echo "JOB DONE."; else echo lost; exit 3; fi\n')
    fake.chmod(0o755)
    monkeypatch.setenv("ELFVIZ_QE_BIN", str(fake.parent))
    monkeypatch.setenv("ELFVIZ_TEST_MARK", "kept")
    monkeypatch.setattr("elfviz.reference.pseudo.find_pseudopotential", lambda: fake)  # any file to copy
    assert "JOB DONE" in structures_fit.run_pw("&CONTROL\n/\n", nice=0, workdir=tmp_path)
