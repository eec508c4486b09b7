"""Reading trajectories: formats written by ASE, --every, times, and the refusals."""

from __future__ import annotations

import ase.io
import numpy as np
import pytest
from ase import Atoms
from ase.io.trajectory import Trajectory

from elfviz.errors import FileFormatError, SpeciesError, StructureError
from elfviz.trajectory import read_trajectory, scan_trajectory

from .helpers import BONDS, stretched_frames


def _write(path, frames, fmt):
    if fmt == "traj":
        with Trajectory(str(path), "w") as traj:
            for atoms in frames:
                traj.write(atoms)
    else:
        ase.io.write(str(path), frames, format=fmt)


@pytest.mark.parametrize("name,fmt,has_time", [("md.xyz", "extxyz", True), ("md.traj", "traj", True),
                                               ("XDATCAR", "vasp-xdatcar", False)])
def test_formats_written_by_ase(tmp_path, name, fmt, has_time):
    path = tmp_path / name
    _write(path, stretched_frames(), fmt)
    frames = list(read_trajectory(path))
    assert len(frames) == len(BONDS)
    for frame, d in zip(frames, BONDS, strict=True):
        pos = frame["positions"].values
        assert frame.sizes["atom"] == 4 and set(frame["numbers"].values.tolist()) == {1}
        assert pos[1, 0] - pos[0, 0] == pytest.approx(d, abs=1e-5)
        np.testing.assert_allclose(frame["cell"].values, np.eye(3) * 4.0, atol=1e-6)
    assert [f.attrs["frame_index"] for f in frames] == list(range(len(BONDS)))
    times = [f.attrs.get("md_time_fs") for f in frames]
    assert times == ([0.5 * k for k in range(len(BONDS))] if has_time else [None] * len(BONDS))


def test_every_and_scan(tmp_path):
    path = tmp_path / "md.xyz"
    _write(path, stretched_frames(), "extxyz")
    assert [f.attrs["frame_index"] for f in read_trajectory(path, every=2)] == [0, 2, 4]
    scan = scan_trajectory(path, every=4)
    assert scan.n_frames_in_file == 6 and scan.frame_index.tolist() == [0, 4] and scan.n_atoms == 4
    assert scan.time_fs.tolist() == [0.0, 2.0]
    assert scan.grid_shapes(spacing=0.2) == [(20, 20, 20)] * 2


def test_lammps_dump_steps_and_timestep(tmp_path):
    def block(step, x):
        return (f"ITEM: TIMESTEP\n{step}\nITEM: NUMBER OF ATOMS\n2\nITEM: BOX BOUNDS pp pp pp\n0 3\n0 3\n0 3\n"
                f"ITEM: ATOMS id type x y z\n1 1 0 0 0\n2 1 {x} 0 0\n")

    path = tmp_path / "md.lammpstrj"
    path.write_text(block(100, 0.74) + block(200, 0.8))
    frames = list(read_trajectory(path, timestep_fs=0.25))
    assert [f.attrs["md_step"] for f in frames] == [100, 200]
    assert [f.attrs["md_time_fs"] for f in frames] == [25.0, 50.0]


def test_elfviz_md_record(tmp_path):
    path = tmp_path / "run.npz"
    positions = np.array([[[0, 0, 0], [0.74, 0, 0]], [[0, 0, 0], [0.8, 0, 0]]], dtype=float)
    np.savez(path, cell=np.eye(3) * 3, positions=positions, dt_fs=0.5)
    frames = list(read_trajectory(path))
    assert [f.attrs["md_time_fs"] for f in frames] == [0.5, 1.0]


def _h(n, x=0.0):
    return Atoms("H" * n, [[x + 0.8 * i, 0, 0] for i in range(n)], cell=[4, 4, 4], pbc=True)


@pytest.mark.parametrize("frames,error,words", [
    ([_h(2), _h(3)], StructureError, "frame 1 has 3 atoms but frame 0 has 2"),
    ([_h(2), Atoms("LiH", [[0, 0, 0], [1.6, 0, 0]], cell=[4, 4, 4], pbc=True)], SpeciesError, "contains Li"),
    ([Atoms("H2", [[0, 0, 0], [0.74, 0, 0]])], StructureError, "no 3-D periodic cell"),
])
def test_bad_trajectories(tmp_path, frames, error, words):
    path = tmp_path / "bad.xyz"
    ase.io.write(str(path), frames, format="extxyz")
    with pytest.raises(error, match=words):
        list(read_trajectory(path))


def test_empty_missing_and_unknown(tmp_path):
    (tmp_path / "empty.xyz").write_text("")
    with pytest.raises(FileFormatError, match="empty"):
        list(read_trajectory(tmp_path / "empty.xyz"))
    with pytest.raises(FileFormatError, match="no such file"):
        scan_trajectory(tmp_path / "missing.xyz")
    (tmp_path / "notes.txt").write_text("hello\n")
    with pytest.raises(FileFormatError, match="cannot tell the trajectory format"):
        list(read_trajectory(tmp_path / "notes.txt"))
    with pytest.raises(FileFormatError, match="every"):
        list(read_trajectory(tmp_path / "empty.xyz", every=0))


def _lammps_bytes() -> bytes:
    return b"".join(
        (f"ITEM: TIMESTEP\n{step}\nITEM: NUMBER OF ATOMS\n2\nITEM: BOX BOUNDS pp pp pp\n0 3\n0 3\n0 3\n"
         f"ITEM: ATOMS id type x y z\n1 1 0 0 0\n2 1 {x} 0 0\n").encode() for step, x in ((1, 0.74), (2, 0.8)))


@pytest.mark.parametrize("name", ["md.xyz", "md.traj", "XDATCAR", "md.lammpstrj", "run.npz"])
def test_an_upload_is_read_from_memory_as_its_file_would_be(tmp_path, name):
    from elfviz.trajectory import read_trajectory_bytes

    path = tmp_path / name
    if name.endswith(".lammpstrj"):
        path.write_bytes(_lammps_bytes())
    elif name.endswith(".npz"):
        positions = np.array([[[0, 0, 0], [0.74, 0, 0]], [[0, 0, 0], [0.8, 0, 0]]], dtype=float)
        np.savez(path, cell=np.eye(3) * 3, positions=positions, dt_fs=0.5)
    else:
        _write(path, stretched_frames(), {"md.xyz": "extxyz", "md.traj": "traj"}.get(name, "vasp-xdatcar"))
    from_file = list(read_trajectory(path, every=1))
    from_memory = list(read_trajectory_bytes(path.read_bytes(), f"/some/folder/{name}"))
    assert len(from_memory) == len(from_file) >= 2
    for a, b in zip(from_file, from_memory, strict=True):
        np.testing.assert_array_equal(a["positions"].values, b["positions"].values)
        np.testing.assert_array_equal(a["cell"].values, b["cell"].values)
        assert a.attrs == b.attrs


def test_bad_uploads_are_refused_with_the_files_name():
    from elfviz.trajectory import read_trajectory_bytes

    with pytest.raises(FileFormatError, match="md.xyz is empty"):
        list(read_trajectory_bytes(b"", "md.xyz"))
    with pytest.raises(FileFormatError, match="cannot tell the trajectory format of notes.txt"):
        list(read_trajectory_bytes(b"hello\n", "notes.txt"))
    with pytest.raises(FileFormatError, match="garbage.xyz: frame 0 could not be read"):
        list(read_trajectory_bytes(b"\x00\xff\x12 binary garbage\n\x01", "garbage.xyz"))
    with pytest.raises(FileFormatError, match="garbage.traj"):
        list(read_trajectory_bytes(b"\x00\xff\x12 binary garbage\n\x01", "garbage.traj"))
    text = "".join(f"2\nLattice=\"4 0 0 0 4 0 0 0 4\" Properties=species:S:1:pos:R:3 pbc=\"T T T\"\n{s} 0 0 0\n"
                   f"H 0.8 0 0\n" for s in ("H", "Li"))
    with pytest.raises(SpeciesError, match="md.xyz, frame 1 contains Li"):
        list(read_trajectory_bytes(text.encode(), "md.xyz"))
