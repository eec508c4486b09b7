"""The long-wavelength head inside the sigmoid (``messages+lowk-logit``): the ELF cannot pass 1, and such a model
trains, exports, saves, loads and predicts as the head added after the sigmoid does (elfnet-msg@2.0's)."""

import json
from dataclasses import replace

import numpy as np
import pytest
import torch
from test_model_message_model import TINY_META, frame  # noqa: F401 (frame: the fixture)

from elfviz.errors import ModelError
from elfviz.model import Predictor
from elfviz.model.atom_network import LowKNet, predict_any
from elfviz.model.lowk_head import LowKSpec
from elfviz.model.message_model import build_message_ensemble
from elfviz.model.network import load_model, save_model


def strong_heads(mode: str):
    """Untrained members with large heads, joined by ``mode``: the sum passes 1 somewhere, the logit cannot."""
    torch.manual_seed(0)
    ensemble = build_message_ensemble({**TINY_META, "head": mode})
    for member in ensemble.members:
        member.head.data = 3.0 * torch.randn_like(member.head)
    return ensemble.eval()


def test_the_logit_head_keeps_the_elf_inside_and_fades_at_the_ends():
    net = LowKNet(torch.nn.Identity(), LowKSpec(), mode="logit")
    # float64, as on whole grids (a float32 sigmoid rounds to 1 above a logit of ~17)
    base = torch.tensor([1e-3, 0.5, 0.999, 1.0], dtype=torch.float64)
    head = torch.tensor([0.0, 0.3, 20.0, 1.0], dtype=torch.float64)
    out = net.combine(base, head)
    assert out[0] == pytest.approx(1e-3) and 0.5 < out[1] < 0.5 + 0.3 and out[2] < 1.0 and out[3] < 1.0
    np.testing.assert_allclose(net.combine(base.numpy(), head.numpy()), out.numpy(), rtol=1e-12)
    assert torch.equal(LowKNet(torch.nn.Identity(), LowKSpec()).combine(base, head), base + head)
    with pytest.raises(ValueError, match="head mode"):
        LowKNet(torch.nn.Identity(), LowKSpec(), mode="product")


def test_a_logit_head_model_round_trips_and_never_reaches_one(tmp_path, frame):  # noqa: F811
    stem = tmp_path / "logit"
    save_model(stem, strong_heads("logit"), {"version": "elfnet-msg@logit", "card": {"training_rs_bohr": [1.3, 1.6]}})
    net, meta = load_model(stem)
    assert meta["head"] == "logit" and all(member.mode == "logit" for member in net.members)
    positions, cell, shape = frame["positions"].values, frame["cell"].values, frame["elf"].shape
    fields = net.member_fields(positions, cell, shape).numpy()
    assert fields.max() < 1.0 and fields.min() > 0.0
    for member, values in zip(strong_heads("logit").members, fields, strict=True):
        expected = predict_any(member, positions, cell, frame["numbers"].values, shape, net.fixed_spec).numpy()
        assert np.abs(values.reshape(shape) - expected).max() < 1e-5
    added = strong_heads("sum").member_fields(positions, cell, shape).numpy()
    assert added.max() > 1.0  # the same heads added after the sigmoid pass 1
    assert Predictor(stem, device="cpu").predict(frame, like=frame)["elf"].values.max() < 1.0


def test_weights_without_a_head_key_add_it_after_the_sigmoid_and_unknown_heads_are_refused(tmp_path):
    assert {m.mode for m in Predictor("elfnet-msg@2.0", device="cpu").network.members} == {"sum"}
    stem = tmp_path / "odd"
    save_model(stem, strong_heads("sum"), {"version": "elfnet-msg@odd"})
    meta = json.loads(stem.with_suffix(".json").read_text())
    stem.with_suffix(".json").write_text(json.dumps({**meta, "head": "product"}))
    with pytest.raises(ModelError, match="unknown head 'product'"):
        Predictor(stem, device="cpu")


def test_the_ablation_trains_and_exports_the_logit_variant(synthetic_collection, tmp_path):
    from test_model_atom_ablation import TINY

    from elfviz.cli.programs.atom_ablation import main as ablation_main
    from elfviz.model.training.atom_ablation import run

    budget = replace(TINY, epochs=2, lowk=LowKSpec(n_radial=4, rs_order=1).to_dict(), lowk_epochs=1)
    result = run(synthetic_collection.root, budget, ("messages+lowk", "messages+lowk-logit"), out=tmp_path / "run")
    history = result["variants"]["messages+lowk-logit"]["runs"][0]["history"]
    assert len(history) == 2 and all(np.isfinite(epoch["val_rmse"]) for epoch in history)
    data = ["--data", str(synthetic_collection.root), "--from-run", str(tmp_path / "run")]
    for variant, head in (("messages+lowk", "sum"), ("messages+lowk-logit", "logit")):  # either, not the chosen one
        stem = tmp_path / f"model-{head}"
        assert ablation_main([*data, "--export", str(stem), "--export-variant", variant]) == 0
        assert json.loads(stem.with_suffix(".json").read_text())["head"] == head
