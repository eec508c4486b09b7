"""The atom-channel family against the 1.6 network (python -m elfviz.cli.programs.atom_ablation), on synthetic
collections."""

import json
from dataclasses import replace

import pytest
import torch
from conftest import random_hydrogen

from elfviz.cli.programs.atom_ablation import format_validation, main
from elfviz.io.store import FrameCollection
from elfviz.model.atom_channels import AtomChannelSpec
from elfviz.model.atom_messages import MessageSpec
from elfviz.model.atom_network import AtomMixNet, predict_grid
from elfviz.model.descriptors import DescriptorSpec
from elfviz.model.lowk_head import LowKSpec
from elfviz.model.training.atom_ablation import (
    AblationBudget,
    choose,
    frame_arrays,
    frame_grouped_order,
    load_variant,
    run,
    score_test_split,
    summarise_test_split,
)
from elfviz.reference.promolecular import promolecular_elf

TINY = AblationBudget(points_per_frame=200, val_points_per_frame=150, epochs=2, hidden=(8,), channels=2,
                      pairs=(0.6, 2.5), fixed=DescriptorSpec(widths=(0.5, 1.0), lmax=1).to_dict(),
                      atom=AtomChannelSpec(widths=(0.5,), lmax=1, wide=(2.0,)).to_dict(),
                      message=MessageSpec(widths=(0.4, 0.6), lmax=1).to_dict(), message_hidden=8)


def test_variants_are_trained_side_by_side_and_chosen_by_validation(synthetic_collection, tmp_path):
    result = run(synthetic_collection.root, TINY, ("1.6", "atoms+wide"), out=tmp_path)
    assert result["split"] == {"train": 8, "validation": 4}
    for name in ("1.6", "atoms+wide"):
        val = result["variants"][name]["validation"]
        assert 0 < val["mae"] < 0.5 and val["midpoint_mae"] > 0 and set(val["per_rs"]) == {"1.35", "1.60"}
        assert (tmp_path / f"{name}-s0.pt").exists()
    parameters = {name: result["variants"][name]["runs"][0]["parameters"] for name in ("1.6", "atoms+wide")}
    assert parameters["atoms+wide"] > parameters["1.6"]
    assert result["chosen"] == choose(result) in ("1.6", "atoms+wide")
    assert json.loads((tmp_path / "ablation.json").read_text())["chosen"] == result["chosen"]
    table = format_validation(result)
    assert table.count("\n") == 3 and "(chosen)" in table and "R² rs 1.35" in table
    net = load_variant(tmp_path / "atoms+wide-s0.pt", "atoms+wide", TINY)
    assert net.atoms and net.wide


def test_the_message_passing_variant_trains_beside_the_others_and_predicts_whole_grids(synthetic_collection,
                                                                                       tmp_path):
    result = run(synthetic_collection.root, TINY, ("1.6", "messages"), out=tmp_path)
    record = result["variants"]["messages"]
    assert 0 < record["validation"]["mae"] < 0.5 and record["validation"]["midpoint_mae"] > 0
    assert record["runs"][0]["parameters"] > result["variants"]["1.6"]["runs"][0]["parameters"]
    net = load_variant(tmp_path / "messages-s0.pt", "messages", TINY)
    assert net.messages.head.weight.abs().sum() > 0  # the message part moved from its zero start
    coll = FrameCollection(tmp_path / "coll")
    for frame_id, phase, seed in (("liquid-0", "liquid", 1), ("C2c-12-rs1.40", "C2c-12", 2)):
        ds = promolecular_elf(random_hydrogen(rs=1.4, seed=seed, n_side=2 if seed == 2 else 3), shape=(16, 16, 16))
        coll.add(ds, frame_id=frame_id, phase=phase, trajectory=phase, split="test")
    report = score_test_split(coll.root, {"messages": net}, TINY)["messages"]
    assert set(report) == {"liquid-0", "C2c-12-rs1.40"} and 0 < report["liquid-0"]["mae"] < 0.5
    assert 0 <= report["C2c-12-rs1.40"]["phi_model"] <= 1


def test_the_long_wavelength_head_trains_with_the_network(synthetic_collection, tmp_path):
    # the head joins at once here, so whichever epoch is kept, it has trained (the default joins late)
    budget = replace(TINY, epochs=2, lowk=LowKSpec(n_radial=4, rs_order=1).to_dict(), lowk_epochs=2)
    result = run(synthetic_collection.root, budget, ("messages+lowk",), out=tmp_path)
    assert 0 < result["variants"]["messages+lowk"]["validation"]["mae"] < 0.5
    net = load_variant(tmp_path / "messages+lowk-s0.pt", "messages+lowk", budget)
    assert net.head.abs().sum() > 0 and net.base.messages.head.weight.abs().sum() > 0
    with pytest.raises(ValueError, match="unknown variant"):
        run(synthetic_collection.root, budget, ("messages+wide",), out=tmp_path / "x")


def test_the_head_joins_for_the_last_epochs_only(synthetic_collection, tmp_path, monkeypatch):
    import elfviz.model.training.atom_ablation as ablation

    calls = []
    original = ablation.refresh_lowk

    def recording(net, pool, budget):
        calls.append((len(pool["y"]), bool(net.head.abs().sum() > 0)))
        original(net, pool, budget)

    monkeypatch.setattr(ablation, "refresh_lowk", recording)
    budget = replace(TINY, epochs=3, lowk=LowKSpec(n_radial=4, rs_order=1).to_dict(), lowk_epochs=2)
    run(synthetic_collection.root, budget, ("1.6+lowk",), out=tmp_path)
    sizes = sorted({n for n, _ in calls})
    assert len(calls) == 4 and len(sizes) == 2  # epochs 1 and 2, training and validation pools each
    assert calls[0][1] is False  # the head was still zero (frozen) when it joined at epoch 1


def test_a_frame_grouped_order_is_a_permutation_in_runs_of_one_frame():
    frame = torch.repeat_interleave(torch.arange(5), torch.tensor([300, 10, 0, 257, 128]))
    order = frame_grouped_order(frame, torch.Generator().manual_seed(0), chunk=128)
    assert torch.equal(torch.sort(order).values, torch.arange(len(frame)))
    runs = torch.unique_consecutive(frame[order])  # a frame's chunks are runs (adjacent ones merge)
    for f, n in enumerate((300, 10, 0, 257, 128)):
        assert (runs == f).sum() <= -(-n // 128)
    again = frame_grouped_order(frame, torch.Generator().manual_seed(1), chunk=128)
    assert not torch.equal(order, again)


def test_the_choice_reads_validation_only():
    def record(r2, mid):
        return {"validation": {"r2": r2, "midpoint_mae": mid}}

    assert choose({"variants": {"a": record(0.990, 0.02), "b": record(0.992, 0.03)}}) == "b"
    assert choose({"variants": {"a": record(0.99001, 0.02), "b": record(0.99004, 0.03)}}) == "a"  # a tie in R²


def test_the_test_report_scores_liquids_and_crystals_once(synthetic_collection, tmp_path):
    coll = FrameCollection(tmp_path / "coll")
    for frame_id, phase, seed in (("liquid-0", "liquid", 1), ("C2c-12-rs1.40", "C2c-12", 2)):
        ds = promolecular_elf(random_hydrogen(rs=1.4, seed=seed), shape=(16, 16, 16))
        coll.add(ds, frame_id=frame_id, phase=phase, trajectory=phase, split="test")
    run(synthetic_collection.root, TINY, ("1.6",), out=tmp_path / "nets")
    net = load_variant(tmp_path / "nets" / "1.6-s0.pt", "1.6", TINY)
    report = score_test_split(coll.root, {"1.6": net}, TINY)
    assert set(report["1.6"]) == {"liquid-0", "C2c-12-rs1.40"}
    assert "phi_model" in report["1.6"]["C2c-12-rs1.40"] and "phi_model" not in report["1.6"]["liquid-0"]
    summary = summarise_test_split(report)["1.6"]
    assert list(summary["liquid_r2_per_rs"]) == ["1.40"]
    crystal = summary["crystals"]["C2c-12-rs1.40"]
    assert crystal["abs_dphi"] == pytest.approx(abs(crystal["phi_model"] - crystal["phi_reference"]))
    assert summary["crystal_mean_abs_dphi"] == crystal["abs_dphi"]


def test_a_missing_dataset_is_a_clear_error(tmp_path, capsys):
    assert main(["--data", str(tmp_path / "nowhere"), "--out", str(tmp_path / "out"), "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "nowhere" in err and "Traceback" not in err


def test_an_earlier_run_is_scored_on_whole_validation_frames_without_training(synthetic_collection, tmp_path,
                                                                                capsys):
    run(synthetic_collection.root, TINY, ("1.6", "atoms"), out=tmp_path)
    before = {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir()}
    argv = ["--data", str(synthetic_collection.root), "--from-run", str(tmp_path), "--validation-grids"]
    assert main(argv) == 0
    report = json.loads((tmp_path / "validation_grids.json").read_text())
    chosen = json.loads((tmp_path / "ablation.json").read_text())["chosen"]
    assert set(report) == {"1.6", chosen} and len(report["1.6"]) == 4  # the four validation frames
    frame = next(iter(report["1.6"].values()))
    assert 0 <= frame["lowk_fraction"] <= 1 and frame["r2"] < 1
    assert "validation frames, whole grids" in capsys.readouterr().out
    assert {p.name: p.stat().st_mtime_ns for p in tmp_path.iterdir() if p.name in before} == before
    assert main(argv) == 2  # scored already: nothing overwritten
    assert "exists" in capsys.readouterr().err
    assert main(argv[:2] + ["--from-run", str(tmp_path), "--out", str(tmp_path / "x"), "--test"]) == 2
    assert main(argv[:2] + ["--from-run", str(tmp_path / "nowhere"), "--test"]) == 2
    assert "ablation.json not found" in capsys.readouterr().err


def test_an_earlier_ablation_is_never_overwritten(tmp_path, capsys):
    (tmp_path / "ablation.json").write_text("{}")
    (tmp_path / "atoms-s0.pt").write_bytes(b"precious")
    assert main(["--data", str(tmp_path / "nowhere"), "--out", str(tmp_path), "--epochs", "1"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "already holds a finished ablation" in err and "ablation.json" in err
    assert (tmp_path / "atoms-s0.pt").read_bytes() == b"precious" and (tmp_path / "ablation.json").read_text() == "{}"
    (tmp_path / "ablation.json").unlink()  # a stopped run: its networks are kept unless --resume continues it
    assert main(["--data", str(tmp_path / "nowhere"), "--out", str(tmp_path), "--epochs", "1"]) == 2
    assert "continue it with --resume" in capsys.readouterr().err
    assert main(["--data", str(tmp_path / "nowhere"), "--out", str(tmp_path), "--resume"]) == 2
    assert "nothing to resume" in capsys.readouterr().err
    assert (tmp_path / "atoms-s0.pt").read_bytes() == b"precious"


def test_a_stopped_run_continues_to_the_same_networks(synthetic_collection, tmp_path, monkeypatch):
    """Stopped after the first epoch (the head joins at the second), then continued: the same networks, records
    and checkpoints gone, as a run never stopped; another budget cannot continue it."""
    import elfviz.model.training.atom_ablation as ablation

    budget = replace(TINY, epochs=3, lowk=LowKSpec(n_radial=4, rs_order=1).to_dict(), lowk_epochs=2)
    whole = run(synthetic_collection.root, budget, ("1.6+lowk",), out=tmp_path / "whole")
    original = ablation.save_checkpoint

    def stop_after_first_epoch(path, state):
        original(path, state)
        if state["epoch"] == 0:
            raise KeyboardInterrupt

    monkeypatch.setattr(ablation, "save_checkpoint", stop_after_first_epoch)
    with pytest.raises(KeyboardInterrupt):
        run(synthetic_collection.root, budget, ("1.6+lowk",), out=tmp_path / "stopped")
    assert (tmp_path / "stopped" / "1.6+lowk-s0.ckpt.pt").is_file()
    monkeypatch.setattr(ablation, "save_checkpoint", original)
    with pytest.raises(ValueError, match="another budget"):
        run(synthetic_collection.root, replace(budget, epochs=4), ("1.6+lowk",), out=tmp_path / "stopped")
    resumed = run(synthetic_collection.root, budget, ("1.6+lowk",), out=tmp_path / "stopped")
    a, b = (torch.load(tmp_path / d / "1.6+lowk-s0.pt", weights_only=True) for d in ("whole", "stopped"))
    assert all(torch.equal(a[k], b[k]) for k in a) and float(a["head"].abs().sum()) > 0
    assert resumed["variants"]["1.6+lowk"]["runs"][0]["history"] == whole["variants"]["1.6+lowk"]["runs"][0]["history"]
    assert not list((tmp_path / "stopped").glob("*.ckpt.pt"))


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_the_pools_and_the_grid_prediction_on_cuda_match_cpu(synthetic_collection):
    collection = FrameCollection(synthetic_collection.root)
    ds = collection.read(collection.index["frame_id"].iloc[0])
    budget = TINY
    on_cpu = frame_arrays(ds, budget.fixed_spec(), budget.atom_spec(), "cpu")
    on_gpu = frame_arrays(ds, budget.fixed_spec(), budget.atom_spec(), "cuda")
    for a, b in zip(on_cpu[:2], on_gpu[:2], strict=True):
        assert torch.allclose(a, b.cpu(), rtol=1e-4, atol=1e-4 * float(a.abs().max()))
    net = AtomMixNet(budget.fixed_spec().n_features, budget.atom_spec(), channels=2, hidden=(8,))
    args = (ds["positions"].values, ds["cell"].values, ds["elf"].shape, budget.fixed_spec())
    cpu = predict_grid(net, *args)
    gpu = predict_grid(net.to("cuda"), *args, device="cuda")
    assert torch.allclose(cpu, gpu, atol=1e-4)


def test_the_shipped_model_is_scored_beside_an_earlier_run(synthetic_collection, tmp_path, capsys):
    """``--bundled``: the shipped model, exactly as ``Predictor()`` predicts, on the same whole frames and with the
    same scores, to its own file (the run's own scores stay as they are)."""
    from elfviz.analysis import field_metrics
    from elfviz.model import Predictor

    run(synthetic_collection.root, TINY, ("1.6",), out=tmp_path)
    argv = ["--data", str(synthetic_collection.root), "--from-run", str(tmp_path), "--validation-grids", "--bundled"]
    assert main(argv) == 0
    assert not (tmp_path / "validation_grids.json").exists()
    report = json.loads((tmp_path / "validation_grids-bundled.json").read_text())
    predictor = Predictor(device="cpu")
    (name, frames), = report.items()
    assert name == f"bundled {predictor.version}" and len(frames) == 4
    frame_id, record = next(iter(frames.items()))
    ref = synthetic_collection.read(frame_id)
    expected = field_metrics(ref["elf"].values, predictor.predict(ref, like=ref)["elf"].values.astype(float))
    assert record["r2"] == pytest.approx(expected["r2"], abs=1e-9)
    assert "the shipped model" in capsys.readouterr().out
    assert main(argv) == 2  # scored already: nothing overwritten
    assert "validation_grids-bundled.json exists" in capsys.readouterr().err
