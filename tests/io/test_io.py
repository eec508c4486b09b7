"""elfviz.io: round trips for every format (skewed cells), cross-reading with ASE and pymatgen, bad input."""

from __future__ import annotations

import gzip
import io as pyio

import numpy as np
import pytest

from elfviz import grid, io
from elfviz.errors import FileFormatError, GridError, OutputExistsError, StructureError
from elfviz.io.formats import detect_format

SKEWED_CELL = np.array([[3.1, 0.0, 0.0], [0.9, 2.8, 0.0], [0.4, -0.6, 3.3]])
FRAC = np.array([[0.05, 0.1, 0.2], [0.45, 0.55, 0.35], [0.7, 0.25, 0.8]])


def field_on(shape, seed=0):
    """A smooth periodic field in [0.05, 0.95] (not random noise, so an axis mix-up changes it)."""
    a, b, c = np.meshgrid(*(np.arange(n) / n for n in shape), indexing="ij")
    values = (
        0.5
        + 0.2 * np.sin(2 * np.pi * a)
        + 0.15 * np.cos(2 * np.pi * (b + 2 * c))
        + 0.1 * np.sin(2 * np.pi * (a - c + seed))
    )
    return values.astype(np.float32)


@pytest.fixture
def skewed():
    shape = (10, 12, 14)
    return grid.make_dataset(SKEWED_CELL, FRAC @ SKEWED_CELL, [1, 1, 1], elf=field_on(shape), source="test")


def assert_same_structure(a, b, atol=1e-6):
    np.testing.assert_allclose(a["cell"].values, b["cell"].values, atol=atol)
    np.testing.assert_allclose(a["positions"].values, b["positions"].values, atol=atol)
    np.testing.assert_array_equal(a["numbers"].values, b["numbers"].values)


# ----------------------------------------------------------------------------- round trips
@pytest.mark.parametrize(
    "name, atol",
    [
        ("x.cube", 1e-6),
        ("x.xsf", 1e-6),
        ("ELFCAR", 1e-10),
        ("x.vasp", 1e-10),
        ("x.nc", 0.0),
        ("c2c.ELFCAR.gz", None),
    ],
)
def test_field_round_trip_skewed(tmp_path, skewed, name, atol):
    path = tmp_path / name
    if name.endswith(".gz"):
        io.write(skewed, tmp_path / "ELFCAR")
        path.write_bytes(gzip.compress((tmp_path / "ELFCAR").read_bytes()))
        atol = 1e-10
    else:
        io.write(skewed, path)
    back = io.read(path)
    assert_same_structure(skewed, back)
    assert back["elf"].dtype == np.float32
    assert back["elf"].shape == skewed["elf"].shape
    np.testing.assert_allclose(back["elf"].values, skewed["elf"].values, atol=max(atol, 1e-7))
    assert back.attrs["rs_bohr"] == pytest.approx(skewed.attrs["rs_bohr"], rel=1e-7)


@pytest.mark.parametrize("name", ["x.cif", "x.xyz", "POSCAR", "CONTCAR", "x.pwi", "x.cell", "x.nc"])
def test_structure_round_trip(tmp_path, skewed, name):
    io.write(skewed, tmp_path / name)
    back = io.read(tmp_path / name)
    assert_same_structure(skewed, back, atol=2e-6)
    assert grid.field_names(back) == ([] if name != "x.nc" else ["elf"])


def test_structure_only_file_gets_grid_of_requested_spacing(tmp_path, skewed):
    io.write(skewed, tmp_path / "POSCAR")
    ds = io.read(tmp_path / "POSCAR", spacing=0.5)
    assert grid.grid_shape(ds) == grid.shape_for_spacing(SKEWED_CELL, 0.5)
    assert io.read_structure(tmp_path / "POSCAR").get_chemical_formula() == "H3"


def test_xsf_keeps_several_fields_by_name(tmp_path, skewed):
    ds = grid.with_field(skewed, "elf_ref", field_on((10, 12, 14), seed=1))
    io.write(ds, tmp_path / "x.xsf", field=None)
    back = io.read(tmp_path / "x.xsf")
    assert sorted(grid.field_names(back)) == ["elf", "elf_ref"]
    np.testing.assert_allclose(back["elf_ref"].values, ds["elf_ref"].values, atol=1e-6)


def test_grid_origin_is_kept_and_restored(tmp_path, skewed):
    text = tmp_path / "o.cube"
    io.write(skewed, text)
    lines = text.read_text().splitlines()
    shift_bohr = np.array([0.5, -0.25, 1.0])
    lines[2] = "%5d%14.8f%14.8f%14.8f" % (3, *shift_bohr)  # noqa: UP031
    pos = [np.array(line.split()[2:], float) for line in lines[6:9]]
    for k in range(3):
        lines[6 + k] = "%5d%14.8f%14.8f%14.8f%14.8f" % (1, 1.0, *(pos[k] + shift_bohr))  # noqa: UP031
    text.write_text("\n".join(lines) + "\n")
    ds = io.read(text)
    origin = shift_bohr * grid.BOHR_ANGSTROM
    np.testing.assert_allclose(ds.attrs["grid_origin_angstrom"], origin, atol=1e-7)
    np.testing.assert_allclose(ds["positions"].values, skewed["positions"].values, atol=1e-6)
    io.write(ds, tmp_path / "again.cube")
    assert (tmp_path / "again.cube").read_text().splitlines()[2].split()[1:] == lines[2].split()[1:]


def test_spin_polarised_elfcar(tmp_path, skewed):
    up = field_on((10, 12, 14))
    down = np.clip(up * 0.8, 0, 1)
    ds = grid.with_field(grid.with_field(skewed, "elf_spin_up", up), "elf_spin_down", down)
    io.write(ds, tmp_path / "ELFCAR", field=("elf_spin_up", "elf_spin_down"))
    back = io.read(tmp_path / "ELFCAR")
    np.testing.assert_allclose(back["elf_spin_up"].values, up, atol=1e-9)
    np.testing.assert_allclose(back["elf_spin_down"].values, down, atol=1e-9)
    np.testing.assert_allclose(back["elf"].values, 0.5 * (up + down), atol=1e-6)
    assert "(elf_spin_up + elf_spin_down) / 2" in back.attrs["elf_spin_combination"]


def test_chgcar_is_read_as_stored_under_charge(tmp_path, skewed):
    density = field_on((10, 12, 14)) * 7.0  # values well above 1, as in a CHGCAR (rho * V)
    from elfviz.io.vasp import write_vasp

    text = write_vasp(SKEWED_CELL, skewed["positions"].values, [1, 1, 1], [density])
    text += " augmentation occupancies   1   4\n  0.1 0.2 0.3 0.4\n"
    (tmp_path / "CHGCAR").write_text(text)
    ds = io.read(tmp_path / "CHGCAR")
    assert grid.field_names(ds) == ["charge"]
    np.testing.assert_allclose(ds["charge"].values, density, rtol=1e-9)  # never divided by the volume


def test_read_bytes_parses_upload_without_disk(skewed, tmp_path):
    io.write(skewed, tmp_path / "x.cube")
    data = (tmp_path / "x.cube").read_bytes()
    ds = io.read_bytes(data, "/some/where/upload.cube")
    np.testing.assert_allclose(ds["elf"].values, skewed["elf"].values, atol=1e-6)
    assert ds.attrs["source"] == "file:upload.cube"
    nc = tmp_path / "x.nc"
    io.write(skewed, nc)
    assert io.read_bytes(nc.read_bytes(), "frame.nc")["elf"].shape == (10, 12, 14)


def test_read_bytes_size_cap(skewed, tmp_path):
    io.write(skewed, tmp_path / "x.cube")
    data = (tmp_path / "x.cube").read_bytes()
    with pytest.raises(FileFormatError, match="larger than the limit"):
        io.read_bytes(data, "x.cube", max_bytes=1000)
    with pytest.raises(FileFormatError, match="decompressed"):
        io.read_bytes(gzip.compress(data), "x.cube.gz", max_bytes=len(data) // 2)


def test_multi_frame_extxyz_index(tmp_path):
    import ase
    import ase.io

    frames = [
        ase.Atoms("H2", positions=[[0, 0, 0], [0.74 + 0.1 * k, 0, 0]], cell=np.eye(3) * 3, pbc=True)
        for k in range(3)
    ]
    ase.io.write(tmp_path / "traj.xyz", frames, format="extxyz")
    assert io.read(tmp_path / "traj.xyz")["positions"].values[1, 0] == pytest.approx(0.94)
    first = io.read(tmp_path / "traj.xyz", index=0)
    assert first["positions"].values[1, 0] == pytest.approx(0.74)
    assert first.attrs["n_frames_in_file"] == 3
    with pytest.raises(FileFormatError, match="frame 7"):
        io.read(tmp_path / "traj.xyz", index=7)


def test_format_detection_by_content():
    assert detect_format("mystery", b"CRYSTAL\nPRIMVEC\n 1 0 0\n") == "xsf"
    assert (
        detect_format("input.in", b"&control\n/\n&system\n ibrav=0, nat=2\n/\nATOMIC_POSITIONS\n")
        == "espresso-in"
    )
    cube_head = b"c\nc\n    1 0 0 0\n    2 1 0 0\n    2 0 1 0\n    2 0 0 1\n"
    assert detect_format("noext", cube_head) == "cube"
    assert detect_format("CHGCAR_250GPa", b"") == "vasp"
    assert detect_format("x.nc", b"") == "netcdf"
    assert detect_format("blob", b"\x89HDF\r\n\x1a\n") == "netcdf"


def test_write_refuses_overwrite_and_missing_field(tmp_path, skewed):
    io.write(skewed, tmp_path / "x.cube")
    with pytest.raises(OutputExistsError, match="--force"):
        io.write(skewed, tmp_path / "x.cube")
    io.write(skewed, tmp_path / "x.cube", force=True)
    with pytest.raises(GridError, match="no field 'elf_ref'"):
        io.write(skewed, tmp_path / "y.cube", field="elf_ref")
    structure = grid.structure_only(skewed)
    with pytest.raises(GridError, match="no field"):
        io.write(structure, tmp_path / "ELFCAR")
    with pytest.raises(FileFormatError, match="output format"):
        io.write(skewed, tmp_path / "x.unknown")


# ----------------------------------------------------------------------------- cross-reading: ASE
def test_cube_cross_read_with_ase(tmp_path, skewed):
    from ase.io.cube import read_cube_data, write_cube

    atoms = grid.to_atoms(skewed)
    data = skewed["elf"].values.astype(float)
    with open(tmp_path / "ase.cube", "w") as fd:
        write_cube(fd, atoms, data=data)
    ours = io.read(tmp_path / "ase.cube")
    np.testing.assert_allclose(ours["elf"].values, data, rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(ours["positions"].values, atoms.positions, atol=1e-5)
    io.write(skewed, tmp_path / "ours.cube")
    ase_data, ase_atoms = read_cube_data(str(tmp_path / "ours.cube"))
    np.testing.assert_allclose(ase_data, data, rtol=1e-6, atol=1e-7)
    np.testing.assert_allclose(ase_atoms.cell.array, SKEWED_CELL, atol=1e-6)


def test_xsf_cross_read_with_ase(tmp_path, skewed):
    from ase.io.xsf import read_xsf, write_xsf

    atoms = grid.to_atoms(skewed)
    data = skewed["elf"].values.astype(float)
    wrapped = np.pad(data, [(0, 1)] * 3, mode="wrap")
    with open(tmp_path / "general.xsf", "w") as fd:  # proper general grid: end points, span = cell
        write_xsf(fd, [atoms], data=wrapped, span_vectors=SKEWED_CELL)
    np.testing.assert_allclose(io.read(tmp_path / "general.xsf")["elf"].values, data, atol=1e-6)
    with open(tmp_path / "asedefault.xsf", "w") as fd:  # ASE's default layout, no end points
        write_xsf(fd, [atoms], data=data)
    np.testing.assert_allclose(io.read(tmp_path / "asedefault.xsf")["elf"].values, data, atol=1e-6)
    io.write(skewed, tmp_path / "ours.xsf")
    with open(tmp_path / "ours.xsf") as fd:
        ase_data, origin, span, ase_atoms = read_xsf(fd, read_data=True)
    np.testing.assert_allclose(ase_data, wrapped, atol=1e-6)  # ASE keeps the end points
    np.testing.assert_allclose(span, SKEWED_CELL, atol=1e-7)
    np.testing.assert_allclose(ase_atoms.positions, atoms.positions, atol=1e-7)


def test_elfcar_cross_read_with_ase_without_volume_scaling(tmp_path, skewed):
    from ase.calculators.vasp import VaspChargeDensity

    volume = grid.cell_volume(SKEWED_CELL)
    data = skewed["elf"].values.astype(float)
    vcd = VaspChargeDensity(None)
    vcd.atoms = [grid.to_atoms(skewed)]
    vcd.chg = [data / volume]  # ASE multiplies by the volume when writing: the file then holds the ELF itself
    vcd.aug = ""
    vcd.write(str(tmp_path / "ELFCAR"), format="chgcar")
    ours = io.read(tmp_path / "ELFCAR")
    np.testing.assert_allclose(ours["elf"].values, data, rtol=1e-9, atol=1e-10)
    io.write(skewed, tmp_path / "ours_ELFCAR")
    theirs = VaspChargeDensity(str(tmp_path / "ours_ELFCAR"))
    np.testing.assert_allclose(theirs.chg[0] * volume, data, rtol=1e-9)  # ASE divides by V; we never do


@pytest.mark.parametrize(
    "fmt, name",
    [
        ("cif", "ase.cif"),
        ("extxyz", "ase.xyz"),
        ("espresso-in", "ase.pwi"),
        ("castep-cell", "ase.cell"),
        ("vasp", "POSCAR"),
    ],
)
def test_structures_written_by_ase_are_read(tmp_path, skewed, fmt, name):
    import warnings

    import ase.io

    atoms = grid.to_atoms(skewed)
    kwargs = {"pseudopotentials": {"H": "H.UPF"}} if fmt == "espresso-in" else {}
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ase.io.write(tmp_path / name, atoms, format=fmt, **kwargs)
    ours = io.read(tmp_path / name)
    np.testing.assert_allclose(grid.cell_volume(ours["cell"].values), atoms.cell.volume, rtol=1e-6)
    assert ours.attrs["rs_bohr"] == pytest.approx(skewed.attrs["rs_bohr"], rel=1e-6)
    ours_atoms = grid.to_atoms(ours)
    d_ours = ours_atoms.get_all_distances(mic=True)
    np.testing.assert_allclose(d_ours, atoms.get_all_distances(mic=True), atol=1e-5)


def test_poscar_variants_selective_dynamics_cartesian_negative_scale(tmp_path):
    text = """H2 test
 -27.0
 3.0 0.0 0.0
 0.0 3.0 0.0
 0.0 0.0 3.0
 H
 2
Selective dynamics
Cartesian
 0.0 0.0 0.0 T T T
 0.74 0.0 0.0 F F F
"""
    (tmp_path / "POSCAR").write_text(text)
    ds = io.read(tmp_path / "POSCAR")
    assert grid.cell_volume(ds["cell"].values) == pytest.approx(27.0)
    np.testing.assert_allclose(ds["positions"].values[1], [0.74, 0, 0])
    vasp4 = "H\n 1.0\n 3 0 0\n 0 3 0\n 0 0 3\n 2\nDirect\n 0 0 0\n 0.25 0 0\n"
    (tmp_path / "CONTCAR").write_text(vasp4)
    assert io.read(tmp_path / "CONTCAR")["numbers"].values.tolist() == [1, 1]


# ----------------------------------------------------------------------------- cross-reading: pymatgen
def _pmg_poscar(ds):
    from pymatgen.core import Lattice, Structure
    from pymatgen.io.vasp import Poscar

    structure = Structure(
        Lattice(ds["cell"].values),
        ["H"] * ds.sizes["atom"],
        ds["positions"].values,
        coords_are_cartesian=True,
    )
    return Poscar(structure)


def test_elfcar_cross_read_with_pymatgen(tmp_path, skewed):
    pytest.importorskip("pymatgen")
    from pymatgen.io.vasp.outputs import Elfcar

    data = skewed["elf"].values.astype(float)
    Elfcar(_pmg_poscar(skewed), {"total": data}).write_file(tmp_path / "ELFCAR")
    np.testing.assert_allclose(io.read(tmp_path / "ELFCAR")["elf"].values, data, atol=1e-7)
    io.write(skewed, tmp_path / "ours_ELFCAR")
    theirs = Elfcar.from_file(tmp_path / "ours_ELFCAR")
    np.testing.assert_allclose(theirs.data["total"], data, rtol=1e-9)
    np.testing.assert_allclose(theirs.structure.lattice.matrix, SKEWED_CELL, atol=1e-8)


def test_spin_elfcar_cross_read_with_pymatgen(tmp_path, skewed):
    pytest.importorskip("pymatgen")
    from pymatgen.io.vasp.outputs import Elfcar

    up = skewed["elf"].values.astype(float)
    down = np.clip(up * 0.9, 0, 1)
    Elfcar(_pmg_poscar(skewed), {"spin_up": up, "spin_down": down}).write_file(tmp_path / "ELFCAR")
    ours = io.read(tmp_path / "ELFCAR")
    np.testing.assert_allclose(ours["elf_spin_up"].values, up, atol=1e-7)
    np.testing.assert_allclose(ours["elf_spin_down"].values, down, atol=1e-7)
    spin = grid.with_field(grid.with_field(skewed, "elf_spin_up", up), "elf_spin_down", down)
    io.write(spin, tmp_path / "ours_ELFCAR", field=("elf_spin_up", "elf_spin_down"))
    theirs = Elfcar.from_file(tmp_path / "ours_ELFCAR")
    np.testing.assert_allclose(theirs.data["spin_up"], up, atol=1e-7)  # float32 storage in the Dataset
    np.testing.assert_allclose(theirs.data["spin_down"], down, atol=1e-7)


def test_cif_cross_read_with_pymatgen(tmp_path, skewed):
    pytest.importorskip("pymatgen")
    from pymatgen.io.cif import CifWriter

    CifWriter(_pmg_poscar(skewed).structure).write_file(tmp_path / "pmg.cif")
    ours = io.read(tmp_path / "pmg.cif")
    assert ours.sizes["atom"] == 3
    assert ours.attrs["rs_bohr"] == pytest.approx(skewed.attrs["rs_bohr"], rel=1e-6)


# ----------------------------------------------------------------------------- bad input (issue 2, point 7)
def test_missing_empty_directory_and_binary_files(tmp_path):
    with pytest.raises(FileFormatError, match="no such file"):
        io.read(tmp_path / "nope.cube")
    (tmp_path / "empty.cube").write_text("")
    with pytest.raises(FileFormatError, match="empty"):
        io.read(tmp_path / "empty.cube")
    (tmp_path / "blank.xsf").write_text("  \n\n")
    with pytest.raises(FileFormatError, match="empty"):
        io.read(tmp_path / "blank.xsf")
    with pytest.raises(FileFormatError, match="directory"):
        io.read(tmp_path)
    (tmp_path / "bin.cube").write_bytes(b"\x00\x01\x02garbage" * 50)
    with pytest.raises(FileFormatError, match="binary"):
        io.read(tmp_path / "bin.cube")
    (tmp_path / "bad.nc").write_bytes(b"\x89HDF\r\n\x1a\n" + b"\x00" * 100)
    with pytest.raises(FileFormatError, match="netCDF"):
        io.read(tmp_path / "bad.nc")


def test_unknown_format(tmp_path):
    (tmp_path / "notes.txt").write_text("hello, these are not atoms\n")
    with pytest.raises(FileFormatError, match="unknown file format"):
        io.read(tmp_path / "notes.txt")
    with pytest.raises(FileFormatError, match="cif"):
        io.read_bytes(b"data_x\n_cell_length_a oops\n", "broken.cif")


def test_structure_without_cell_or_not_periodic(tmp_path):
    (tmp_path / "mol.xyz").write_text("2\ncomment\nH 0 0 0\nH 0.74 0 0\n")
    with pytest.raises(StructureError, match="no cell"):
        io.read(tmp_path / "mol.xyz")
    slab = '2\nLattice="3 0 0 0 3 0 0 0 3" pbc="T T F" Properties=species:S:1:pos:R:3\nH 0 0 0\nH 0.74 0 0\n'
    (tmp_path / "slab.xyz").write_text(slab)
    with pytest.raises(StructureError, match="periodic"):
        io.read(tmp_path / "slab.xyz")
    (tmp_path / "mol.xsf").write_text("ATOMS\n 1 0 0 0\n 1 0.74 0 0\n")
    with pytest.raises(StructureError, match="molecule"):
        io.read(tmp_path / "mol.xsf")
    (tmp_path / "s.xsf").write_text("SLAB\nPRIMVEC\n 3 0 0\n 0 3 0\n 0 0 3\nPRIMCOORD\n1 1\n1 0 0 0\n")
    with pytest.raises(StructureError, match="SLAB"):
        io.read(tmp_path / "s.xsf")


def test_nan_and_inf_coordinates(tmp_path):
    for bad in ("nan", "inf"):
        header = '2\nLattice="3 0 0 0 3 0 0 0 3" pbc="T T T" Properties=species:S:1:pos:R:3\n'
        text = header + f"H 0 0 0\nH {bad} 0 0\n"
        (tmp_path / f"{bad}.xyz").write_text(text)
        with pytest.raises(StructureError, match="NaN or infinite"):
            io.read(tmp_path / f"{bad}.xyz")


def test_atoms_closer_than_0p3_angstrom(tmp_path):
    text = "H2\n1.0\n 3 0 0\n 0 3 0\n 0 0 3\nH\n2\nCartesian\n 0 0 0\n 0.2 0 0\n"
    (tmp_path / "POSCAR").write_text(text)
    with pytest.raises(StructureError, match="0.200 Å apart"):
        io.read(tmp_path / "POSCAR")
    across = (
        "H2\n1.0\n 3 0 0\n 0 3 0\n 0 0 3\nH\n2\nCartesian\n 0.05 0 0\n 2.9 0 0\n"  # via the periodic image
    )
    (tmp_path / "CONTCAR").write_text(across)
    with pytest.raises(StructureError, match="closer than 0.3"):
        io.read(tmp_path / "CONTCAR")


def test_grid_inconsistent_with_header(tmp_path, skewed):
    io.write(skewed, tmp_path / "x.cube")
    text = (tmp_path / "x.cube").read_text()
    (tmp_path / "cut.cube").write_text(text[: len(text) // 2])
    with pytest.raises(FileFormatError, match="10x12x14 grid"):
        io.read(tmp_path / "cut.cube")
    io.write(skewed, tmp_path / "ELFCAR")
    lines = (tmp_path / "ELFCAR").read_text().splitlines()
    dims_line = next(i for i, line in enumerate(lines) if line.split() == ["10", "12", "14"])
    lines[dims_line] = "   10   12   15"
    (tmp_path / "bad_ELFCAR").write_text("\n".join(lines) + "\n")
    with pytest.raises(FileFormatError, match="10x12x15"):
        io.read(tmp_path / "bad_ELFCAR")
    io.write(skewed, tmp_path / "x.xsf")
    xsf = (tmp_path / "x.xsf").read_text().replace("  11 13 15", "  11 13 16")
    (tmp_path / "bad.xsf").write_text(xsf)
    with pytest.raises(FileFormatError, match="11x13x16"):
        io.read(tmp_path / "bad.xsf")
    (tmp_path / "word.cube").write_text(text.replace("E-01", "E-0x", 1))
    with pytest.raises(FileFormatError, match="not a number"):
        io.read(tmp_path / "word.cube")


def test_chgcar_values_read_as_elf_raise_grid_error(tmp_path, skewed):
    from elfviz.io.vasp import write_vasp

    density = field_on((10, 12, 14)) * 12.0
    (tmp_path / "ELFCAR").write_text(
        write_vasp(SKEWED_CELL, skewed["positions"].values, [1, 1, 1], [density])
    )
    with pytest.raises(GridError, match="field='charge'"):
        io.read(tmp_path / "ELFCAR")
    ds = io.read(tmp_path / "ELFCAR", field="charge")
    np.testing.assert_allclose(ds["charge"].values, density, rtol=1e-9)


@pytest.mark.parametrize("spacing", [0.0, -0.1, float("nan")])
def test_negative_or_zero_spacing(tmp_path, skewed, spacing):
    io.write(skewed, tmp_path / "POSCAR")
    with pytest.raises(GridError, match="spacing"):
        io.read(tmp_path / "POSCAR", spacing=spacing)


def test_parse_floats_fortran_exponents():
    from elfviz.io._text import parse_floats

    np.testing.assert_allclose(parse_floats("1.5D-01 2.0d+00\n3", "x"), [0.15, 2.0, 3.0])


def test_format_block_matches_numpy_text():
    from elfviz.io._text import format_block, format_rows

    values = np.linspace(0, 1, 13)
    text = format_block(values, 5, " %17.11E")
    assert len(text.splitlines()) == 3
    np.testing.assert_allclose(np.loadtxt(pyio.StringIO(text.replace("\n", " ")).readlines()), values)
    rows = format_rows(values[:12].reshape(3, 4), 3, " %8.3f")
    assert len(rows.splitlines()) == 6  # each row of 4 breaks into 3 + 1
