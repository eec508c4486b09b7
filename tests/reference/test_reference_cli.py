"""``elfviz reference``: happy path through the real CLI entry point, grid/k options, and error paths."""

from __future__ import annotations

import argparse

import numpy as np
import pytest

from elfviz import grid
from elfviz.cli import reference as reference_cli
from elfviz.errors import ElfvizError, FileFormatError, OutputExistsError, SpeciesError, StructureError
from elfviz.io.store import read_netcdf, write_netcdf
from elfviz.reference import qe

needs_qe = pytest.mark.skipif(not qe.is_available(), reason="Quantum ESPRESSO is not installed")

COARSE = ["--gamma", "--ecutwfc", "25", "--np", "1"]


def parse(argv):
    parser = argparse.ArgumentParser()
    reference_cli.add_arguments(parser)
    args = parser.parse_args(argv)
    args.command = reference_cli.NAME
    return args


@pytest.fixture()
def h2_file(tmp_path):
    """H2 in an orthorhombic 3.0 x 3.2 x 3.4 Å box as extended XYZ."""
    from ase import Atoms

    atoms = Atoms("H2", positions=[[1.1, 1.6, 1.7], [1.84, 1.6, 1.7]], cell=[3.0, 3.2, 3.4], pbc=True)
    path = tmp_path / "h2.xyz"
    atoms.write(path, format="extxyz")
    return path


@needs_qe
@pytest.mark.dft
def test_reference_happy_path_and_no_overwrite(h2_file, tmp_path, capsys):
    from elfviz.cli import main

    out = tmp_path / "ref.nc"
    assert main(["reference", str(h2_file), "-o", str(out), *COARSE, "--grid", "12,12,12"]) == 0
    ds = read_netcdf(out)
    assert ds["elf"].shape == (12, 12, 12)
    assert ds.attrs["engine"] == "qe" and ds.attrs["kmesh"] == [1, 1, 1]
    assert ds.attrs["settings"]["ecutwfc_ry"] == 25.0 and ds.attrs["settings"]["mpi_processes"] == 1
    np.testing.assert_allclose(ds["positions"].values, [[1.1, 1.6, 1.7], [1.84, 1.6, 1.7]], atol=1e-6)
    assert "wrote" in capsys.readouterr().out
    # a second run refuses to overwrite (exit 2, message, no traceback) before any calculation
    assert main(["reference", str(h2_file), "-o", str(out), *COARSE]) == 2
    assert "already exists" in capsys.readouterr().err
    # --like takes the grid of an existing field file with the same cell
    like_out = tmp_path / "like.nc"
    assert main(["reference", str(out), "-o", str(like_out), *COARSE, "--like", str(out)]) == 0
    assert read_netcdf(like_out)["elf"].shape == (12, 12, 12)


def test_output_checked_before_the_calculation(h2_file, tmp_path):
    existing = tmp_path / "exists.nc"
    existing.write_text("x")
    with pytest.raises(OutputExistsError):
        reference_cli.run(parse([str(h2_file), "-o", str(existing)]))
    with pytest.raises(FileFormatError, match="extension"):
        reference_cli.run(parse([str(h2_file), "-o", str(tmp_path / "noext")]))


def test_missing_and_unreadable_structure(tmp_path):
    with pytest.raises(FileFormatError, match="does not exist"):
        reference_cli.run(parse([str(tmp_path / "nope.xyz"), "-o", str(tmp_path / "o.nc")]))
    bad = tmp_path / "bad.xyz"
    bad.write_text("this is not a structure\n")
    with pytest.raises((FileFormatError, StructureError)):
        reference_cli.run(parse([str(bad), "-o", str(tmp_path / "o.nc")]))


def test_non_hydrogen_structure_is_refused(tmp_path):
    ds = grid.make_dataset(np.eye(3) * 4.0, [[0, 0, 0], [0.96, 0, 0]], [8, 1], shape=(4, 4, 4))
    path = tmp_path / "oh.nc"
    write_netcdf(ds, path)
    with pytest.raises(SpeciesError):
        reference_cli.run(parse([str(path), "-o", str(tmp_path / "o.nc"), "--engine", "qe"]))


@pytest.mark.parametrize(
    "option",
    [
        ["--kmesh", "2,2"],
        ["--kmesh", "2,0,2"],
        ["--kmesh", "a,b,c"],
        ["--grid", "10,10"],
        ["--spacing", "-0.1"],
        ["--np", "0"],
        ["--gamma", "--kmesh", "2,2,2"],
    ],
)
def test_bad_options_are_elfviz_errors(h2_file, tmp_path, option):
    with pytest.raises(ElfvizError):
        reference_cli.run(parse([str(h2_file), "-o", str(tmp_path / "o.nc"), *option]))


def test_settings_from_options():
    args = parse(["s.xyz", "-o", "o.nc", "--kmesh", "3,2,1", "--ecutwfc", "45", "--no-kshift", "--np", "2"])
    settings = reference_cli.settings_from_args(args)
    assert settings.kmesh == (3, 2, 1) and settings.ecutwfc_ry == 45 and settings.kshift is False
    assert settings.mpi_processes == 2
    gamma = reference_cli.settings_from_args(parse(["s.xyz", "-o", "o.nc", "--gamma"]))
    assert gamma.kmesh == (1, 1, 1) and gamma.kshift is False
    spacing = reference_cli.settings_from_args(parse(["s.xyz", "-o", "o.nc", "--kspacing", "0.5"]))
    assert spacing.kspacing == 0.5 and spacing.kmesh is None


def test_like_requires_the_same_cell(h2_file, tmp_path):
    other = grid.make_dataset(np.eye(3) * 5.0, [[0, 0, 0]], [1], shape=(6, 6, 6))
    other = grid.with_field(other, "elf", np.full((6, 6, 6), 0.5))
    like = tmp_path / "other.nc"
    write_netcdf(other, like)
    with pytest.raises(StructureError, match="different cell"):
        reference_cli.run(parse([str(h2_file), "-o", str(tmp_path / "o.nc"), "--like", str(like)]))


@pytest.mark.dft
def test_reference_with_the_pyscf_engine(h2_file, tmp_path):
    from elfviz.reference.pyscf_engine import available

    if not available():
        pytest.skip("PySCF is not installed")
    out = tmp_path / "pyscf.nc"
    args = parse(
        [str(h2_file), "-o", str(out), "--engine", "pyscf", "--gamma", "--grid", "8,8,8", "--np", "1"]
    )
    assert reference_cli.run(args) == 0
    ds = read_netcdf(out)
    assert ds.attrs["engine"] == "pyscf" and ds["elf"].shape == (8, 8, 8)
    assert float(ds["elf"].min()) > 0.99  # one orbital: ELF = 1 where there is density
