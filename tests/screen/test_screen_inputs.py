"""Input expansion of screening runs: files, globs, trajectories, databases, netCDF, collections, keys."""

from __future__ import annotations

import os

import ase.db
import ase.io
import numpy as np
import pytest
from ase import Atoms
from test_screen_support import h2_frames, write_trajectory

from elfviz import grid
from elfviz.errors import FileFormatError
from elfviz.io.store import FrameCollection, write_netcdf
from elfviz.screen.inputs import expand_paths, iter_items, parse_select, structure_hash


def test_trajectory_frames_are_items_with_metadata(tmp_path):
    path = write_trajectory(tmp_path / "md.extxyz", 3)
    items = list(iter_items([path]))
    assert [item.frame for item in items] == ["0", "1", "2"]
    assert all(item.ok and item.source == os.path.abspath(path) for item in items)
    assert [item.info["pressure_gpa"] for item in items] == [100.0, 110.0, 120.0]
    np.testing.assert_allclose(items[1].positions, h2_frames(3)[1].positions)
    assert len({item.key for item in items}) == 3


def test_keys_are_stable_and_follow_the_content(tmp_path):
    path = write_trajectory(tmp_path / "md.extxyz", 2)
    first = [item.key for item in iter_items([path])]
    assert first == [item.key for item in iter_items([path])]
    frames = h2_frames(2)
    frames[1].positions[0] += 0.05
    ase.io.write(path, frames, format="extxyz")
    second = [item.key for item in iter_items([path])]
    assert second[0] == first[0] and second[1] != first[1]


def test_structure_hash_ignores_float_noise_only():
    cell, pos = np.eye(3) * 3, np.array([[0.1, 0.2, 0.3]])
    assert structure_hash(cell, pos, [1]) == structure_hash(cell, pos + 1e-11, [1])
    assert structure_hash(cell, pos, [1]) != structure_hash(cell, pos + 1e-4, [1])
    assert structure_hash(cell, pos, [1]) != structure_hash(cell, pos, [2])


def test_glob_sorted_and_duplicates_dropped(tmp_path):
    for name in ("b.extxyz", "a.extxyz"):
        write_trajectory(tmp_path / name, 1, seed=ord(name[0]))
    items = list(iter_items([str(tmp_path / "*.extxyz"), str(tmp_path / "a.extxyz")]))
    assert [os.path.basename(item.source) for item in items] == ["a.extxyz", "b.extxyz"]


def test_missing_path_and_empty_glob_fail_before_work(tmp_path):
    with pytest.raises(FileFormatError, match="does not exist"):
        expand_paths([tmp_path / "nope.xyz"])
    with pytest.raises(FileFormatError, match="matches no file"):
        expand_paths([str(tmp_path / "*.cif")])


def test_outputs_are_never_inputs(tmp_path):
    write_trajectory(tmp_path / "a.extxyz", 1)
    (tmp_path / "results.csv").write_text("key\n")
    paths = expand_paths([str(tmp_path / "*")], exclude=[tmp_path / "results.csv"])
    assert [os.path.basename(p) for p in paths] == ["a.extxyz"]


def test_unreadable_file_becomes_a_failed_item(tmp_path):
    bad = tmp_path / "bad.xyz"
    bad.write_text("this is not xyz\n")
    good = write_trajectory(tmp_path / "good.extxyz", 1)
    items = list(iter_items([bad, good]))
    assert [item.ok for item in items] == [False, True]
    assert items[0].error.startswith("read:") and "bad.xyz" in items[0].error
    assert items[0].positions is None
    # the key of a failed file follows its bytes: fixing the file gives a new item
    key = items[0].key
    write_trajectory(bad, 1)
    assert (
        next(
            iter_items(
                [bad],
            )
        ).key
        != key
    )


def test_ase_database_rows_are_items(tmp_path):
    path = tmp_path / "structures.db"
    with ase.db.connect(path) as database:
        for atoms in h2_frames(2):
            database.write(atoms, pressure_gpa=atoms.info["pressure_gpa"])
    items = list(iter_items([path]))
    assert [item.frame for item in items] == ["1", "2"]
    assert [item.info["pressure_gpa"] for item in items] == [100.0, 110.0]


def test_netcdf_and_collection_inputs(tmp_path):
    atoms = h2_frames(1)[0]
    ds = grid.from_atoms(atoms, shape=(6, 6, 6))
    write_netcdf(ds, tmp_path / "one.nc")
    [item] = iter_items([tmp_path / "one.nc"])
    np.testing.assert_allclose(item.cell, atoms.cell.array)

    collection = FrameCollection(tmp_path / "coll")
    for i, frame in enumerate(h2_frames(3)):
        collection.add(
            grid.from_atoms(frame, shape=(6, 6, 6)), f"f{i}", phase="liquid", split="test" if i else "train"
        )
    items = list(iter_items([tmp_path / "coll"]))
    assert [item.frame for item in items] == ["f0", "f1", "f2"]
    assert items[0].info["split"] == "train" and items[0].info["phase"] == "liquid"
    selected = list(iter_items([tmp_path / "coll"], select={"split": "test"}))
    assert [item.frame for item in selected] == ["f1", "f2"]
    with pytest.raises(FileFormatError, match="no column"):
        list(iter_items([tmp_path / "coll"], select={"colour": "red"}))


def test_folder_without_index_is_refused(tmp_path):
    (tmp_path / "d").mkdir()
    with pytest.raises(FileFormatError, match="glob"):
        list(iter_items([tmp_path / "d"]))


def test_parse_select():
    assert parse_select(["split=test"]) == {"split": "test"}
    assert parse_select(["phase=a,b"]) == {"phase": ["a", "b"]}
    with pytest.raises(Exception, match="KEY=VALUE"):
        parse_select(["split"])


def test_single_atoms_without_cell_is_a_failure_at_the_worker_not_here(tmp_path):
    # a molecule without a cell is read fine; the worker refuses it with a StructureError (see test_screen)
    path = tmp_path / "mol.xyz"
    ase.io.write(path, Atoms("H2", [[0, 0, 0], [0.74, 0, 0]]))
    [item] = iter_items([path])
    assert item.ok
