"""The dataset pipeline (evaluate, report) and the ``elfviz spectra`` command, on synthetic data."""

from __future__ import annotations

import json

import numpy as np
import pytest
from analysis_synthetic import FakePredictor, synthetic_pair

from elfviz import grid
from elfviz.analysis import field_metrics, residual_dataset
from elfviz.analysis.evaluate import density_table, evaluate_frames, markdown_table
from elfviz.cli import main
from elfviz.cli.programs import report as report_program
from elfviz.io.store import FrameCollection, write_netcdf
from elfviz.model.training import report as report_module


@pytest.fixture(scope="module")
def collection(tmp_path_factory):
    """Liquid frames at two densities: train, validation and test trajectories, plus one crystal."""
    root = tmp_path_factory.mktemp("dataset")
    coll = FrameCollection(root)
    seed = 100
    for scale, pressure in ((1.0, 300.0), (1.12, 150.0)):
        for split, n in (("train", 3), ("validation", 1), ("test", 2)):
            for i in range(n):
                seed += 1
                ref, _ = synthetic_pair(seed, scale=scale, pressure=pressure)
                ref.attrs.pop("frame_id")
                coll.add(
                    ref,
                    frame_id=f"s{scale}-{split}-{i}",
                    phase="liquid",
                    split=split,
                    trajectory=f"s{scale}-{split}",
                )
    crystal, _ = synthetic_pair(999, pressure=400.0)
    crystal.attrs.pop("frame_id")
    coll.add(crystal, frame_id="crystal-0", phase="Cmca-4", split="test", trajectory="crystal")
    return coll


@pytest.fixture
def fake_model(monkeypatch):
    model = FakePredictor()
    monkeypatch.setattr(report_module, "load_predictor", lambda device="auto", weights=None: model)
    return model


def test_select_frames(collection):
    test_liquid = report_module.select_frames(collection)
    assert len(test_liquid) == 4 and all("test" in f for f in test_liquid)
    assert report_module.select_frames(collection, phase="crystal") == ["crystal-0"]
    assert len(report_module.select_frames(collection, split="train", max_per_trajectory=2)) == 4
    assert len(report_module.select_frames(collection, split=None, phase=None)) == 13
    with pytest.raises(report_module.FileFormatError, match="no frames"):
        report_module.select_frames(collection, split="holdout")


def test_evaluate_frames_matches_direct_metrics(collection):
    model = FakePredictor()
    refs = [collection.read(f) for f in report_module.select_frames(collection)]
    ev = evaluate_frames(
        refs,
        lambda ds: model.predict(ds, like=ds),
        baseline=lambda ds: grid.with_field(ds, "elf", np.full(grid.grid_shape(ds), 0.4)),
        k_cuts=[0.0, 5.0, 40.0],
    )
    for i, ref in enumerate(refs):
        direct = field_metrics(ref["elf"], model.predict(ref, like=ref)["elf"])
        assert float(ev.metrics["r2"][i]) == pytest.approx(direct["r2"], rel=1e-6)
    assert np.all(ev.metrics["lowpass_r2"] > ev.metrics["r2"])
    assert np.all(ev.metrics["baseline_r2"] < 0.1)
    table = density_table(ev)
    assert table["frames"].tolist() == [2, 2] and table["pressure_gpa"].tolist() == [300.0, 150.0]
    assert {"r2_model", "r2_baseline", "r2_lowpass", "lowk_fraction", "correlation_length"} <= set(
        table.columns
    )
    text = markdown_table(table)
    assert text.count("\n| ") == 2 and "R² promol." in text
    assert np.allclose(ev.kcut_curves["r2"][:, -1], 1.0)


def test_report_with_fitted_correction(collection, fake_model, tmp_path, capsys):
    saved = tmp_path / "corr.json"
    code = report_program.main(
        [
            str(collection.root),
            "--fit-correction",
            "--max-train-frames",
            "2",
            "--save-correction",
            str(saved),
            "--cache",
            str(tmp_path / "cache"),
            "--output-dir",
            str(tmp_path / "out"),
        ]
    )
    assert code == 0
    out = capsys.readouterr().out
    assert "R² + learned corr." in out and "Learned correction" in out
    corr = json.loads(saved.read_text())
    assert corr["metadata"]["model_version"] == "synthetic@0"
    assert corr["metadata"]["validation_r2_after"] > corr["metadata"]["validation_r2_before"]
    candidates = corr["metadata"]["candidates"]
    assert len(candidates) == 4
    assert corr["metadata"]["validation_r2_after"] == max(c["validation_r2_after"] for c in candidates)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "kcut_curves.nc",
        "metrics.nc",
        "spectra.nc",
    ]
    cached_files = list((tmp_path / "cache").rglob("*.nc"))
    assert len(cached_files) == 4 + 4 + 2 + 4  # test, 2 per train trajectory, validation, promolecular test
    assert len(corr["metadata"]["train_frames"]) == 4
    # a second run reads the cache and reproduces the table without calling the model
    calls = fake_model.calls
    assert (
        report_program.main(
            [str(collection.root), "--correction", str(saved), "--cache", str(tmp_path / "cache"), "--json"]
        )
        == 0
    )
    assert fake_model.calls == calls
    data = json.loads(capsys.readouterr().out)
    rows = data["per_group"]
    assert len(rows) == 2 and all(r["r2_corrected"] > r["r2_model"] for r in rows)
    table_line = [line for line in out.splitlines() if line.startswith("| 2.")][0]
    assert f"{rows[0]['r2_model']:.4f}" in table_line


def test_cli_spectra_on_dataset(collection, fake_model, capsys):
    assert (
        main(
            [
                "spectra",
                "--dataset",
                str(collection.root),
                "--no-baseline",
                "--phase",
                "crystal",
                "--group-by",
                "frame",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "crystal-0" in out and "R² promol." not in out


def test_cli_spectra_on_file_pairs(tmp_path, capsys):
    paths = []
    for seed, scale in ((1, 1.0), (2, 1.1)):
        ref, pred = synthetic_pair(seed, scale=scale, pressure=100.0 * seed)
        paths += [
            write_netcdf(ref, tmp_path / f"ref{seed}.nc"),
            write_netcdf(pred, tmp_path / f"pred{seed}.nc"),
        ]
    args = ["spectra", *map(str, paths), "--json", "--output", str(tmp_path / "spectra.nc")]
    assert main(args) == 0
    data = json.loads(capsys.readouterr().out)
    assert len(data["pairs"]) == 2
    ref, pred = synthetic_pair(1, scale=1.0)
    assert data["pairs"][0]["r2"] == pytest.approx(field_metrics(ref["elf"], pred["elf"])["r2"], rel=1e-5)
    assert 0 <= data["pairs"][0]["lowk_fraction"] <= 1
    assert data["pairs"][0]["r2_lowpass"] > data["pairs"][0]["r2"]
    assert (tmp_path / "spectra.nc").exists()
    assert main(args) == 2  # refuses to overwrite the spectra
    assert "already exists" in capsys.readouterr().err
    assert main(["spectra", *map(str, paths[:2])]) == 0
    assert "var.frac<k" in capsys.readouterr().out


def test_cli_spectra_errors(tmp_path, capsys):
    ref, pred = synthetic_pair(3)
    other, _ = synthetic_pair(4, scale=1.2)
    a = write_netcdf(ref, tmp_path / "a.nc")
    b = write_netcdf(other, tmp_path / "b.nc")
    assert main(["spectra", str(a)]) == 2
    assert "pairs" in capsys.readouterr().err
    assert main(["spectra", str(a), str(b)]) == 2
    err = capsys.readouterr().err
    assert "a.nc vs " in err and "b.nc:" in err and "differ" in err
    assert main(["spectra"]) == 2
    assert "nothing to analyse" in capsys.readouterr().err
    assert main(["spectra", str(a), str(a), "--k-cut", "-1"]) == 2
    assert main(["spectra", "--dataset", str(tmp_path)]) == 2
    assert "not an elfviz dataset" in capsys.readouterr().err
    residual_dataset(ref, pred)  # the valid pair is fine


def test_report_on_the_promolecular_baseline_without_a_model(collection, tmp_path, capsys, monkeypatch):
    def no_model(*_, **__):
        raise AssertionError("the trained model must not be loaded for --model promolecular")

    monkeypatch.setattr(report_module, "load_predictor", no_model)
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    (out_dir / "spectra.nc").write_text("existing")
    args = [
        str(collection.root),
        "--model",
        "promolecular",
        "--max-frames",
        "1",
        "--output-dir",
        str(out_dir),
    ]
    assert report_program.main(args) == 2  # refuses before evaluating anything
    assert "already exists" in capsys.readouterr().err
    assert report_program.main(args[:-2]) == 0
    out = capsys.readouterr().out
    assert "Model: promolecular; frames: 2" in out and "R² promol." not in out


def test_correction_without_validation_trajectories_holds_out_trajectory_tails(tmp_path):
    coll = FrameCollection(tmp_path / "no-validation")
    for t, scale in enumerate((1.0, 1.1)):
        for i in range(5):
            ref, _ = synthetic_pair(200 + 10 * t + i, scale=scale)
            ref.attrs.pop("frame_id")
            coll.add(ref, frame_id=f"t{t}-{i}", phase="liquid", split="train", trajectory=f"t{t}")
    kept, held = report_module.hold_out_tail(coll, report_module.select_frames(coll, split="train"), 0.2)
    assert held == ["t0-4", "t1-4"] and len(kept) == 8
    model = FakePredictor()
    corr = report_module.fit_correction_on_collection(
        coll, lambda ds: model.predict(ds, like=ds), configs=[{"n_radial": 6}]
    )
    assert corr.metadata["validation_frames"] == ["t0-4", "t1-4"]
    assert "t0-4" not in corr.metadata["train_frames"]
    assert corr.metadata["validation_r2_after"] > corr.metadata["validation_r2_before"]


def test_model_cache_tag_changes_with_the_weights(tmp_path):
    model = FakePredictor()
    assert report_module.model_tag(model) == "model-synthetic@0"  # no weights file: version only
    weights = tmp_path / "net.pt"
    weights.write_bytes(b"first")
    model.weights_path = tmp_path / "net"
    first = report_module.model_tag(model)
    weights.write_bytes(b"second")
    assert report_module.model_tag(model) != first and first.startswith("model-synthetic@0-")
