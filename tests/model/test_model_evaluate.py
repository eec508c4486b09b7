"""Evaluation on test frames, the generated model card, and the bundled model (when shipped)."""

import json

import numpy as np
import pytest

from elfviz.cli.programs.evaluate import main
from elfviz.model.predictor import BUNDLED_WEIGHTS, Predictor
from elfviz.model.training import card as card_module
from elfviz.model.training.correction_fit import save_correction
from elfviz.model.training.evaluate import aggregate, evaluate, update_weights_card


def test_evaluate_and_card(synthetic_collection, synthetic_weights, tmp_path):
    weights = tmp_path / "w"
    for suffix in (".pt", ".json"):
        weights.with_suffix(suffix).write_bytes(synthetic_weights[0].with_suffix(suffix).read_bytes())
    result = evaluate(synthetic_collection.root, weights, device="cpu")
    test_ids = set(synthetic_collection.select(split="test")["frame_id"])
    assert {f["frame_id"] for f in result["frames"]} == test_ids
    assert [round(r["rs_bohr"], 2) for r in result["liquid_by_rs"]] == [1.35, 1.6]
    for row in result["liquid_by_rs"]:
        members = [f for f in result["frames"] if round(f["rs_bohr"], 2) == row["rs_bohr"]]
        assert row["model_r2"] == pytest.approx(np.mean([m["model"]["r2"] for m in members]))
        assert row["phi_abs_error"] == pytest.approx(
            np.mean([abs(m["phi_model"] - m["phi_reference"]) for m in members])
        )
    # the synthetic target *is* the promolecular ELF: the baseline must be exact there
    assert result["overall_liquid"]["promolecular_r2"] == pytest.approx(1.0, abs=1e-6)
    update_weights_card(weights, result)
    stored = card_module.read_card(weights)
    assert stored["test"]["overall_liquid"]["model_r2"] == pytest.approx(result["overall_liquid"]["model_r2"])
    text = card_module.render_card(json.loads(weights.with_suffix(".json").read_text()), result)
    assert "| 1.35 |" in text and "promol. R²" in text and "Crystal transfer" not in text
    assert "Frames the network has seen" not in text  # only on request


def test_fit_on_frames_the_network_has_seen(synthetic_collection, synthetic_weights):
    card = Predictor(synthetic_weights[0], device="cpu").card
    result = evaluate(synthetic_collection.root, synthetic_weights[0], device="cpu", topology=False, seen_frames=1)
    seen = result["seen"]
    assert seen["train"]["frames"] == 1 and seen["train"]["of"] == len(card["train_frame_ids"]) > 1
    assert seen["validation"]["frames"] == seen["validation"]["of"] == len(card["validation_frame_ids"])
    # the same metric as the held-out table, on the first listed training frame
    from elfviz.analysis import field_metrics
    from elfviz.io.store import FrameCollection

    ref = FrameCollection(synthetic_collection.root).read(card["train_frame_ids"][0])
    pred = Predictor(synthetic_weights[0], device="cpu").predict(ref, like=ref)
    assert seen["train"]["r2"] == pytest.approx(field_metrics(ref["elf"].values, pred["elf"].values)["r2"])
    text = card_module.render_card({"card": card}, result)
    assert f"1 of its {seen['train']['of']} training frames (evenly spread): R² {seen['train']['r2']:.4f}" in text
    assert ("not overfitting" in text) == (seen["train"]["mae"] >= 0.9 * result["overall_liquid"]["model_mae"])


def test_aggregate_groups_crystals_by_phase_and_density():
    def frame(phase, rs, r2, phi_ref, phi_model):
        m = {"r2": r2, "mae": 0.1, "rmse": 0.1, "max_abs_error": 0.3}
        return {
            "phase": phase,
            "rs_bohr": rs,
            "pressure_gpa": 100.0,
            "model": m,
            "promolecular": m,
            "phi_reference": phi_ref,
            "phi_model": phi_model,
            "phi_promolecular": 0.5,
        }

    rows = aggregate(
        [
            frame("Cmca-4", 1.3, 0.9, 0.5, 0.52),
            frame("Cmca-4", 1.301, 0.8, 0.5, 0.46),
            frame("C2c-24", 1.3, 0.7, 0.4, 0.4),
        ],
        ("phase", "rs_bohr"),
    )
    assert [(r["phase"], r["n_frames"]) for r in rows] == [("C2c-24", 1), ("Cmca-4", 2)]
    assert rows[1]["model_r2"] == pytest.approx(0.85) and rows[1]["phi_abs_error"] == pytest.approx(0.03)


def test_evaluate_command_writes_card(synthetic_collection, synthetic_weights, tmp_path):
    weights = tmp_path / "cli"
    for suffix in (".pt", ".json"):
        weights.with_suffix(suffix).write_bytes(synthetic_weights[0].with_suffix(suffix).read_bytes())
    card = tmp_path / "CARD.md"
    assert (
        main(
            [
                "--weights",
                str(weights),
                "--data",
                str(synthetic_collection.root),
                "--card",
                str(card),
                "--device",
                "cpu",
                "--per-group",
                "1",
                "--no-topology",
                "--json",
                str(tmp_path / "r.json"),
            ]
        )
        == 0
    )
    assert "# Model card: elfnet-fft@" in card.read_text()
    frames = json.loads((tmp_path / "r.json").read_text())["frames"]
    assert sorted(round(f["rs_bohr"], 2) for f in frames) == [1.35, 1.6]


def _bundled_test_frame():
    from elfviz.data import dataset_path
    from elfviz.io.store import FrameCollection

    if not BUNDLED_WEIGHTS.with_suffix(".pt").exists():
        pytest.skip("no bundled weights yet")
    coll = FrameCollection(dataset_path())
    test = coll.select(split="test", phase="liquid") if len(coll) else []
    if len(test) == 0:
        pytest.skip("the bundled dataset has no liquid test frame")
    return coll.read(test["frame_id"].iloc[0])


def test_bundled_model_beats_the_promolecular_baseline():
    from elfviz.analysis import field_metrics
    from elfviz.model import Predictor
    from elfviz.reference.promolecular import promolecular_elf

    ref = _bundled_test_frame()
    predictor = Predictor(device="cpu")
    pred = predictor.predict(ref, like=ref)
    pro = promolecular_elf(ref, like=ref)
    model = field_metrics(ref["elf"].values, pred["elf"].values)
    base = field_metrics(ref["elf"].values, pro["elf"].values)
    assert model["r2"] > base["r2"] + 0.1 and model["mae"] < base["mae"]
    assert model["r2"] > 0.9
    assert predictor.card["training_rs_bohr"][0] <= 1.25


def test_split_falls_back_to_holding_out_trajectory_tails(tmp_path):
    from conftest import make_collection

    from elfviz.model.training import split_frames

    coll = make_collection(tmp_path / "c", n_per_traj=5, rs_values=(1.5,), shape=(6, 6, 6))
    full = split_frames(coll)
    assert full["scheme"] == "validation trajectories" and all("-t2-" in f for f in full["validation"])
    table = coll.index
    table = table[table["split"] == "train"]
    table.to_csv(coll.index_path, index=False)
    tails = split_frames(coll)
    assert tails["validation"] == ["rs1.5-t0-4", "rs1.5-t1-4"] and "last 20%" in tails["scheme"]
    assert not set(tails["train"]) & set(tails["validation"]) and len(tails["train"]) == 8


def test_held_out_frames_without_a_test_split(tmp_path):
    from conftest import make_collection

    from elfviz.errors import ModelError
    from elfviz.model.training.evaluate import held_out_frames

    coll = make_collection(tmp_path / "c", n_per_traj=2, rs_values=(1.5,), shape=(6, 6, 6))
    ids, scheme = held_out_frames(coll, {})
    assert set(ids) == {"rs1.5-t3-0", "rs1.5-t3-1"} and scheme.startswith("test split")
    table = coll.index
    table[table["split"] != "test"].to_csv(coll.index_path, index=False)
    with pytest.raises(ModelError, match="does not list its training frames"):
        held_out_frames(coll, {})
    card = {
        "train_frame_ids": ["rs1.5-t0-0", "rs1.5-t0-1", "rs1.5-t1-0"],
        "validation_frame_ids": ["rs1.5-t2-0"],
    }
    ids, scheme = held_out_frames(coll, card)
    assert ids == ["rs1.5-t1-1", "rs1.5-t2-1"] and "not used in training" in scheme
    card["train_frame_ids"] += ids
    with pytest.raises(ModelError, match="every liquid frame"):
        held_out_frames(coll, card)


def _small_correction(version, scale=0.02):
    from elfviz.model.correction import CHANNELS, FourierCorrection

    weights = scale * np.random.default_rng(1).normal(size=len(CHANNELS) * 3 * 1)
    return FourierCorrection(
        weights, k_max=4.0, n_radial=3, channels=CHANNELS, rs_ref=1.45, rs_order=0,
        metadata={"model_version": version, "name": "test-correction"},
    )


def test_evaluate_scores_the_corrected_prediction_too(synthetic_collection, synthetic_weights, tmp_path):
    from elfviz.analysis import field_metrics
    from elfviz.model import Predictor
    from elfviz.topology import networking_analysis

    version = synthetic_weights[1]["version"]
    path = save_correction(_small_correction(version), tmp_path / "corr.json")
    result = evaluate(synthetic_collection.root, synthetic_weights[0], device="cpu", correction=path)
    assert result["correction"].startswith("FourierCorrection(name='test-correction'")
    frame = result["frames"][0]
    ref = synthetic_collection.read(frame["frame_id"])
    corrected = _small_correction(version)(Predictor(synthetic_weights[0], device="cpu").predict(ref, like=ref))
    assert frame["corrected"]["r2"] == pytest.approx(field_metrics(ref["elf"].values, corrected["elf"].values)["r2"])
    assert frame["corrected"]["r2"] != pytest.approx(frame["model"]["r2"], abs=1e-9)  # the correction did act
    assert frame["phi_corrected"] == pytest.approx(networking_analysis(corrected).phi)
    row = result["liquid_by_rs"][0]
    assert "corrected_r2" in row and "phi_corrected_abs_error" in row
    text = card_module.render_card(synthetic_weights[1], result)
    assert "R² corr." in text and "with the Fourier correction R²" in text and "test-correction" in text
    # without a correction the card has no such columns
    plain = evaluate(synthetic_collection.root, synthetic_weights[0], device="cpu", max_frames=1, topology=False)
    assert plain["correction"] is None and "corrected" not in plain["frames"][0]
    assert "R² corr." not in card_module.render_card(synthetic_weights[1], plain)


def test_correction_of_another_model_version_is_refused(synthetic_weights, tmp_path):
    from elfviz.errors import ModelError
    from elfviz.model.correction import load_correction

    path = save_correction(_small_correction("elfnet-fft@0.0"), tmp_path / "other.json")
    with pytest.raises(ModelError, match="fitted on predictions of elfnet-fft@0.0"):
        load_correction(path, synthetic_weights[1]["version"])
    with pytest.raises(ModelError, match="no shipped Fourier correction"):
        load_correction("bundled", "elfnet-fft@0.0")
    with pytest.raises(ModelError, match="does not exist"):
        load_correction(tmp_path / "missing.json", "elfnet-fft@0.0")


def test_bundled_correction_improves_a_bundled_test_frame():
    from elfviz.analysis import field_metrics
    from elfviz.model import Predictor

    ref = _bundled_test_frame()
    network = Predictor(device="cpu").predict(ref, like=ref)
    corrected = Predictor(device="cpu", correction="bundled").predict(ref, like=ref)
    assert "fourier-ridge" in corrected.attrs["correction"] and "correction" not in network.attrs
    r2_network = field_metrics(ref["elf"].values, network["elf"].values)["r2"]
    r2_corrected = field_metrics(ref["elf"].values, corrected["elf"].values)["r2"]
    assert r2_corrected > r2_network + 1e-3
    assert float(corrected["elf"].min()) >= 0.0 and float(corrected["elf"].max()) <= 1.0


def test_member_phi_range_is_aggregated_and_shown_in_the_card(synthetic_weights):
    def frame(phase, phi_members=None):
        m = {"r2": 0.9, "mae": 0.1, "rmse": 0.1, "max_abs_error": 0.3}
        out = {"phase": phase, "rs_bohr": 1.3, "pressure_gpa": 300.0, "model": m, "promolecular": m,
               "phi_reference": 0.5, "phi_model": 0.55, "phi_promolecular": 0.2}
        if phi_members is not None:
            out["phi_members"] = phi_members
            out["member_std_mean"] = 0.01 * len(phi_members) * phi_members[0]
        return out

    rows = aggregate([frame("C2c-12", [0.5, 0.6]), frame("C2c-12", [0.7, 0.4]), frame("I41amd")],
                     ("phase", "rs_bohr"))
    assert rows[0]["member_std_mean"] == pytest.approx(0.012) and "member_std_mean" not in rows[1]
    # member means over the two frames are 0.6 and 0.5
    assert rows[0]["phi_members_min"] == pytest.approx(0.5) and rows[0]["phi_members_max"] == pytest.approx(0.6)
    assert "phi_members_min" not in rows[1]
    meta = json.loads(synthetic_weights[0].with_suffix(".json").read_text())
    evaluation = {"model_version": "m@1", "device": "cpu", "data": "d", "scheme": "s", "liquid_by_rs": [],
                  "crystal_by_phase": rows, "overall_liquid": {}}
    text = card_module.render_card(meta, evaluation)
    assert "| φ members |" in text and "| 0.500-0.600 |" in text
    assert "| MAE | spread | φ ref |" in text and "| 0.0120 |" in text
    assert text.count("| – |") >= 1  # I41amd has no member values


def test_frame_report_gives_each_member_its_networking_value(synthetic_collection, synthetic_weights):
    from elfviz.model.training.evaluate import frame_report

    frame_id = synthetic_collection.select(split="test")["frame_id"].iloc[0]
    predictor = Predictor(synthetic_weights[0], device="cpu")
    report = frame_report(synthetic_collection.read(frame_id), predictor, member_phi=True)
    assert report["phi_members"] == [pytest.approx(report["phi_model"])]  # a single network is its own member
    assert "phi_members" not in frame_report(synthetic_collection.read(frame_id), predictor)
