"""elfviz.io.store: netCDF round trips (attrs, quantization), no overwrite, frame collections, DataTree."""

from __future__ import annotations

import numpy as np
import pytest

from elfviz import grid
from elfviz.errors import FileFormatError, OutputExistsError
from elfviz.io import store

CELL = np.array([[3.0, 0.0, 0.0], [0.7, 2.9, 0.0], [0.2, 0.3, 3.1]])


def frame(shape=(6, 7, 8), seed=0, n_atoms=2, **attrs):
    rng = np.random.default_rng(seed)
    positions = [[0, 0, 0], [1.2, 1.1, 1.5], [2.0, 0.3, 0.9]][:n_atoms]
    return grid.make_dataset(
        CELL,
        positions,
        [1] * n_atoms,
        elf=rng.random(shape),
        fields={"residual": rng.normal(0, 0.1, shape)},
        source="test",
        attrs=attrs,
    )


def test_netcdf_round_trip_preserves_everything(tmp_path):
    ds = frame(pressure_gpa=250.0, provenance={"engine": "qe", "kpts": [2, 2, 2]}, converged=True, note=None)
    path = store.write_netcdf(ds, tmp_path / "f.nc")
    back = store.read_netcdf(path)
    for name in ("cell", "positions", "numbers", "elf", "residual"):
        np.testing.assert_array_equal(back[name].values, ds[name].values)
        assert back[name].dtype == ds[name].dtype
    assert back.attrs["provenance"] == {"engine": "qe", "kpts": [2, 2, 2]}
    assert back.attrs["converged"] is True and back.attrs["note"] is None
    assert back.attrs["pressure_gpa"] == 250.0 and back.attrs["rs_bohr"] == ds.attrs["rs_bohr"]
    assert back["elf"].attrs["long_name"] == "electron localization function"


def test_quantized_round_trip_accuracy(tmp_path):
    ds = frame(shape=(10, 10, 10))
    store.write_netcdf(ds, tmp_path / "q.nc", quantize=True)
    back = store.read_netcdf(tmp_path / "q.nc")
    assert back["elf"].dtype == np.float32
    error = np.abs(back["elf"].values - ds["elf"].values).max()
    assert error <= 0.5 / 65535 + 1e-7  # half a quantization step
    np.testing.assert_array_equal(back["residual"].values, ds["residual"].values)  # not ELF: kept float32
    store.write_netcdf(ds, tmp_path / "f.nc")
    assert (tmp_path / "q.nc").stat().st_size < (tmp_path / "f.nc").stat().st_size


def test_no_overwrite_without_force(tmp_path):
    ds = frame()
    store.write_netcdf(ds, tmp_path / "f.nc")
    with pytest.raises(OutputExistsError, match="force"):
        store.write_netcdf(ds, tmp_path / "f.nc")
    store.write_netcdf(frame(seed=1), tmp_path / "f.nc", force=True)
    assert store.read_netcdf(tmp_path / "f.nc")["elf"].values[0, 0, 0] == pytest.approx(
        float(frame(seed=1)["elf"].values[0, 0, 0])
    )
    assert not list(tmp_path.glob(".*.part"))  # no temporary files left behind


def test_read_errors(tmp_path):
    with pytest.raises(FileFormatError, match="does not exist"):
        store.read_netcdf(tmp_path / "missing.nc")
    (tmp_path / "junk.nc").write_bytes(b"not hdf5 at all")
    with pytest.raises(FileFormatError, match="truncated"):
        store.read_netcdf(tmp_path / "junk.nc")
    ds = frame().drop_vars("numbers")
    import xarray as xr

    xr.Dataset({"x": ("t", [1.0, 2.0])}).to_netcdf(tmp_path / "other.nc", engine="h5netcdf")
    with pytest.raises(FileFormatError, match="not an elfviz Dataset"):
        store.read_netcdf(tmp_path / "other.nc")
    del ds


def test_frame_collection(tmp_path):
    coll = store.FrameCollection(tmp_path / "coll")
    assert len(coll) == 0 and list(coll.index.columns) == store.INDEX_COLUMNS
    coll.add(
        frame(seed=0, pressure_gpa=100.0), frame_id="001", phase="liquid", split="train", temperature_k=1500
    )
    coll.add(
        frame(seed=1, shape=(4, 5, 6), n_atoms=3, pressure_gpa=300.0),
        frame_id="002",
        phase="C2c-24",
        split="test",
    )
    coll.add(frame(seed=2), frame_id="liq-7", phase="liquid", split="validation")
    assert len(coll) == 3 and coll.frame_ids() == ["001", "002", "liq-7"]
    assert "001" in coll  # a numeric-looking id stays text
    one = coll.read("001")
    assert one.attrs["phase"] == "liquid" and one.attrs["split"] == "train"
    assert coll.read("002").sizes["atom"] == 3 and coll.read("002")["elf"].shape == (4, 5, 6)
    assert coll.select(phase="liquid")["frame_id"].tolist() == ["001", "liq-7"]
    assert coll.select(split=["test", "validation"])["frame_id"].tolist() == ["002", "liq-7"]
    row = coll.index.set_index("frame_id").loc["001"]
    assert row["pressure_gpa"] == 100.0 and row["temperature_k"] == 1500
    assert row["rs_bohr"] == pytest.approx(frame().attrs["rs_bohr"])
    with pytest.raises(KeyError, match="no column"):
        coll.select(colour="red")
    with pytest.raises(OutputExistsError, match="already"):
        coll.add(frame(), frame_id="001")
    coll.add(frame(seed=5), frame_id="001", force=True, phase="liquid")
    assert len(coll) == 3
    with pytest.raises(FileFormatError, match="no frame"):
        coll.read("nope")
    for bad in ("", "a/b", ".hidden"):
        with pytest.raises(FileFormatError, match="invalid frame id"):
            coll.add(frame(), frame_id=bad)
    sizes = {ds.attrs["frame_id"]: ds.sizes["atom"] for ds in coll.iter_frames()}
    assert sizes == {"001": 2, "002": 3, "liq-7": 2}


def test_datatree(tmp_path):
    coll = store.FrameCollection(tmp_path / "coll")
    coll.add(frame(seed=0), frame_id="a")
    coll.add(frame(seed=1, shape=(4, 4, 4), n_atoms=3), frame_id="b")
    tree = coll.to_datatree()
    assert set(tree.children) == {"a", "b"}
    assert tree["b"].to_dataset().sizes["atom"] == 3
    np.testing.assert_array_equal(tree["a"].to_dataset()["elf"].values, coll.read("a")["elf"].values)


def test_corrupt_index_table(tmp_path):
    coll = store.FrameCollection(tmp_path / "coll")
    coll.add(frame(), frame_id="a")
    coll.index_path.write_bytes(b"\x00\xff\x00 binary")
    with pytest.raises(FileFormatError, match="index table"):
        _ = coll.index


def test_atomic_writes_get_the_permissions_of_a_plain_write(tmp_path):
    import os
    import stat

    from elfviz.io.store import atomic_write

    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    atomic = tmp_path / "atomic.txt"
    atomic_write(atomic, lambda tmp: tmp.write_text("x"))
    assert stat.S_IMODE(os.stat(atomic).st_mode) == stat.S_IMODE(os.stat(plain).st_mode)
