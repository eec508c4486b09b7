"""Side-by-side short training runs (python -m elfviz.cli.programs.ablation) on the synthetic collection."""

import json
from dataclasses import replace

import pytest
import torch

from elfviz.cli.programs.ablation import main
from elfviz.errors import ModelError
from elfviz.model.training import TrainConfig, member_pools
from elfviz.model.training.ablation import Variant, run_variants, shared_pools

TINY = TrainConfig(hidden=(8,), lmax=1)


def test_variant_parsing():
    assert Variant.parse("bond:0.35") == Variant("bond", 0.35, TrainConfig.hidden)
    assert Variant.parse("wide:0:16,8") == Variant("wide", 0.0, (16, 8))
    assert Variant.parse("tri:0:triple") == Variant("tri", 0.0, TrainConfig.hidden, True)
    assert Variant.parse("tri:0.2:16,8:triple") == Variant("tri", 0.2, (16, 8), True)
    for bad in ("bond", "bond:x", ":0.3", "w:0:a,b", "a:1:2:3", "t:0:triple:triple", "t:0:16:8"):
        with pytest.raises(ModelError, match="NAME:FRACTION"):
            Variant.parse(bad)


def test_two_variants_are_trained_and_scored_side_by_side(synthetic_collection, tmp_path):
    result = run_variants(
        synthetic_collection.root, [Variant("uniform", 0.0, (8,)), Variant("bond", 0.5, (8,))],
        seeds=(0, 1), points_per_frame=200, epochs=1, max_frames=2, test_per_density=1, pairs=(0.6, 2.5),
        device="cpu", workdir=tmp_path, base=TINY,
    )
    assert result["settings"]["frames"] == ["rs1.35-t3-0", "rs1.6-t3-0"]  # one test frame per density
    for name in ("uniform", "bond"):
        scores = result["variants"][name]
        assert len(scores["validation_r2"]) == 2
        assert set(scores["frames"]) == {"rs1.35-t3-0", "rs1.6-t3-0"}
        assert scores["liquid"]["midpoint_mae"] > 0 and scores["liquid"]["r2"] < 1
    # different sampling, different networks
    assert result["variants"]["uniform"]["validation_r2"] != result["variants"]["bond"]["validation_r2"]
    assert list(tmp_path.iterdir()) == []  # the runs' weights are temporary


def test_runs_with_different_descriptors_get_their_own_descriptor_pass(synthetic_collection):
    base = replace(TINY, lmax=2, points_per_frame=100, val_points_per_frame=50, max_frames=2, members=1)
    configs = [base, replace(base, triple=True), replace(base, seed=1)]
    pools = shared_pools(synthetic_collection.root, configs, "cpu")
    assert [p["train"]["x"].shape[1] for p in pools] == [c.spec().n_features for c in configs]
    assert configs[1].spec().n_features > configs[0].spec().n_features
    alone = member_pools(synthetic_collection.root, [configs[2]], device="cpu")[0]
    assert torch.equal(pools[2]["train"]["x"], alone["train"]["x"])  # the same points as a run of its own


@pytest.mark.filterwarnings("ignore::elfviz.model.predictor.DensityRangeWarning")
def test_a_triple_variant_is_trained_on_the_extended_descriptors(synthetic_collection, tmp_path):
    result = run_variants(
        synthetic_collection.root, [Variant("plain", 0.0, (8,)), Variant("tri", 0.0, (8,), triple=True)],
        seeds=(0,), points_per_frame=150, epochs=1, max_frames=2, test_per_density=1, pairs=(0.6, 2.5),
        device="cpu", workdir=tmp_path, base=replace(TINY, lmax=2),
    )
    assert [v["triple"] for v in result["settings"]["variants"]] == [False, True]
    assert result["variants"]["plain"]["validation_r2"] != result["variants"]["tri"]["validation_r2"]


# with --max-frames 2 the runs see one density only, so the test frames of the other one are extrapolations
@pytest.mark.filterwarnings("ignore::elfviz.model.predictor.DensityRangeWarning")
def test_cli_prints_a_table_and_writes_json(synthetic_collection, tmp_path, capsys):
    out = tmp_path / "ablation.json"
    args = ["--data", str(synthetic_collection.root), "--variant", "a:0:8", "--variant", "b:0.3:8", "--seeds", "0",
            "--points", "150", "--epochs", "1", "--max-frames", "2", "--test-per-density", "1", "--lmax", "1",
            "--device", "cpu", "--json", str(out)]
    assert main(args) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:2] == ["variant", "val"] and [row.split()[0] for row in table[1:]] == ["a", "b"]
    assert set(json.loads(out.read_text())["variants"]) == {"a", "b"}
    assert main(["--data", str(synthetic_collection.root), "--variant", "a:0", "--variant", "a:0.3"]) == 2
    assert "distinct names" in capsys.readouterr().err
