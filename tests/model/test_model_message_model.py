"""The message-passing family as a model to load: saving, loading, the predictor, the CLI, the export of runs."""

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from conftest import random_hydrogen

from elfviz.cli import main
from elfviz.errors import GridError, ModelError
from elfviz.model import Predictor
from elfviz.model.atom_network import head_on_grid, predict_any
from elfviz.model.lowk_head import LowKSpec, head_field
from elfviz.model.message_model import FAMILY, MessageEnsemble, build_message_ensemble
from elfviz.model.network import load_model, save_model
from elfviz.reference.promolecular import promolecular_elf

TINY_META = {"descriptors": {"widths": [0.5, 1.0], "lmax": 1}, "messages": {"widths": [0.4, 0.6], "lmax": 1},
             "lowk": {"n_radial": 4, "rs_order": 1}, "channels": 2, "hidden": [8], "message_hidden": 8, "members": 2}


def tiny_ensemble(members: int = 2) -> MessageEnsemble:
    """Untrained members whose heads are not zero (so that the head is part of every comparison)."""
    torch.manual_seed(0)
    ensemble = build_message_ensemble({**TINY_META, "members": members})
    for member in ensemble.members:
        member.head.data = 0.02 * torch.randn_like(member.head)
    return ensemble.eval()


@pytest.fixture
def weights(tmp_path):
    stem = tmp_path / "msg"
    save_model(stem, tiny_ensemble(), {"version": "elfnet-msg@test", "card": {"training_rs_bohr": [1.3, 1.6]}})
    return stem


@pytest.fixture(scope="module")
def frame():
    return promolecular_elf(random_hydrogen(rs=1.45, seed=3), shape=(18, 18, 20))


def test_weights_round_trip_to_the_same_fields(weights, frame):
    net, meta = load_model(weights)
    assert isinstance(net, MessageEnsemble) and meta["family"] == FAMILY and meta["members"] == 2
    assert json.loads(weights.with_suffix(".json").read_text())["lowk"]["n_radial"] == 4
    state = torch.load(weights.with_suffix(".pt"), weights_only=True)  # tensors only
    assert all(isinstance(v, torch.Tensor) for v in state.values())
    args = (frame["positions"].values, frame["cell"].values, frame["elf"].shape)
    assert torch.equal(net.member_fields(*args), tiny_ensemble().member_fields(*args))


def test_the_predictor_gives_the_members_mean_and_spread(weights, frame):
    """Each member's field is what the training path's grid prediction gives (predict_any, the ablation's), the
    ELF is their mean, the spread their standard deviation; member_values reuses the prediction."""
    predictor = Predictor(weights, device="cpu")
    assert predictor.n_members == 2 and not predictor.per_point and predictor.version == "elfnet-msg@test"
    out = predictor.predict(frame, like=frame, member_spread=True)
    members = predictor.member_values(frame["positions"].values, frame["cell"].values, frame["elf"].shape)
    cell, positions, numbers = frame["cell"].values, frame["positions"].values, frame["numbers"].values
    for member, values in zip(tiny_ensemble().members, members, strict=True):
        expected = predict_any(member, positions, cell, numbers, frame["elf"].shape, predictor.spec).numpy()
        inside = (expected > 0) & (expected < 1)  # predict_any clips each member; the predictor clips the mean
        assert inside.mean() > 0.9 and np.abs(values[inside] - expected[inside]).max() < 1e-5
    np.testing.assert_allclose(out["elf"].values, np.clip(members.mean(axis=0), 0, 1), atol=1e-6)
    np.testing.assert_allclose(out["elf_member_std"].values, members.std(axis=0), atol=1e-6)
    assert float(out["elf_member_std"].mean()) > 0
    views = predictor.member_predictors()
    assert len(views) == 2 and views[1].n_members == 1
    np.testing.assert_allclose(views[1].predict_values(positions, cell, frame["elf"].shape), members[1], atol=1e-6)


def test_descriptor_only_entry_points_say_what_to_use(weights):
    predictor = Predictor(weights, device="cpu")
    with pytest.raises(ModelError, match="also reads the atoms: use predict"):
        predictor.evaluate_network(torch.zeros(predictor.spec.n_features, 4))
    single = predictor.member_predictors()[0]
    with pytest.raises(ModelError, match="--join"):
        single.predict(random_hydrogen(rs=1.45), shape=(12, 12, 12), member_spread=True)


def test_an_unknown_or_malformed_family_is_refused(weights):
    meta = json.loads(weights.with_suffix(".json").read_text())
    for change, match in (({"family": "transformer"}, "unknown model family"),
                          ({"messages": {"widths": "wide"}}, "malformed"), ({"members": 0}, "positive integer")):
        weights.with_suffix(".json").write_text(json.dumps({**meta, **change}))
        with pytest.raises(ModelError, match=match):
            Predictor(weights, device="cpu")


def test_the_head_on_a_grid_too_coarse_for_its_modes_is_the_same_series():
    """A grid that cannot hold every mode gets the Fourier series summed at its points: the fine grid's field
    sampled at the coarse grid's points."""
    atoms = random_hydrogen(rs=1.45, seed=4)
    member = tiny_ensemble(1).members[0]
    fixed_spec = build_message_ensemble(TINY_META).fixed_spec
    args = (atoms.positions, atoms.cell.array, atoms.numbers)
    fine = head_on_grid(member, *args, (24, 24, 24), fixed_spec)
    coarse = head_on_grid(member, *args, (6, 6, 6), fixed_spec)
    assert np.abs(fine).max() > 1e-3
    np.testing.assert_allclose(coarse, fine[::4, ::4, ::4], atol=1e-10)
    with pytest.raises(GridError, match="three integers"):
        head_field(np.zeros(2), np.zeros((3, 3)), np.zeros((3, 3), int), (6, 6))


def test_the_command_line_predicts_with_family_weights(weights, frame, tmp_path, capsys):
    from elfviz import io

    source = tmp_path / "frame.nc"
    io.write(frame, source)
    out = tmp_path / "pred.nc"
    assert main(["predict", str(source), "--like", str(source), "--weights", str(weights), "-o", str(out),
                 "--member-spread", "--device", "cpu"]) == 0
    assert "elfnet-msg@test" in capsys.readouterr().out
    written = io.read(out)
    assert written.attrs["source"] == "model:elfnet-msg@test" and "elf_member_std" in written


def test_runs_are_exported_as_one_model_and_predict_as_they_scored(synthetic_collection, tmp_path, capsys):
    from test_model_atom_ablation import TINY

    from elfviz.cli.programs.atom_ablation import main as ablation_main
    from elfviz.model.training.atom_ablation import load_variant, run

    budget = replace(TINY, epochs=1, lowk=LowKSpec(n_radial=4, rs_order=1).to_dict(), lowk_epochs=1)
    for seed in (0, 1):
        run(synthetic_collection.root, replace(budget, seeds=(seed,)), ("messages+lowk",), out=tmp_path / f"s{seed}")
    data = ["--data", str(synthetic_collection.root)]
    stem = tmp_path / "model"
    assert ablation_main([*data, "--from-run", str(tmp_path / "s0"), "--join", str(tmp_path / "s1"),
                          "--export", str(stem), "--version", "elfnet-msg@synthetic"]) == 0
    predictor = Predictor(stem, device="cpu")
    assert predictor.n_members == 2 and predictor.card["training_rs_bohr"] == [1.35, 1.6]
    assert [m["seed"] for m in predictor.card["members"]] == [0, 1]
    assert predictor.card["hyperparameters"]["seeds"] == [0, 1]
    # the frames it saw, by id: the card's seen-frame scores and held-out checks need them
    train, validation = predictor.card["train_frame_ids"], predictor.card["validation_frame_ids"]
    assert len(train) == predictor.card["train_frames"] and len(validation) == predictor.card["validation_frames"]
    assert train and validation and not set(train) & set(validation)
    from elfviz.model.training.card import render_card

    card = render_card(json.loads(stem.with_suffix(".json").read_text()))
    assert "learned atom channels from message passing" in card and "Member seed 1: best epoch 0 of 1" in card
    assert "The model on whole validation frames (rs 1.35 / 1.60)" in card
    ref = synthetic_collection.read("rs1.35-t3-0")
    members = predictor.member_values(ref["positions"].values, ref["cell"].values, ref["elf"].shape)
    net = load_variant(tmp_path / "s1" / "messages+lowk-s1.pt", "messages+lowk", budget)
    expected = predict_any(net, ref["positions"].values, ref["cell"].values, ref["numbers"].values,
                           ref["elf"].shape, budget.fixed_spec()).numpy()
    inside = (expected > 0) & (expected < 1)
    assert np.abs(members[1][inside] - expected[inside]).max() < 1e-5
    frames = predictor.card["validation_grids"]["frames"]
    assert len(frames) == 4 and all(0 < f["mae"] < 0.5 for f in frames.values())
    capsys.readouterr()
    # nothing is overwritten; only the message-passing family with its head is a model to load
    assert ablation_main([*data, "--from-run", str(tmp_path / "s0"), "--export", str(stem)]) == 2
    assert "exists" in capsys.readouterr().err
    run(synthetic_collection.root, TINY, ("messages",), out=tmp_path / "plain")
    assert ablation_main([*data, "--from-run", str(tmp_path / "plain"), "--export", str(tmp_path / "m2")]) == 2
    assert "messages+lowk" in capsys.readouterr().err
    assert ablation_main([*data, "--join", str(tmp_path / "s1"), "--out", str(tmp_path / "new")]) == 2
