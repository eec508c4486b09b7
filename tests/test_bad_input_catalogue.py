"""What a user can get wrong on the command line, case by case (uploads: tests/dashboard/test_uploads.py).

Every case must end with exit code 2 and one ``elfviz <command>: error: ...`` line that says what is wrong,
no traceback, no output file (not even a half-written one) and nothing overwritten.
"""

from __future__ import annotations

import numpy as np
import pytest
import xarray as xr

from elfviz.cli import main
from elfviz.data import examples_path

FRAME = examples_path() / "frames" / "I41amd-rs1.30.nc"
LATTICE = 'Lattice="4 0 0 0 4 0 0 0 4" Properties=species:S:1:pos:R:3 pbc="T T T"'
PRECIOUS = b"precious results, do not touch"


def xyz(lines: str, lattice: str = LATTICE) -> str:
    body = lines.strip().splitlines()
    return f"{len(body)}\n{lattice}\n" + "\n".join(body) + "\n"


@pytest.fixture(scope="module")
def files(tmp_path_factory):
    d = tmp_path_factory.mktemp("bad-inputs")
    (d / "empty.xyz").write_text("")
    (d / "garbage.cif").write_bytes(np.random.default_rng(0).integers(0, 256, 3000, dtype=np.uint8).tobytes())
    (d / "garbage.nc").write_bytes(np.random.default_rng(1).integers(0, 256, 3000, dtype=np.uint8).tobytes())
    assert main(["-q", "phase", "I41amd", "-o", str(d / "good.cif")]) == 0
    assert main(["-q", "convert", str(FRAME), str(d / "good.cube")]) == 0
    cube = (d / "good.cube").read_text()
    (d / "truncated.cube").write_text(cube[: len(cube) // 2])
    (d / "POSCAR").write_text('{"this is": "json, not a POSCAR"}\n')
    (d / "nocell.xyz").write_text("2\n\nH 0 0 0\nH 0.74 0 0\n")
    (d / "zerocell.xyz").write_text(xyz("H 0 0 0\nH 0.74 0 0", LATTICE.replace("4", "0")))
    (d / "lih.xyz").write_text(xyz("Li 0 0 0\nH 2 0 0"))
    (d / "overlap.xyz").write_text(xyz("H 0 0 0\nH 0.01 0 0"))
    (d / "nan.xyz").write_text(xyz("H nan 0 0\nH 0.74 0 0"))
    (d / "inf.xyz").write_text(xyz("H inf 0 0\nH 0.74 0 0"))
    (d / "mixed.xyz").write_text(xyz("H 0 0 0\nH 0.74 0 0") + xyz("H 0 0 0\nH 0.74 0 0\nH 2 2 2"))
    (d / "huge.xyz").write_text(xyz("H 0 0 0\nH 0.74 0 0", LATTICE.replace("4", "100000")))
    ds = xr.load_dataset(FRAME)
    ds.assign(elf=ds["elf"] * 1.5).to_netcdf(d / "above_one.nc")
    with_nan = ds["elf"].values.copy()
    with_nan[0, 0, 0] = np.nan
    ds.assign(elf=(ds["elf"].dims, with_nan)).to_netcdf(d / "nan_field.nc")
    assert main(["-q", "predict", str(d / "good.cif"), "-o", str(d / "coarse.nc"), "--grid", "10,10,10"]) == 0
    return d


CASES = {
    # predict
    "empty file": (["predict", "{d}/empty.xyz", "-o", "{o}/out.nc"], "empty"),
    "binary garbage": (["predict", "{d}/garbage.cif", "-o", "{o}/out.nc"], "binary content"),
    "truncated cube": (["predict", "{d}/truncated.cube", "-o", "{o}/out.nc"], "corrupt"),
    "wrong format": (["predict", "{d}/POSCAR", "-o", "{o}/out.nc"], "POSCAR"),
    "missing cell": (["predict", "{d}/nocell.xyz", "-o", "{o}/out.nc"], "no cell"),
    "zero-volume cell": (["predict", "{d}/zerocell.xyz", "-o", "{o}/out.nc"], "zero-volume"),
    "non-hydrogen atoms": (["predict", "{d}/lih.xyz", "-o", "{o}/out.nc"], "pure hydrogen"),
    "overlapping atoms": (["predict", "{d}/overlap.xyz", "-o", "{o}/out.nc"], "overlapping"),
    "NaN coordinates": (["predict", "{d}/nan.xyz", "-o", "{o}/out.nc"], "NaN or infinite"),
    "infinite coordinates": (["predict", "{d}/inf.xyz", "-o", "{o}/out.nc"], "NaN or infinite"),
    "absurdly large cell": (["predict", "{d}/huge.xyz", "-o", "{o}/out.nc"], "too large"),
    "absurdly large grid": (["predict", "{d}/good.cif", "-o", "{o}/out.nc", "--grid", "5000,5000,5000"],
                            "more than"),
    "zero spacing": (["predict", "{d}/good.cif", "-o", "{o}/out.nc", "--spacing", "0"], "positive"),
    "negative spacing": (["predict", "{d}/good.cif", "-o", "{o}/out.nc", "--spacing", "-1"], "positive"),
    "grid with a zero": (["predict", "{d}/good.cif", "-o", "{o}/out.nc", "--grid", "0,10,10"], ">= 2"),
    "bad memory size": (["predict", "{d}/good.cif", "-o", "{o}/out.nc", "--max-memory", "lots"], "16G"),
    "existing output": (["predict", "{d}/good.cif", "-o", "{o}/precious.nc"], "already exists"),
    "unwritable folder": (["predict", "{d}/good.cif", "-o", "/proc/elfviz/out.nc"], "cannot create the folder"),
    "output inside a file": (["predict", "{d}/good.cif", "-o", "{d}/good.cif/out.nc"], "cannot create the folder"),
    "unknown output format": (["predict", "{d}/good.cif", "-o", "{o}/out.foo"], "output format"),
    "missing input": (["predict", "{d}/missing.cif", "-o", "{o}/out.nc"], "no such file"),
    # percolate, compare, info
    "ELF above 1": (["percolate", "{d}/above_one.nc"], "outside [0, 1]"),
    "ELF with NaN": (["percolate", "{d}/nan_field.nc"], "NaN"),
    "corrupt netCDF": (["percolate", "{d}/garbage.nc"], "not a readable netCDF"),
    "mismatched grids": (["compare", str(FRAME), "{d}/coarse.nc"], "grids differ"),
    "compare: over the memory limit": (["compare", str(FRAME), str(FRAME), "--max-memory", "1k"], "more than"),
    "percolate: over the memory limit": (["percolate", str(FRAME), "--max-memory", "1k"], "more than"),
    "train: over the memory limit": (["train", "bundled", "-o", "{o}/model", "--max-memory", "1M"], "more than"),
    "info on an empty file": (["info", "{d}/empty.xyz"], "empty"),
    "info on garbage": (["info", "{d}/garbage.cif"], "binary content"),
    # convert, phase
    "convert: wrong format": (["convert", "{d}/POSCAR", "{o}/out.cif"], "POSCAR"),
    "convert: existing output": (["convert", "{d}/good.cif", "{o}/precious.nc"], "already exists"),
    "convert: structure to a field format": (["convert", "{d}/good.cif", "{o}/out.cube"], "no field"),
    "convert: unknown output format": (["convert", "{d}/good.cif", "{o}/out.foo"], "output format"),
    "unknown phase": (["phase", "fcc-H", "-o", "{o}/out.cif"], "unknown phase"),
    "negative rs": (["phase", "I41amd", "--rs", "-1", "-o", "{o}/out.cif"], "positive"),
    "pressure out of range": (["phase", "I41amd", "--pressure", "1e7", "-o", "{o}/out.cif"], "outside the range"),
    # reference (refused before pw.x starts)
    "reference: non-hydrogen": (["reference", "{d}/lih.xyz", "-o", "{o}/out.nc"], "hydrogen only"),
    "reference: absurd grid": (["reference", "{d}/good.cif", "-o", "{o}/out.nc", "--grid", "3000,3000,3000"],
                               "more than"),
    "reference: zero k-mesh": (["reference", "{d}/good.cif", "-o", "{o}/out.nc", "--kmesh", "0,0,0"], ">= 1"),
    "reference: existing output": (["reference", "{d}/good.cif", "-o", "{o}/precious.nc"], "already exists"),
    # trajectory
    "trajectory: empty file": (["trajectory", "{d}/empty.xyz", "-o", "{o}/out.nc"], "empty"),
    "trajectory: mixed atom counts": (["trajectory", "{d}/mixed.xyz", "-o", "{o}/out.nc"], "atoms"),
    "trajectory: non-hydrogen": (["trajectory", "{d}/lih.xyz", "-o", "{o}/out.nc"], "Li"),
    "trajectory: existing output": (["trajectory", "{d}/good.cif", "-o", "{o}/precious.nc"], "already exists"),
    # screen, train
    "screen: nothing matches": (["screen", "{d}/nothing*.xyz", "-o", "{o}/out.csv"], "matches no file"),
    "screen: bad selection": (["screen", "{d}/good.cif", "-o", "{o}/out.csv", "--select", "nokey"], "KEY=VALUE"),
    "screen: output is not a results table": (["screen", "{d}/good.cif", "-o", "{o}/precious.nc"],
                                              "not an elfviz screening table"),
    "train: no dataset there": (["train", "{d}", "-o", "{o}/model"], "no frames"),
    "train: zero epochs": (["train", "bundled", "-o", "{o}/model", "--epochs", "0"], "at least 1"),
}


@pytest.mark.parametrize("name", list(CASES))
def test_bad_input(name, files, tmp_path, capsys):
    argv, words = CASES[name]
    (tmp_path / "precious.nc").write_bytes(PRECIOUS)
    code = main([arg.format(d=files, o=tmp_path) for arg in argv])
    err = capsys.readouterr().err.strip().splitlines()
    command = argv[0]
    errors = [line for line in err if line.startswith(f"elfviz {command}: error:")]
    assert code == 2, err
    assert len(errors) == 1 and words in errors[0], err
    assert not any("Traceback" in line for line in err)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["precious.nc"]  # nothing written, not even a .part
    assert (tmp_path / "precious.nc").read_bytes() == PRECIOUS


def test_the_catalogue_covers_every_command_asked_for():
    commands = {argv[0] for argv, _ in CASES.values()}
    assert commands >= {"predict", "reference", "compare", "percolate", "info", "convert", "phase", "screen", "train"}
    assert len(CASES) >= 30
