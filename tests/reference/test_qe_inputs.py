"""Quantum ESPRESSO backend without running QE: inputs, output parsing, FFT grids, k-meshes, cube axis order,
pseudopotential lookup, missing executables."""

from __future__ import annotations

import gzip

import numpy as np
import pytest

from elfviz import grid
from elfviz.errors import EngineError, SpeciesError
from elfviz.reference import pseudo, qe, reference_elf
from elfviz.reference.settings import DFTSettings

PW_OUTPUT = """
     Program PWSCF v.6.7MaX starts on 26Nov2026 at 10:55:44
     number of k points=     4  Fermi-Dirac smearing, width (Ry)=  0.0200
     Dense  grid:   64000 G-vectors     FFT dimensions: (  40,  40,  40)
     iteration #  1     ecut=    60.00 Ry     beta= 0.50
     estimated scf accuracy    <       0.50000000 Ry
     iteration #  9     ecut=    60.00 Ry     beta= 0.50
     estimated scf accuracy    <       1.2E-09 Ry
     the Fermi energy is    15.8394 ev
!    total energy              =     -60.63119562 Ry
     convergence has been achieved in   9 iterations
          total   stress  (Ry/bohr**3)                   (kbar)     P=     6107.41
"""


def cubic(length, positions, numbers=None):
    numbers = [1] * len(positions) if numbers is None else numbers
    return grid.make_dataset(np.eye(3) * length, positions, numbers, shape=(4, 4, 4))


# ----------------------------------------------------------------------------- inputs
def test_pw_input_has_reference_settings_and_shifted_mesh():
    settings = DFTSettings()
    text = qe.pw_input(
        np.diag([3.0, 3.5, 4.0]),
        np.array([[0.1, 0.2, 0.3], [0.8, 0.2, 0.3]]),
        settings,
        fft_shape=(30, 36, 40),
        kmesh=(2, 2, 2),
        pseudo_file="H_HSCV_PBE-1.0.UPF",
    )
    assert "nat = 2" in text and "ecutwfc = 60" in text and "ecutrho = 240" in text
    assert "nr1 = 30, nr2 = 36, nr3 = 40" in text
    assert "smearing = 'fd', degauss = 0.02" in text
    assert "tstress = .true." in text
    assert "K_POINTS automatic\n2 2 2 1 1 1" in text
    assert (
        "CELL_PARAMETERS angstrom\n  3.0000000000 0.0000000000 0.0000000000\n  0.0000000000 3.5000000000"
        in text
    )
    assert "H 0.8000000000 0.2000000000 0.3000000000" in text
    # conv_thr scales with the number of atoms
    assert "conv_thr = 2.000e-09" in text


def test_pw_input_gamma_and_unshifted_and_fixed_occupations():
    pos = np.array([[0.0, 0.0, 0.0]])
    gamma = qe.pw_input(
        np.eye(3) * 3,
        pos,
        DFTSettings(kmesh=(1, 1, 1), kshift=False),
        fft_shape=(24, 24, 24),
        kmesh=(1, 1, 1),
        pseudo_file="H.UPF",
    )
    assert gamma.rstrip().endswith("K_POINTS gamma")
    unshifted = qe.pw_input(
        np.eye(3) * 3,
        pos,
        DFTSettings(kshift=False),
        fft_shape=(24, 24, 24),
        kmesh=(3, 3, 3),
        pseudo_file="H.UPF",
    )
    assert "3 3 3 0 0 0" in unshifted
    fixed = qe.pw_input(
        np.eye(3) * 3,
        pos,
        DFTSettings(smearing="none"),
        fft_shape=(24, 24, 24),
        kmesh=(1, 1, 1),
        pseudo_file="H.UPF",
    )
    assert "occupations = 'fixed'" in fixed and "degauss" not in fixed


def test_pp_input_asks_for_elf_cube():
    text = qe.pp_input()
    assert "plot_num = 8" in text and "output_format = 6" in text and "iflag = 3" in text


# ----------------------------------------------------------------------------- output parsing
def test_parse_pw_output_units():
    out = qe.parse_pw_output(PW_OUTPUT)
    assert out["qe_version"] == "6.7MaX"
    assert out["total_energy_ev"] == pytest.approx(-60.63119562 * 13.605693122994)
    assert out["pressure_gpa"] == pytest.approx(610.741)  # kbar -> GPa
    assert out["scf_converged"] is True and out["scf_iterations"] == 9
    assert out["n_kpoints"] == 4 and out["fft_shape"] == [40, 40, 40]
    assert out["fermi_energy_ev"] == pytest.approx(15.8394)


def test_parse_pw_output_not_converged():
    text = PW_OUTPUT.replace(
        "convergence has been achieved in   9 iterations", "convergence NOT achieved after 9"
    )
    assert qe.parse_pw_output(text)["scf_converged"] is False


def test_qe_error_message_is_extracted():
    text = (
        "blah\n %%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%\n     Error in routine cdiaghg (12):\n     "
        "problems computing cholesky\n %%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%%\n"
    )
    assert qe._qe_error_message(text) == "Error in routine cdiaghg (12): problems computing cholesky"


# ----------------------------------------------------------------------------- grids and k-points
def test_minimum_fft_shape_matches_pw_x():
    # pw.x chose (40, 40, 40) for the 64-atom rs 1.20 liquid cell (4.0950 Å) at ecutrho 240 Ry
    cell = grid.cell_for_rs(1.2, 64)
    assert qe.minimum_fft_shape(cell, 240.0) == (40, 40, 40)
    # sizes only have the prime factors 2, 3, 5 and grow with the cutoff and the cell
    shape = qe.minimum_fft_shape(np.diag([3.1, 4.7, 7.3]), 320.0)
    assert all(grid.is_fft_friendly(n) for n in shape) and shape[0] < shape[1] < shape[2]


def test_choose_fft_shape():
    cell = np.eye(3) * 4.0
    minimum = qe.minimum_fft_shape(cell, 240.0)
    assert qe.choose_fft_shape(cell, DFTSettings()) == (minimum, minimum)
    fine = qe.choose_fft_shape(cell, DFTSettings(), spacing=0.05)
    assert fine[0] == fine[1] == grid.shape_for_spacing(cell, 0.05)
    coarse = qe.choose_fft_shape(cell, DFTSettings(), spacing=1.0)
    assert coarse == (minimum, minimum)  # never below the cutoff's minimum
    # an explicit shape below the minimum (or not 2-3-5) is computed on the minimum grid and resampled
    assert qe.choose_fft_shape(cell, DFTSettings(), shape=(10, 10, 10)) == (minimum, (10, 10, 10))
    assert qe.choose_fft_shape(cell, DFTSettings(), shape=(49, 49, 49)) == (minimum, (49, 49, 49))
    assert qe.choose_fft_shape(cell, DFTSettings(), shape=(60, 60, 60)) == ((60, 60, 60), (60, 60, 60))


@pytest.mark.parametrize("rs", [1.20, 1.38, 1.65])
def test_default_kspacing_gives_2x2x2_for_64_atoms(rs):
    assert DFTSettings().kpoint_mesh(grid.cell_for_rs(rs, 64)) == (2, 2, 2)


def test_kpoint_mesh_follows_cell_shape_and_explicit_mesh():
    settings = DFTSettings(kspacing=0.5)
    mesh = settings.kpoint_mesh(np.diag([2.0, 4.0, 8.0]))
    # |b_i| = 2 pi / a_i -> ceil(|b_i| / 0.5)
    assert mesh == tuple(int(np.ceil(2 * np.pi / a / 0.5)) for a in (2.0, 4.0, 8.0)) == (7, 4, 2)
    assert DFTSettings(kmesh=(3, 1, 2)).kpoint_mesh(np.eye(3)) == (3, 1, 2)


@pytest.mark.parametrize(
    "changes",
    [
        dict(functional="LDA"),
        dict(ecutwfc_ry=0),
        dict(smearing="cold"),
        dict(kspacing=-1),
        dict(kmesh=(2, 0, 2)),
        dict(kmesh=(2, 2)),
    ],
)
def test_invalid_settings_raise(changes):
    with pytest.raises(EngineError):
        DFTSettings(**changes)


# ----------------------------------------------------------------------------- cube parsing
def test_read_elf_cube_keeps_axis_order(tmp_path):
    """A cube written by ASE with an asymmetric field on a non-cubic cell comes back with a along axis 0."""
    from ase import Atoms
    from ase.io.cube import write_cube

    shape = (6, 8, 10)
    i, j, k = np.meshgrid(*[np.arange(n) for n in shape], indexing="ij")
    field = (0.5 * i / shape[0] + 0.3 * j / shape[1] + 0.2 * k / shape[2]).astype(np.float64)
    atoms = Atoms("H", positions=[[0.3, 0.4, 0.5]], cell=np.diag([3.0, 4.0, 5.0]), pbc=True)
    with open(tmp_path / "elf.cube", "w") as handle:
        write_cube(handle, atoms, data=field)
    back = qe.read_elf_cube(tmp_path / "elf.cube", shape)
    np.testing.assert_allclose(back, field, atol=1e-5)
    with pytest.raises(EngineError, match="shape"):
        qe.read_elf_cube(tmp_path / "elf.cube", (8, 6, 10))


def test_resample_periodic_identity_and_range():
    rng = np.random.default_rng(1)
    field = rng.random((8, 8, 8)).astype(np.float32)
    np.testing.assert_allclose(qe.resample_periodic(field, (8, 8, 8)), field, atol=1e-6)
    finer = qe.resample_periodic(field, (16, 16, 16))
    np.testing.assert_allclose(finer[::2, ::2, ::2], field, atol=1e-6)  # the old points are kept
    assert finer.min() >= 0 and finer.max() <= 1


# ----------------------------------------------------------------------------- environment
def test_missing_pw_x_is_an_engine_error_with_install_hint(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("ELFVIZ_QE_BIN", raising=False)
    with pytest.raises(EngineError, match="apt-get install quantum-espresso"):
        qe.find_executable("pw.x")
    assert qe.is_available() is False
    with pytest.raises(EngineError, match="pw.x was not found on PATH"):
        reference_elf(cubic(3.0, [[0, 0, 0], [0.74, 0, 0]]), engine="qe")


def test_qe_bin_environment_variable(monkeypatch, tmp_path):
    fake = tmp_path / "pw.x"
    fake.write_text("#!/bin/sh\n")
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.setenv("ELFVIZ_QE_BIN", str(tmp_path))
    assert qe.find_executable("pw.x") == str(fake)


def test_non_hydrogen_is_a_species_error():
    water_like = cubic(4.0, [[0, 0, 0], [0.96, 0, 0]], numbers=[8, 1])
    with pytest.raises(SpeciesError, match="hydrogen only"):
        reference_elf(water_like, engine="qe")
    with pytest.raises(SpeciesError, match="hydrogen only"):
        reference_elf(water_like, engine="pyscf")


def test_unknown_engine():
    with pytest.raises(EngineError, match="unknown engine"):
        reference_elf(cubic(3.0, [[0, 0, 0]]), engine="vasp")


def test_mpi_prefix():
    assert qe.mpi_prefix(1) == []
    prefix = qe.mpi_prefix(3)
    if prefix:  # mpirun installed
        assert prefix[0] == "mpirun" and prefix[-2:] == ["-np", "3"]


# ----------------------------------------------------------------------------- pseudopotential
def test_pseudopotential_explicit_and_environment(monkeypatch, tmp_path):
    with pytest.raises(EngineError, match="does not exist"):
        pseudo.find_pseudopotential(tmp_path / "nope.UPF")
    upf = tmp_path / pseudo.PSEUDO_NAME
    upf.write_text('<UPF version="2.0.1">\n')
    monkeypatch.setenv("ELFVIZ_PSEUDO_DIR", str(tmp_path))
    assert pseudo.find_pseudopotential() == upf


def test_pseudopotential_decompressed_from_debian_copy(monkeypatch, tmp_path):
    gz = tmp_path / "H_HSCV_PBE-1.0.UPF.gz"
    with gzip.open(gz, "wb") as handle:
        handle.write(b"<PP_INFO> HSCV </PP_INFO>\n")
    monkeypatch.delenv("ELFVIZ_PSEUDO_DIR", raising=False)
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(pseudo, "_DEBIAN_GZ", gz)
    monkeypatch.setattr(pseudo, "Path", _no_system_path(pseudo.Path))
    found = pseudo.find_pseudopotential()
    assert found == tmp_path / "cache" / "elfviz" / "pseudo" / pseudo.PSEUDO_NAME
    assert found.read_bytes() == b"<PP_INFO> HSCV </PP_INFO>\n"
    assert not list(found.parent.glob("*.part"))


def test_pseudopotential_missing_everywhere(monkeypatch, tmp_path):
    monkeypatch.delenv("ELFVIZ_PSEUDO_DIR", raising=False)
    monkeypatch.delenv("CONDA_PREFIX", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(pseudo, "_DEBIAN_GZ", tmp_path / "missing.gz")
    monkeypatch.setattr(pseudo, "Path", _no_system_path(pseudo.Path))
    with pytest.raises(EngineError, match="quantum-espresso-data"):
        pseudo.find_pseudopotential()


def _no_system_path(path_type):
    """A Path factory that hides /usr/share/espresso (so the test does not depend on the machine)."""

    def factory(*parts):
        path = path_type(*parts)
        if str(path).startswith("/usr/share/espresso"):
            return path_type("/nonexistent-elfviz-test") / path.name
        return path

    return factory


def test_pw_input_lets_an_unconverged_scf_finish_only_when_asked():
    pos = np.array([[0.0, 0.0, 0.0]])
    strict = qe.pw_input(
        np.eye(3) * 3, pos, DFTSettings(), fft_shape=(24, 24, 24), kmesh=(1, 1, 1), pseudo_file="H"
    )
    assert "scf_must_converge" not in strict
    lenient = qe.pw_input(
        np.eye(3) * 3,
        pos,
        DFTSettings(),
        fft_shape=(24, 24, 24),
        kmesh=(1, 1, 1),
        pseudo_file="H",
        scf_must_converge=False,
    )
    assert "scf_must_converge = .false." in lenient


def test_parse_pw_output_sees_through_scf_must_converge_false():
    """pw.x 6.7 prints "convergence has been achieved" after the last allowed iteration when
    scf_must_converge = .false.; the final accuracy above the threshold gives it away."""
    text = "     scf convergence threshold =      2.0E-09\n" + PW_OUTPUT.replace("1.2E-09", "3.8E-03")
    out = qe.parse_pw_output(text)
    assert out["scf_converged"] is False and out["scf_accuracy_ry"] == pytest.approx(3.8e-3)
    good = qe.parse_pw_output("     scf convergence threshold =      2.0E-09\n" + PW_OUTPUT)
    assert good["scf_converged"] is True
