"""``elfviz trajectory``: the output file, --every, resume after an interruption, refusals (stand-in model)."""

from __future__ import annotations

import ase.io
import h5py
import numpy as np
import pytest
import xarray as xr
from ase import Atoms

from elfviz.cli import main
from elfviz.trajectory import frame_dataset

from .helpers import BONDS, StandInPredictor, install, stretched_frames

ARGS = ["--spacing", "0.2", "--isovalue", "0.6", "--no-progress"]


@pytest.fixture
def traj(tmp_path):
    path = tmp_path / "md.xyz"
    ase.io.write(str(path), stretched_frames(), format="extxyz")
    return path


def _run(args, capsys):
    code = main(["trajectory", *map(str, args)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def _leftovers(out):
    return sorted(p.name for p in out.parent.iterdir() if p.name.startswith(out.name))


def test_trajectory_file(tmp_path, traj, monkeypatch, capsys):
    stand_in = install(monkeypatch, StandInPredictor())
    out = tmp_path / "elf.nc"
    code, text, _ = _run([traj, "-o", out, *ARGS], capsys)
    assert code == 0 and stand_in.calls == len(BONDS)
    assert "6 of 6 frames" in text and "t = 0-2.5 fs" in text
    assert _leftovers(out) == ["elf.nc"]  # the run folder is gone
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        assert ds.sizes["frame"] == len(BONDS) and ds["elf"].shape == (len(BONDS), 20, 20, 20)
        assert ds["time"].attrs["units"] == "fs" and ds["time"].values.tolist() == [0.5 * k for k in range(6)]
        # the stretched molecule falls apart: H2 fraction 1 -> 0.5 at ELF 0.6; phi* is the intact molecule's
        assert ds["molecular_fraction"].values.tolist() == [1.0, 1.0, 0.5, 0.5, 0.5, 0.5]
        assert ds["n_molecules"].values.tolist() == [2, 2, 1, 1, 1, 1]
        assert ds["n_components"].values.tolist() == [2, 2, 3, 3, 3, 3]
        assert np.ptp(ds["phi_star"].values) < 0.01 and ds["phi_star"].min() > 0.85
        assert np.all(np.isfinite(ds[["t1", "t2", "t3", "phi"]].to_array().values))
        assert ds["member_std_mean"].values.tolist() == pytest.approx([0.001 * (k + 1) for k in range(6)])
        assert ds.attrs["isovalue"] == 0.6 and ds.attrs["source"] == "model:promolecular-standin@0"
        frame = frame_dataset(ds, 3)
    with h5py.File(out) as handle:  # stored like elfviz.io.store: uint16, zlib, one chunk per frame
        assert handle["elf"].dtype == np.uint16 and handle["elf"].compression == "gzip"
        assert handle["elf"].chunks == (1, 20, 20, 20)
    from elfviz.reference.promolecular import promolecular_elf

    expected = promolecular_elf(frame, shape=(20, 20, 20))["elf"].values
    assert np.abs(frame["elf"].values - expected).max() < 1e-4


def test_every_and_no_fields(tmp_path, traj, monkeypatch, capsys):
    install(monkeypatch, StandInPredictor())
    out = tmp_path / "elf.nc"
    code, text, _ = _run([traj, "-o", out, "--every", "2", "--no-fields", *ARGS], capsys)
    assert code == 0 and "3 of 6 frames" in text
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        assert ds["frame"].values.tolist() == [0, 2, 4] and "elf" not in ds
        assert ds["molecular_fraction"].values.tolist() == [1.0, 0.5, 0.5]


def test_no_times_gives_the_frame_index(tmp_path, monkeypatch, capsys):
    install(monkeypatch, StandInPredictor())
    path, out = tmp_path / "XDATCAR", tmp_path / "elf.nc"
    ase.io.write(str(path), stretched_frames(times=False), format="vasp-xdatcar")
    assert _run([path, "-o", out, "--no-fields", *ARGS], capsys)[0] == 0
    with xr.open_dataset(out, engine="h5netcdf") as ds:
        assert ds["time"].values.tolist() == list(range(6)) and ds["time"].attrs["units"] == "1"
    assert _run([path, "-o", tmp_path / "t.nc", "--no-fields", "--timestep", "2", *ARGS], capsys)[0] == 0
    with xr.open_dataset(tmp_path / "t.nc", engine="h5netcdf") as ds:
        assert ds["time"].values.tolist() == [0, 2, 4, 6, 8, 10] and ds["time"].attrs["units"] == "fs"


def test_resume_after_interruption(tmp_path, traj, monkeypatch, capsys):
    out = tmp_path / "elf.nc"
    install(monkeypatch, StandInPredictor(fail_after=2))
    code, _, err = _run([traj, "-o", out, *ARGS], capsys)
    assert code == 130 and "interrupted" in err and not out.exists()
    partial = tmp_path / "elf.nc.partial"
    assert sorted(p.name for p in partial.glob("frame-*.nc")) == ["frame-00000000.nc", "frame-00000001.nc"]
    # another command line on that run is refused, nothing touched
    code, _, err = _run([traj, "-o", out, *ARGS[:-2], "0.5", "--no-progress"], capsys)
    assert code == 2 and "other settings" in err and "isovalue 0.6 -> 0.5" in err and len(err.splitlines()) == 1
    assert len(list(partial.glob("frame-*.nc"))) == 2
    # the same command continues after the finished frames
    resumed = install(monkeypatch, StandInPredictor())
    assert _run([traj, "-o", out, *ARGS], capsys)[0] == 0
    assert resumed.calls == len(BONDS) - 2 and not partial.exists()
    # and gives what an uninterrupted run gives
    install(monkeypatch, StandInPredictor())
    assert _run([traj, "-o", tmp_path / "whole.nc", *ARGS], capsys)[0] == 0
    with xr.open_dataset(out, engine="h5netcdf") as a, xr.open_dataset(tmp_path / "whole.nc", engine="h5netcdf") as b:
        for name in ("phi", "phi_star", "molecular_fraction", "elf", "positions", "time"):
            np.testing.assert_array_equal(a[name].values, b[name].values)


def test_force_discards_a_run_with_other_settings(tmp_path, traj, monkeypatch, capsys):
    out = tmp_path / "elf.nc"
    install(monkeypatch, StandInPredictor(fail_after=2))
    assert _run([traj, "-o", out, *ARGS], capsys)[0] == 130
    stand_in = install(monkeypatch, StandInPredictor())
    assert _run([traj, "-o", out, "--every", "3", "--force", *ARGS], capsys)[0] == 0
    assert stand_in.calls == 2 and _leftovers(out) == ["elf.nc"]


def test_existing_output_refused(tmp_path, traj, monkeypatch, capsys):
    stand_in = install(monkeypatch, StandInPredictor())
    out = tmp_path / "elf.nc"
    out.write_bytes(b"keep me")
    code, _, err = _run([traj, "-o", out, *ARGS], capsys)
    assert code == 2 and "already exists" in err and "--force" in err and len(err.splitlines()) == 1
    assert out.read_bytes() == b"keep me" and stand_in.calls == 0 and _leftovers(out) == ["elf.nc"]


def _mixed(path):
    ase.io.write(str(path), [Atoms("H2", [[0, 0, 0], [0.74, 0, 0]], cell=[4] * 3, pbc=True),
                             Atoms("H3", [[0, 0, 0], [0.74, 0, 0], [2, 2, 2]], cell=[4] * 3, pbc=True)])


def _lithium(path):
    ase.io.write(str(path), [Atoms("LiH", [[0, 0, 0], [1.6, 0, 0]], cell=[4] * 3, pbc=True)])


def _empty(path):
    path.write_text("")


def _garbage(path):
    path.write_text("2\nLattice=\"4 0 0 0 4 0 0 0 4\"\nH 0 0\n")


def _changing_cell(path):
    ase.io.write(str(path), [Atoms("H2", [[0, 0, 0], [0.74, 0, 0]], cell=[a] * 3, pbc=True) for a in (4.0, 4.4)])


@pytest.mark.parametrize("make,words", [
    (_mixed, "frame 1 has 3 atoms but frame 0 has 2"),
    (_lithium, "contains Li"),
    (_empty, "is empty"),
    (_garbage, "could not be read as extxyz"),
    (_changing_cell, "--no-fields"),
])
def test_bad_trajectories_exit_2_and_leave_nothing(tmp_path, monkeypatch, capsys, make, words):
    stand_in = install(monkeypatch, StandInPredictor())
    path, out = tmp_path / "md.xyz", tmp_path / "out" / "elf.nc"
    make(path)
    code, text, err = _run([path, "-o", out, *ARGS], capsys)
    assert code == 2 and words in err, err
    assert len(err.strip().splitlines()) == 1 and "Traceback" not in err and text == ""
    assert stand_in.calls == 0 and not list(out.parent.iterdir())


def test_changing_cell_with_fixed_grid_or_no_fields(tmp_path, monkeypatch, capsys):
    install(monkeypatch, StandInPredictor())
    path = tmp_path / "md.xyz"
    _changing_cell(path)
    assert _run([path, "-o", tmp_path / "a.nc", "--no-fields", *ARGS], capsys)[0] == 0
    with xr.open_dataset(tmp_path / "a.nc", engine="h5netcdf") as ds:
        assert ds["grid_shape"].values.tolist() == [[20, 20, 20], [24, 24, 24]]
    assert _run([path, "-o", tmp_path / "b.nc", "--grid", "16,16,16", *ARGS[2:]], capsys)[0] == 0
    with xr.open_dataset(tmp_path / "b.nc", engine="h5netcdf") as ds:
        assert ds["elf"].shape == (2, 16, 16, 16) and ds["cell"].values[:, 0, 0].tolist() == [4.0, 4.4]
