"""elfviz predict / compare / train on the synthetic collection."""

import json

import numpy as np
import pytest
from conftest import small_train_args

from elfviz import io
from elfviz.cli import main
from elfviz.model.descriptors import DescriptorSpec
from elfviz.model.training.correction_fit import save_correction


@pytest.fixture(scope="module")
def reference_file(synthetic_collection, tmp_path_factory):
    ds = synthetic_collection.read(synthetic_collection.select(split="test")["frame_id"].iloc[0])
    path = tmp_path_factory.mktemp("cli") / "ref.nc"
    io.write(ds, path)
    return path


def test_predict_like_then_compare(reference_file, synthetic_weights, tmp_path, capsys):
    pred = tmp_path / "pred.nc"
    assert (
        main(
            [
                "predict",
                str(reference_file),
                "-o",
                str(pred),
                "--like",
                str(reference_file),
                "--weights",
                str(synthetic_weights[0]),
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    ds = io.read(pred)
    assert ds["elf"].shape == io.read(reference_file)["elf"].shape
    assert ds.attrs["source"].startswith("model:elfnet-fft@")
    capsys.readouterr()
    assert main(["compare", str(reference_file), str(pred), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert 0.5 < result["r2"] <= 1.0 and result["mae"] < 0.1
    assert abs(result["phi_error"] - (result["phi_prediction"] - result["phi_reference"])) < 1e-12
    assert main(["compare", str(reference_file), str(reference_file)]) == 0
    text = capsys.readouterr().out
    assert "R^2          1.0000" in text and "difference +0.0000" in text


def test_predict_grid_and_refuses_overwrite(reference_file, synthetic_weights, tmp_path, capsys):
    out = tmp_path / "p.cube"
    args = [
        "predict",
        str(reference_file),
        "-o",
        str(out),
        "--grid",
        "8,10,12",
        "--weights",
        str(synthetic_weights[0]),
        "--device",
        "cpu",
    ]
    assert main(args) == 0
    assert io.read(out)["elf"].shape == (8, 10, 12)
    assert main(args) == 2
    assert "already exists" in capsys.readouterr().err
    assert main(args + ["--force"]) == 0
    assert main(args[:4] + ["--grid", "8,x", "--force"]) == 2


def test_compare_rejects_different_grids(reference_file, synthetic_weights, tmp_path, capsys):
    out = tmp_path / "coarse.nc"
    assert (
        main(
            [
                "predict",
                str(reference_file),
                "-o",
                str(out),
                "--grid",
                "6,6,6",
                "--weights",
                str(synthetic_weights[0]),
                "--device",
                "cpu",
            ]
        )
        == 0
    )
    capsys.readouterr()
    assert main(["compare", str(reference_file), str(out)]) == 2
    assert "--like" in capsys.readouterr().err


def test_train_cli_and_resume(synthetic_collection, tmp_path, capsys):
    out = tmp_path / "m"
    base = ["train", str(synthetic_collection.root), "-o", str(out), *small_train_args(epochs=1), "--members", "1"]
    assert main(base) == 0
    assert (tmp_path / "m.pt").exists() and (tmp_path / "m.ckpt.pt").exists()
    meta = json.loads((tmp_path / "m.json").read_text())
    assert meta["card"]["epochs_run"] == 1 and meta["card"]["train_frames"] == 2
    assert main(base) == 2  # exists
    assert "--resume" in capsys.readouterr().err
    resumed = base.copy()
    resumed[resumed.index("--epochs") + 1] = "2"
    assert main(resumed + ["--resume"]) == 0
    meta = json.loads((tmp_path / "m.json").read_text())
    assert [h["epoch"] for h in meta["card"]["history"]] == [0, 1]
    # export the checkpoint without training
    (tmp_path / "m.pt").unlink()
    (tmp_path / "m.json").unlink()
    assert main(["train", str(synthetic_collection.root), "-o", str(out), "--export-checkpoint"]) == 0
    exported = json.loads((tmp_path / "m.json").read_text())
    assert exported["card"]["epochs_run"] == 2 and exported["card"]["exported_from_checkpoint"]
    assert exported["card"]["train_frame_ids"] == meta["card"]["train_frame_ids"]
    assert main(["train", str(synthetic_collection.root), "-o", str(out), "--export-checkpoint"]) == 2
    assert main(["train", str(tmp_path / "nothing"), "-o", str(tmp_path / "x")]) == 2


def test_predict_with_a_correction_file(reference_file, synthetic_weights, tmp_path, capsys):
    from elfviz.model import Predictor
    from elfviz.model.correction import CHANNELS, FourierCorrection

    version = synthetic_weights[1]["version"]
    corr = FourierCorrection(
        0.02 * np.random.default_rng(2).normal(size=len(CHANNELS) * 3),
        k_max=4.0, n_radial=3, channels=CHANNELS, rs_ref=1.45, rs_order=0,
        metadata={"model_version": version, "name": "cli-test"},
    )
    path = save_correction(corr, tmp_path / "corr.json")
    base = ["predict", str(reference_file), "--like", str(reference_file), "--weights", str(synthetic_weights[0])]
    assert main([*base, "-o", str(tmp_path / "c.nc"), "--correction", str(path), "--device", "cpu"]) == 0
    assert "cli-test" in capsys.readouterr().out
    ref = io.read(reference_file)
    expected = Predictor(synthetic_weights[0], device="cpu", correction=corr).predict(ref, like=ref)
    np.testing.assert_allclose(io.read(tmp_path / "c.nc")["elf"].values, expected["elf"].values, atol=1e-6)
    # the shipped correction belongs to the bundled weights only
    assert main([*base, "-o", str(tmp_path / "b.nc"), "--correction", "bundled"]) == 2
    assert "fitted on the bundled weights" in capsys.readouterr().err
    assert not (tmp_path / "b.nc").exists()


def test_train_help_states_the_recipe_defaults(capsys):
    """The defaults printed by ``elfviz train --help`` are the ones TrainConfig really uses."""
    from elfviz.model.training import TrainConfig

    with pytest.raises(SystemExit):
        main(["train", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    config = TrainConfig()
    assert f"per training frame (default {config.points_per_frame})" in text
    assert f"maximum epochs per network (default {config.epochs})" in text
    assert f"(default {config.bond_fraction} = uniform over the grid, the bundled recipe)" in text
    low, high = config.bond_window
    assert f"atom pairs {low:g}-{high:g} Å apart" in text


def test_train_with_triple_invariants_writes_weights_the_predictor_uses(
    synthetic_collection, reference_file, tmp_path, capsys
):
    out = tmp_path / "tri"
    args = ["train", str(synthetic_collection.root), "-o", str(out), *small_train_args(), "--members", "1"]
    args[args.index("--lmax") + 1] = "2"
    assert main([*args, "--triple-invariants"]) == 0
    meta = json.loads((tmp_path / "tri.json").read_text())
    spec = DescriptorSpec.from_dict(meta["descriptors"])
    assert spec.triple and meta["n_features"] == spec.n_features > DescriptorSpec(spec.widths, 2).n_features
    assert meta["card"]["hyperparameters"]["triple"] is True
    pred = tmp_path / "pred.nc"
    assert main(["predict", str(reference_file), "-o", str(pred), "--like", str(reference_file),
                 "--weights", str(out), "--device", "cpu"]) == 0
    assert pred.exists()
    capsys.readouterr()
    lmax1 = ["train", str(synthetic_collection.root), "-o", str(tmp_path / "bad"), *small_train_args()]
    assert main([*lmax1, "--triple-invariants"]) == 2
    assert "lmax >= 2" in capsys.readouterr().err
