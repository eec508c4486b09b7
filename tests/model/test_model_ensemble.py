"""Ensembles: ElfEnsemble, training members and joining them, resume, on-disk format, model card."""

import json

import ase.io
import numpy as np
import pytest
import torch
from conftest import random_hydrogen, small_train_args

from elfviz.cli import main
from elfviz.errors import ModelError
from elfviz.model.network import ElfEnsemble, ElfNet, build_network, load_model
from elfviz.model.predictor import Predictor
from elfviz.model.training import card as card_module

SMALL = small_train_args(epochs=2)


def test_ensemble_is_the_mean_of_its_members():
    torch.manual_seed(0)
    nets = [ElfNet(6, hidden=(8, 4)), ElfNet(6, hidden=(8, 4)), ElfNet(6, hidden=(5,))]
    x = torch.rand(50, 6)
    ensemble = ElfEnsemble(nets)
    expected = sum(net(x) for net in nets) / 3
    assert torch.allclose(ensemble(x), expected)
    assert ensemble.n_members == 3 and ensemble.n_features == 6
    assert bool(((ensemble(x) >= 0) & (ensemble(x) <= 1)).all())


def test_ensemble_refuses_members_with_other_inputs():
    with pytest.raises(ModelError, match="share the descriptors"):
        ElfEnsemble([ElfNet(6), ElfNet(7)])
    with pytest.raises(ModelError, match="share the descriptors"):
        ElfEnsemble([ElfNet(6, transform="sqrt"), ElfNet(6, transform="none")])
    with pytest.raises(ModelError, match="at least one"):
        ElfEnsemble([])


@pytest.mark.parametrize("members", [0, -2, "4", 2.5, True])
def test_bad_member_count_in_the_description_is_refused(synthetic_weights, members):
    meta = json.loads(synthetic_weights[0].with_suffix(".json").read_text())
    meta["members"] = members
    with pytest.raises(ModelError, match="positive integer"):
        build_network(meta)


def test_train_members_join_and_resume(synthetic_collection, tmp_path, capsys):
    root = str(synthetic_collection.root)
    out = tmp_path / "ens"
    assert main(["train", root, "-o", str(out), "--seed", "3", "--members", "2", *SMALL]) == 0
    printed = capsys.readouterr().out
    assert "ensemble of 2 networks" in printed and "ens.members" in printed

    # member i is exactly the single run with seed + i
    single = tmp_path / "single"
    assert main(["train", root, "-o", str(single), "--seed", "4", *SMALL, "--members", "1"]) == 0
    member_state = torch.load(tmp_path / "ens.members" / "seed4.pt", weights_only=True)
    single_state = torch.load(single.with_suffix(".pt"), weights_only=True)
    assert member_state.keys() == single_state.keys()
    assert all(torch.equal(member_state[k], single_state[k]) for k in member_state)

    # on disk: one state_dict with both members, the card lists them
    meta = json.loads(out.with_suffix(".json").read_text())
    assert meta["members"] == 2 and meta["version"].startswith("elfnet-fft@")
    assert [m["seed"] for m in meta["card"]["members"]] == [3, 4]
    assert meta["card"]["hyperparameters"]["members"] == 2
    assert 0 < meta["card"]["validation"]["rmse"] < 1
    net, _ = load_model(out)
    assert isinstance(net, ElfEnsemble) and net.n_members == 2

    # the Predictor runs it and gives the mean of the members' predictions
    atoms = random_hydrogen(rs=1.35, seed=11)
    shape = (10, 10, 12)
    ens_elf = Predictor(out, device="cpu").predict(atoms, shape=shape)["elf"].values
    members = [
        Predictor(tmp_path / "ens.members" / f"seed{s}", device="cpu").predict(atoms, shape=shape)["elf"].values
        for s in (3, 4)
    ]
    np.testing.assert_allclose(ens_elf, np.mean(members, axis=0), atol=2e-6)

    # resume: finished members are kept (not retrained), the ensemble is joined again
    stamps = {p.name: p.stat().st_mtime_ns for p in (tmp_path / "ens.members").glob("*.pt")}
    out.with_suffix(".pt").unlink()
    assert main(["train", root, "-o", str(out), "--seed", "3", "--members", "2", "--resume", *SMALL]) == 0
    assert {p.name: p.stat().st_mtime_ns for p in (tmp_path / "ens.members").glob("*.pt")} == stamps
    again = Predictor(out, device="cpu").predict(atoms, shape=shape)["elf"].values
    np.testing.assert_array_equal(again, ens_elf)

    # resuming with other settings says which setting differs instead of mixing members
    other = [*SMALL]
    other[other.index("--hidden") + 1] = "6"
    capsys.readouterr()
    assert main(["train", root, "-o", str(out), "--seed", "3", "--members", "2", "--resume", *other]) == 2
    assert "hidden" in capsys.readouterr().err

    # without --resume or --force an existing ensemble is not overwritten
    assert main(["train", root, "-o", str(out), "--seed", "3", "--members", "2", *SMALL]) == 2
    assert "--force" in capsys.readouterr().err
    assert main(["train", root, "-o", str(out), "--members", "0", *SMALL]) == 2


def test_card_describes_the_ensemble(synthetic_weights):
    meta = json.loads(synthetic_weights[0].with_suffix(".json").read_text())
    single = card_module.render_card(meta)
    assert "Best epoch" in single and "Ensemble" not in single
    meta["members"] = 2
    meta["card"]["members"] = [
        {"seed": 0, "best_epoch": 7, "epochs_run": 10, "validation_r2": 0.91, "validation_rmse": 0.1},
        {"seed": 1, "best_epoch": 9, "epochs_run": 10, "validation_r2": 0.92, "validation_rmse": 0.09},
    ]
    text = card_module.render_card(meta)
    assert "mean output of 2 such networks" in text and "seeds 0, 1" in text
    assert "7/10, 9/10" in text and "0.9100, 0.9200" in text


@pytest.fixture(scope="module")
def pair_weights(synthetic_weights, tmp_path_factory):
    """An ensemble of the synthetic network and a second, untrained one (so that the members differ)."""
    from elfviz.model.network import save_model

    single, meta = load_model(synthetic_weights[0])
    torch.manual_seed(1)
    other = ElfNet(single.n_features, hidden=single.hidden, transform=single.transform)
    path = tmp_path_factory.mktemp("pair") / "pair"
    save_model(path, ElfEnsemble([single, other]), meta)
    return path


def test_member_predictors_evaluate_each_member_alone(synthetic_weights, pair_weights):
    atoms = random_hydrogen(seed=4)
    ensemble = Predictor(pair_weights, device="cpu", correction=lambda ds: ds)
    members = ensemble.member_predictors()
    assert len(members) == 2 and all(m.correction is None for m in members)
    assert isinstance(ensemble.network, ElfEnsemble) and ensemble.correction is not None  # itself unchanged
    fields = [m.predict(atoms, shape=(10, 10, 10))["elf"].values for m in members]
    assert not np.allclose(fields[0], fields[1])
    np.testing.assert_allclose((fields[0] + fields[1]) / 2, ensemble.predict(atoms, shape=(10, 10, 10))["elf"].values,
                               atol=1e-6)
    np.testing.assert_allclose(fields[0], Predictor(synthetic_weights[0], device="cpu").predict(
        atoms, shape=(10, 10, 10))["elf"].values, atol=1e-6)

    alone = Predictor(synthetic_weights[0], device="cpu")
    assert alone.member_predictors() == [alone]


def test_member_spread_is_the_standard_deviation_of_the_members(synthetic_weights, pair_weights):
    atoms = random_hydrogen(seed=5)
    predictor = Predictor(pair_weights, device="cpu")
    with_spread = predictor.predict(atoms, shape=(9, 10, 11), member_spread=True)
    members = [m.predict(atoms, shape=(9, 10, 11))["elf"].values for m in predictor.member_predictors()]
    np.testing.assert_allclose(with_spread["elf_member_std"].values, np.std(members, axis=0), atol=1e-6)
    np.testing.assert_array_equal(with_spread["elf"].values, predictor.predict(atoms, shape=(9, 10, 11))["elf"].values)
    assert with_spread["elf_member_std"].attrs["units"] == "1" and float(with_spread["elf_member_std"].min()) >= 0
    with pytest.raises(ModelError, match="single network: a member spread needs an ensemble"):
        Predictor(synthetic_weights[0], device="cpu").predict(atoms, shape=(6, 6, 6), member_spread=True)


def test_predict_cli_writes_the_member_spread_to_netcdf_only(synthetic_weights, pair_weights, tmp_path, capsys):
    from elfviz import io

    structure = tmp_path / "h.xyz"
    random_hydrogen(seed=6).write(structure)
    args = ["predict", str(structure), "--grid", "8,8,8", "--device", "cpu", "--member-spread"]
    assert main([*args, "-o", str(tmp_path / "p.nc"), "--weights", str(pair_weights)]) == 0
    assert "member spread (std of 2 networks)" in capsys.readouterr().out
    written = io.read(tmp_path / "p.nc")
    assert written["elf_member_std"].shape == (8, 8, 8) and float(written["elf_member_std"].max()) > 0
    assert main([*args, "-o", str(tmp_path / "p.cube"), "--weights", str(pair_weights)]) == 2
    assert "cannot hold: write netCDF" in capsys.readouterr().err and not (tmp_path / "p.cube").exists()
    assert main([*args, "-o", str(tmp_path / "q.nc"), "--weights", str(synthetic_weights[0])]) == 2
    assert "single network" in capsys.readouterr().err and not (tmp_path / "q.nc").exists()


def test_frame_report_of_an_ensemble_gives_its_mean_member_spread(synthetic_collection, pair_weights):
    from elfviz.model.training.evaluate import frame_report

    ref = synthetic_collection.read(synthetic_collection.select(split="test")["frame_id"].iloc[0])
    predictor = Predictor(pair_weights, device="cpu")
    report = frame_report(ref, predictor, topology=False)
    spread = predictor.predict(ref, like=ref, member_spread=True)["elf_member_std"]
    assert report["member_std_mean"] == pytest.approx(float(spread.mean())) and report["member_std_mean"] > 0


def test_a_spread_far_above_the_held_out_liquid_warns(pair_weights):
    import warnings

    from elfviz.model import UncertainPredictionWarning

    atoms = random_hydrogen(seed=7)
    predictor = Predictor(pair_weights, device="cpu")
    assert predictor.liquid_spread is None  # no evaluation in the card: nothing to compare with, no warning
    with warnings.catch_warnings():
        warnings.simplefilter("error", UncertainPredictionWarning)
        quiet = predictor.predict(atoms, shape=(8, 8, 8), member_spread=True)
    spread = quiet.attrs["member_std_mean"]
    assert spread == pytest.approx(float(quiet["elf_member_std"].mean()), abs=1e-6) and spread > 0

    predictor.meta["card"]["test"] = {"liquid_by_rs": [{"member_std_mean": spread / 3}, {"member_std_mean": None}]}
    assert predictor.liquid_spread == pytest.approx(spread / 3)
    with pytest.warns(UncertainPredictionWarning, match=r"disagree: mean spread .*3\.0x the largest"):
        flagged = predictor.predict(atoms, shape=(8, 8, 8), member_spread=True)
    assert "member networks of" in flagged.attrs["cautions"] and "cautions" not in quiet.attrs
    predictor.meta["card"]["test"]["liquid_by_rs"][0]["member_std_mean"] = spread  # within 2x: quiet
    with warnings.catch_warnings():
        warnings.simplefilter("error", UncertainPredictionWarning)
        assert predictor.check_spread(spread * 1.9)
        assert predictor.check_spread(float("nan"))  # no number: nothing to flag


def test_member_values_are_each_member_network_from_one_descriptor_pass(synthetic_weights, pair_weights):
    atoms = random_hydrogen(seed=6)
    predictor = Predictor(pair_weights, device="cpu")
    cell, positions = np.asarray(atoms.cell[:], dtype=float), atoms.get_positions()
    values = predictor.member_values(positions, cell, (7, 8, 9))
    assert values.shape == (2, 7, 8, 9) and values.dtype == np.float32
    for member, value in zip(predictor.member_predictors(), values, strict=True):
        np.testing.assert_array_equal(value, member.predict_values(positions, cell, (7, 8, 9)))
    alone = Predictor(synthetic_weights[0], device="cpu")
    single = alone.member_values(positions, cell, (7, 8, 9))
    np.testing.assert_array_equal(single, alone.predict_values(positions, cell, (7, 8, 9))[None])


def test_member_values_right_after_an_ensemble_prediction_reuse_its_members(pair_weights, monkeypatch):
    import elfviz.model.predictor as predictor_module

    atoms = random_hydrogen(seed=7)
    predictor = Predictor(pair_weights, device="cpu")
    fresh = Predictor(pair_weights, device="cpu")
    passes = []
    counted = predictor_module.compute_descriptors
    monkeypatch.setattr(predictor_module, "compute_descriptors", lambda *a, **k: passes.append(1) or counted(*a, **k))
    pred = predictor.predict(atoms, shape=(9, 8, 7), member_spread=True)
    assert len(passes) == 1
    positions, cell = pred["positions"].values, pred["cell"].values
    values = predictor.member_values(positions, cell, (9, 8, 7))
    assert len(passes) == 1  # the prediction's members, not a second descriptor pass
    np.testing.assert_array_equal(values, fresh.member_values(positions, cell, (9, 8, 7)))
    np.testing.assert_allclose(values.mean(axis=0).clip(0, 1), pred["elf"].values, atol=1e-6)
    # anything else is evaluated afresh: another grid, moved atoms, and each member's own view
    assert predictor.member_values(positions, cell, (8, 8, 8)).shape == (2, 8, 8, 8) and len(passes) == 3
    moved = positions.copy()
    moved[0, 0] += 1e-9
    np.testing.assert_array_equal(predictor.member_values(moved, cell, (9, 8, 7)),
                                  fresh.member_values(moved, cell, (9, 8, 7)))
    predictor.predict(atoms, shape=(9, 8, 7), member_spread=True)
    for member, value in zip(predictor.member_predictors(), values, strict=True):
        np.testing.assert_array_equal(member.member_values(positions, cell, (9, 8, 7))[0], value)
    monkeypatch.setattr(predictor_module, "MEMBER_CACHE_VALUES", 10)  # too large to keep: evaluated again
    capped = Predictor(pair_weights, device="cpu")
    capped.predict(atoms, shape=(9, 8, 7), member_spread=True)
    before = len(passes)
    np.testing.assert_array_equal(capped.member_values(positions, cell, (9, 8, 7)), values)
    assert len(passes) == before + 1


def test_frame_report_member_phi_equals_each_member_predicted_alone(synthetic_collection, pair_weights, monkeypatch):
    import elfviz.model.predictor as predictor_module
    from elfviz.model.training.evaluate import frame_report
    from elfviz.topology import networking_analysis

    ref = synthetic_collection.read(synthetic_collection.select(split="test")["frame_id"].iloc[0])
    predictor = Predictor(pair_weights, device="cpu")
    passes = []
    counted = predictor_module.compute_descriptors
    monkeypatch.setattr(predictor_module, "compute_descriptors", lambda *a, **k: passes.append(1) or counted(*a, **k))
    report = frame_report(ref, predictor, member_phi=True)
    assert len(passes) == 1  # one descriptor pass for the prediction, its spread and the members' phi
    alone = [float(networking_analysis(m.predict(ref, like=ref)).phi) for m in predictor.member_predictors()]
    assert report["phi_members"] == pytest.approx(alone, abs=1e-12)


def test_member_networking_values_are_those_of_each_member_alone(pair_weights):
    from elfviz.analysis.member_phi import member_networking_values
    from elfviz.topology import networking_analysis

    atoms = random_hydrogen(seed=8)
    predictor = Predictor(pair_weights, device="cpu")
    pred = predictor.predict(atoms, shape=(10, 10, 10))
    values = member_networking_values(predictor, pred)
    alone = [networking_analysis(m.predict(atoms, shape=(10, 10, 10))).phi for m in predictor.member_predictors()]
    assert values.shape == (2,) and values == pytest.approx(alone, abs=1e-12)
    assert values[0] != values[1]  # a trained and an untrained network


def test_predict_cli_prints_phi_with_the_members_range(pair_weights, tmp_path, capsys, monkeypatch):
    import elfviz.model.predictor as predictor_module
    from elfviz.analysis.member_phi import member_networking_values
    from elfviz.topology import networking_analysis

    structure = tmp_path / "h.xyz"
    random_hydrogen(seed=9).write(structure)
    out = tmp_path / "p.nc"
    args = ["predict", str(structure), "--grid", "10,10,10", "--device", "cpu", "--member-spread"]
    passes = []
    counted = predictor_module.compute_descriptors
    monkeypatch.setattr(predictor_module, "compute_descriptors", lambda *a, **k: passes.append(1) or counted(*a, **k))
    assert main([*args, "-o", str(out), "--weights", str(pair_weights)]) == 0
    assert len(passes) == 1  # the members' phi reuses the prediction's member fields
    printed = capsys.readouterr().out
    pred = Predictor(pair_weights, device="cpu").predict(ase.io.read(structure), shape=(10, 10, 10))
    members = member_networking_values(Predictor(pair_weights, device="cpu"), pred)
    phi = networking_analysis(pred).phi
    assert f"networking value phi {phi:.3f} (member networks {members.min():.3f}-{members.max():.3f})" in printed


def test_evaluation_counts_how_often_the_members_range_holds_the_reference(synthetic_collection, pair_weights):
    from elfviz.model.training.evaluate import evaluate, member_range_coverage

    result = evaluate(synthetic_collection.root, pair_weights, device="cpu")
    frames = result["frames"]
    assert all(len(f["phi_members"]) == 2 for f in frames)  # liquid frames too, for an ensemble
    inside = sum(min(f["phi_members"]) <= f["phi_reference"] <= max(f["phi_members"]) for f in frames)
    assert result["member_phi_coverage"] == {"members": 2, "liquid": [inside, len(frames)]}
    text = card_module.render_card({"card": {}}, result)
    assert f"on {inside} of {len(frames)} held-out liquid frames; were the reference and the 2 members" in text
    crystal = {"phase": "I41amd", "phi_reference": 0.5, "phi_members": [0.4, 0.45, 0.42, 0.41]}
    liquid = {"phase": "liquid", "phi_reference": 0.5, "phi_members": [0.45, 0.55, 0.5, 0.52]}
    coverage = member_range_coverage([crystal, liquid, {"phase": "liquid", "phi_reference": 0.3}])
    assert coverage == {"members": 4, "crystal": [0, 1], "liquid": [1, 1]}
    assert member_range_coverage([{"phase": "liquid", "phi_reference": 0.3}]) == {}
    lines = card_module._coverage_lines(coverage)
    assert "would lie inside 60 % of the time" in lines[0]
    assert "On the crystals the members share most of their error" in lines[0]  # 0 of 1, the liquid 1 of 1
    assert "error bar" in card_module._coverage_lines({"members": 4, "liquid": [3, 5]})[0]
    assert "lower bound" not in card_module._coverage_lines({"members": 4, "liquid": [3, 5]})[0]
