"""Foundation CLI commands info, convert, phases, phase: exit codes, output, no overwrite, clean errors."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from elfviz import grid, io
from elfviz.cli import main


@pytest.fixture
def elf_file(tmp_path):
    cell = np.array([[3.0, 0, 0], [0.5, 2.9, 0], [0.2, 0.3, 3.1]])
    a, b, c = np.meshgrid(*(np.arange(n) / n for n in (8, 9, 10)), indexing="ij")
    elf = 0.5 + 0.4 * np.sin(2 * np.pi * a) * np.cos(2 * np.pi * b)
    ds = grid.make_dataset(cell, [[0, 0, 0], [0.74, 0, 0]], [1, 1], elf=elf)
    path = tmp_path / "ELFCAR"
    io.write(ds, path)
    return path, ds


def run_cli(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_done_when_phase_then_info(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli(capsys, "phase", "C2c-24", "--rs", "1.38", "-o", "x.cif")
    assert code == 0 and "24 atoms" in out
    code, out, _ = run_cli(capsys, "info", "x.cif", "--json")
    assert code == 0
    info = json.loads(out)
    assert info["n_atoms"] == 24
    assert info["rs_bohr"] == pytest.approx(1.38, abs=1e-6)
    assert info["species"] == {"H": 24}
    assert info["grid"] is None
    from elfviz.structures import build_phase

    expected = build_phase("C2c-24", rs=1.38).get_all_distances(mic=True)
    assert info["min_distance_A"] == pytest.approx(expected[np.triu_indices(24, 1)].min(), abs=1e-4)
    assert 0.70 <= info["min_distance_A"] <= 0.80  # an H2 bond


def test_phase_never_overwrites_without_force(tmp_path, capsys):
    out_file = tmp_path / "c2c.xyz"
    assert run_cli(capsys, "phase", "C2c-24", "--rs", "1.5", "-o", str(out_file))[0] == 0
    before = out_file.read_text()
    code, _, err = run_cli(capsys, "phase", "C2c-24", "--rs", "1.4", "-o", str(out_file))
    assert code == 2 and "already exists" in err and "--force" in err
    assert out_file.read_text() == before
    assert run_cli(capsys, "phase", "C2c-24", "--rs", "1.4", "-o", str(out_file), "--force")[0] == 0
    assert io.read(out_file).attrs["rs_bohr"] == pytest.approx(1.4, rel=1e-6)


def test_phase_by_pressure_and_supercell(tmp_path, capsys):
    code, out, _ = run_cli(
        capsys, "phase", "C2c-24", "--pressure", "300", "--supercell", "2,1,1", "-o", str(tmp_path / "POSCAR")
    )
    assert code == 0 and "48 atoms" in out and "P = 300 GPa" in out
    assert io.read(tmp_path / "POSCAR").sizes["atom"] == 48
    for bad in ("2,x", "2,2", "0,1,1", "2x2"):
        code, _, err = run_cli(capsys, "phase", "C2c-24", "--supercell", bad, "-o", str(tmp_path / "bad.cif"))
        assert code == 2 and "supercell" in err
    assert not (tmp_path / "bad.cif").exists()
    from elfviz.cli.phase import parse_supercell

    assert parse_supercell("2x1x3") == (2, 1, 3) and parse_supercell("2") == (2, 2, 2)
    code, _, err = run_cli(capsys, "phase", "P63m-16", "--rs", "1.3", "-o", str(tmp_path / "p63m.cif"))
    assert code == 2 and "not bundled" in err
    assert not (tmp_path / "p63m.cif").exists()


def test_phases_lists_all(capsys):
    code, out, _ = run_cli(capsys, "phases")
    assert code == 0
    for name in ("C2c-24", "Cmca-12", "Cmca-4", "P63m-16", "I41amd"):
        assert name in out
    code, out, _ = run_cli(capsys, "phases", "--json")
    rows = {row["name"]: row for row in json.loads(out)}
    assert rows["C2c-24"]["available"] and rows["C2c-24"]["n_atoms"] == 24
    assert rows["C2c-24"]["rs_reference_bohr"] == pytest.approx(1.38, abs=1e-4)
    assert rows["C2c-12"]["available"] and rows["C2c-12"]["n_atoms"] == 12
    assert rows["I41amd"]["kind"] == "atomic" and rows["I41amd"]["available"]
    assert rows["I41amd"]["rs_reference_bohr"] == pytest.approx(1.23, abs=1e-4)
    assert rows["Cmca-12"]["available"] and rows["Cmca-12"]["n_atoms"] == 12
    assert rows["Cmca-4"]["available"] and rows["Cmca-4"]["n_atoms"] == 4
    assert rows["Cmca-4"]["rs_reference_bohr"] == pytest.approx(1.30, abs=1e-4)
    assert rows["Cmca-4"]["pressure_range_gpa"] == [385.0, 500.0]
    assert not rows["P63m-16"]["available"]


@pytest.mark.parametrize(("name", "primitive", "conventional"), [("C2c-24", 24, 48), ("I41amd", 2, 4)])
def test_phase_primitive_or_conventional_cell(tmp_path, capsys, name, primitive, conventional):
    for cell, count in (("primitive", primitive), ("conventional", conventional)):
        path = tmp_path / f"{name}-{cell}.xyz"
        code, out, _ = run_cli(capsys, "phase", name, "--rs", "1.3", "--cell", cell, "-o", str(path))
        assert code == 0 and f"{count} atoms ({cell} cell)" in out
        ds = io.read(path)
        assert ds.sizes["atom"] == count and ds.attrs["rs_bohr"] == pytest.approx(1.3, rel=1e-6)
    with pytest.raises(SystemExit):
        main(["phase", name, "--cell", "unit", "-o", str(tmp_path / "x.xyz")])


def test_info_on_field_file(elf_file, capsys):
    path, ds = elf_file
    code, out, _ = run_cli(capsys, "info", str(path), "--json")
    info = json.loads(out)
    assert info["grid"]["shape"] == [8, 9, 10]
    stats = info["grid"]["fields"]["elf"]
    assert stats["min"] == pytest.approx(float(ds["elf"].min()), abs=1e-6)
    assert stats["max"] == pytest.approx(float(ds["elf"].max()), abs=1e-6)
    assert stats["mean"] == pytest.approx(float(ds["elf"].values.mean(dtype=np.float64)), abs=1e-6)
    np.testing.assert_allclose(
        info["grid"]["spacing_A"], np.linalg.norm(ds["cell"].values, axis=1) / [8, 9, 10], atol=1e-6
    )
    assert info["density_g_cm3"] == pytest.approx(
        grid.mass_density_g_cm3(ds["cell"].values, [1, 1]), abs=1e-6
    )
    code, text, _ = run_cli(capsys, "info", str(path))
    assert code == 0 and "8x9x10" in text and "rs" in text and "elf" in text


def test_convert_between_formats(elf_file, tmp_path, capsys):
    path, ds = elf_file
    for name in ("elf.cube", "elf.xsf", "elf.nc", "POSCAR", "s.cif"):
        code, out, _ = run_cli(capsys, "convert", str(path), str(tmp_path / name))
        assert code == 0 and name in out
    np.testing.assert_allclose(io.read(tmp_path / "elf.cube")["elf"].values, ds["elf"].values, atol=1e-6)
    np.testing.assert_allclose(io.read(tmp_path / "elf.xsf")["elf"].values, ds["elf"].values, atol=1e-6)
    code, _, err = run_cli(capsys, "convert", str(path), str(tmp_path / "elf.cube"))
    assert code == 2 and "already exists" in err
    assert run_cli(capsys, "convert", str(path), str(tmp_path / "elf.cube"), "--force")[0] == 0


def test_convert_chgcar_with_field_name(tmp_path, capsys, elf_file):
    from elfviz.io.vasp import write_vasp

    _, ds = elf_file
    (tmp_path / "CHGCAR").write_text(
        write_vasp(ds["cell"].values, ds["positions"].values, [1, 1], [ds["elf"].values * 20.0])
    )
    code, out, _ = run_cli(capsys, "info", str(tmp_path / "CHGCAR"), "--json")
    assert code == 0 and "charge" in json.loads(out)["grid"]["fields"]
    code, _, err = run_cli(
        capsys, "convert", str(tmp_path / "CHGCAR"), str(tmp_path / "c.cube"), "--field", "elf"
    )
    assert code == 2 and "outside [0, 1]" in err
    assert (
        run_cli(capsys, "convert", str(tmp_path / "CHGCAR"), str(tmp_path / "c.cube"), "--field", "charge")[0]
        == 0
    )
    assert grid.field_names(io.read(tmp_path / "c.cube", field="charge")) == ["charge"]


BAD_INPUTS = {
    "empty.cube": ("", "empty"),
    "notes.txt": ("hello world\n", "unknown file format"),
    "mol.xyz": ("2\nc\nH 0 0 0\nH 0.74 0 0\n", "no cell"),
    "slab.xyz": (
        '1\nLattice="3 0 0 0 3 0 0 0 3" pbc="T T F" Properties=species:S:1:pos:R:3\nH 0 0 0\n',
        "periodic",
    ),
    "nan.xyz": (
        '1\nLattice="3 0 0 0 3 0 0 0 3" pbc="T T T" Properties=species:S:1:pos:R:3\nH nan 0 0\n',
        "NaN",
    ),
    "POSCAR": ("x\n1.0\n3 0 0\n0 3 0\n0 0 3\nH\n2\nCartesian\n0 0 0\n0.1 0 0\n", "apart"),
    "cut.cube": ("c\nc\n 1 0 0 0\n 2 1 0 0\n 2 0 1 0\n 2 0 0 1\n 1 1 0 0 0\n 0.1 0.2 0.3\n", "2x2x2 grid"),
    "ELFCAR": (
        "x\n1.0\n3 0 0\n0 3 0\n0 0 3\nH\n1\nDirect\n0 0 0\n\n 2 2 2\n 5 7 1 2 3\n 4 5 6\n",
        "outside [0, 1]",
    ),
}


@pytest.mark.parametrize("name", sorted(BAD_INPUTS))
def test_bad_input_gives_clean_error_and_exit_2(tmp_path, capsys, name):
    content, message = BAD_INPUTS[name]
    (tmp_path / name).write_text(content)
    code, out, err = run_cli(capsys, "info", str(tmp_path / name))
    assert code == 2
    assert message in err
    assert "Traceback" not in err and err.startswith("elfviz info: error:")


def test_missing_file_in_a_subprocess_has_no_traceback(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "elfviz", "info", str(tmp_path / "missing.cube")],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "no such file" in result.stderr
    assert "Traceback" not in result.stderr


def test_summarize_unit():
    from elfviz.cli.info import format_text, summarize

    ds = grid.make_dataset(np.eye(3) * 2.0, [[0, 0, 0]], [1], elf=np.full((4, 4, 4), 0.25))
    info = summarize(ds)
    # hand calculation: 1 H in 8 Å^3
    volume_bohr3 = 8.0 / grid.BOHR_ANGSTROM**3
    assert info["rs_bohr"] == pytest.approx((3 * volume_bohr3 / (4 * np.pi)) ** (1 / 3), abs=1e-6)
    assert info["density_g_cm3"] == pytest.approx(1.008 * 1.66053906660e-24 / 8e-24, rel=1e-3)
    assert info["cell_angles"] == [90.0, 90.0, 90.0]
    assert "rs" in format_text(info)
