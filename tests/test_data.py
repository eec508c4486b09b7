"""Where frames live: the examples in the package, the full dataset beside it, and the lookup rules."""

from __future__ import annotations

import filecmp

import pandas as pd
import pytest

from elfviz import data
from elfviz.data.examples import FRAMES_PER_DENSITY, select_examples
from elfviz.errors import DataNotFoundError
from elfviz.io.store import FrameCollection


def test_examples_hold_held_out_liquids_at_every_density_and_all_crystals():
    examples = FrameCollection(data.examples_path())
    index = examples.index
    liquid = index[index["phase"] == "liquid"]
    assert set(index["split"]) == {"test"}  # nothing the model was trained or chosen on
    assert liquid.groupby(liquid["rs_bohr"].round(2)).size().tolist() == [FRAMES_PER_DENSITY] * 6
    assert sorted(index.loc[index["phase"] != "liquid", "frame_id"]) == [
        f"{phase}-rs{rs}" for phase in ("C2c-12", "C2c-24", "Cmca-12", "Cmca-4", "I41amd") for rs in ("1.30", "1.45")]
    ds = examples.read(liquid["frame_id"].iloc[0])
    assert "elf" in ds and ds.attrs["source"].startswith("dft:")
    size = sum(f.stat().st_size for f in data.examples_path().rglob("*") if f.is_file())
    assert size < 15e6


CMCA_FRAMES = [("Cmca-12-rs1.30", 12, 1.30, 342.8), ("Cmca-12-rs1.45", 12, 1.45, 149.4),
               ("Cmca-4-rs1.30", 4, 1.30, 329.5), ("Cmca-4-rs1.45", 4, 1.45, 141.2)]


@pytest.mark.parametrize("where", ["examples", "dataset"])
@pytest.mark.parametrize("frame_id, n_atoms, rs, pressure", CMCA_FRAMES)
def test_cmca_frames_hold_dft_elf_and_their_index_rows(where, frame_id, n_atoms, rs, pressure):
    """The Cmca-12 / Cmca-4 reference frames (Dec 2026): test-only, the phase's cell, QE ELF in [0, 1]."""
    import numpy as np

    from elfviz import structures

    if where == "dataset" and not data.has_dataset():
        pytest.skip("the full dataset is not in this checkout")
    collection = FrameCollection(data.examples_path() if where == "examples" else data.dataset_path())
    row = collection.index.set_index("frame_id").loc[frame_id]
    phase = frame_id.split("-rs")[0]
    assert (row["phase"], row["split"], int(row["n_atoms"])) == (phase, "test", n_atoms)
    assert float(row["rs_bohr"]) == pytest.approx(rs, abs=1e-9)
    assert float(row["pressure_gpa"]) == pytest.approx(pressure, abs=0.1)
    assert row["source"].startswith("dft:qe-") and "ecutwfc=60Ry" in row["source"]
    ds = collection.read(frame_id)
    elf = ds["elf"].values
    assert np.isfinite(elf).all() and 0 <= elf.min() and elf.max() <= 1 and elf.max() > 0.95
    built = structures.build_phase(phase, rs=rs)  # the frame is the bundled phase at that density
    np.testing.assert_allclose(ds["cell"].values, built.cell.array, atol=1e-6)
    np.testing.assert_allclose(ds["positions"].values, built.positions, atol=1e-6)


@pytest.mark.skipif(not data.has_dataset(), reason="the full dataset is not in this checkout")
def test_examples_are_the_datasets_frames_byte_for_byte():
    full = pd.read_csv(data.dataset_path() / "index.csv")
    bundled = pd.read_csv(data.examples_path() / "index.csv")
    expected = select_examples(full)
    pd.testing.assert_frame_equal(bundled.reset_index(drop=True), expected.reset_index(drop=True),
                                  check_dtype=False)
    for name in bundled["file"]:
        assert filecmp.cmp(data.dataset_path() / name, data.examples_path() / name, shallow=False), name


def test_dataset_lookup_order_and_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "CHECKOUT_DATASET", tmp_path / "no-checkout")
    monkeypatch.delenv(data.DATASET_ENV, raising=False)
    with pytest.raises(DataNotFoundError, match="not installed with elfviz.*ELFVIZ_DATASET.*dataset build"):
        data.dataset_path()
    assert not data.has_dataset() and data.frames_path() == data.examples_path()
    monkeypatch.setenv(data.DATASET_ENV, str(tmp_path))
    with pytest.raises(DataNotFoundError, match="no index.csv"):
        data.dataset_path()
    (tmp_path / "index.csv").write_text("file,frame_id\n")
    assert data.dataset_path() == tmp_path and data.frames_path() == tmp_path


def test_training_without_the_dataset_says_where_to_get_it(tmp_path, monkeypatch, capsys):
    from elfviz.cli import main

    monkeypatch.setattr(data, "CHECKOUT_DATASET", tmp_path / "no-checkout")
    monkeypatch.delenv(data.DATASET_ENV, raising=False)
    code = main(["train", "bundled", "-o", str(tmp_path / "model")])
    err = capsys.readouterr().err
    assert code == 2 and "clone the repository" in err and "Traceback" not in err
    assert not list(tmp_path.iterdir())  # nothing written


def test_the_example_trajectory():
    import ase.io

    frames = ase.io.read(data.example_trajectory_path(), ":")
    assert len(frames) == 24 and all(len(a) == 64 and set(a.get_chemical_symbols()) == {"H"} for a in frames)
    assert [a.info["time_fs"] for a in frames] == [2.5 * k for k in range(24)]
    if data.has_dataset():  # the held-out MD run, positions as recorded
        import numpy as np

        record = np.load(data.dataset_path() / "md" / "rs1.47-test.npz", allow_pickle=False)
        np.testing.assert_allclose(frames[3].positions, record["positions"][15], atol=1e-6)
        np.testing.assert_allclose(frames[0].cell.array, record["cell"], atol=1e-6)
