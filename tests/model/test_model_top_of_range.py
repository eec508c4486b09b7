"""The top of the ELF range: share of points at ≥ 0.9999 and |Δφ*|, reference beside models (whole frames)."""

import json
import shutil

import numpy as np
import pytest

from elfviz.cli.programs.top_of_range import main
from elfviz.model.bundled import resolve_weights
from elfviz.model.network import weight_paths
from elfviz.model.training.top_of_range import markdown, top_of_range


class Shifted:
    """Stand-in model: the reference ELF plus ``shift``, clipped to [0, 1] (a model that overshoots)."""

    def __init__(self, shift: float):
        self.shift = shift

    def predict(self, ds, like=None):
        out = ds.copy()
        out["elf"] = (ds["elf"] + self.shift).clip(0.0, 1.0)
        return out


def test_an_overshooting_model_fills_the_top_and_moves_phi_star(synthetic_collection):
    result = top_of_range(synthetic_collection, {"exact": Shifted(0.0), "over": Shifted(0.2)})
    assert len(result["frames"]) == 4 and {row["rs_bohr"] for row in result["frames"].values()} == {1.35, 1.6}
    exact, over = result["models"]["exact"], result["models"]["over"]
    assert exact["mean_abs_dphi_star"] == 0.0 and exact["max_abs_dphi_star"] == 0.0
    reference = np.mean([row["reference"]["top_share"] for row in result["frames"].values()])
    assert exact["mean_top_share"] == pytest.approx(reference)
    assert result["reference_top_share_by_rs"] == exact["top_share_by_rs"]
    assert over["mean_top_share"] > reference + 0.01 and over["max_abs_dphi_star"] > 0.0
    table = markdown(result)
    assert "| 1.35 | 2 |" in table and "| over |" in table


def test_the_command_line_compares_shipped_models(synthetic_collection, tmp_path, capsys):
    out = tmp_path / "top.json"
    data = ["--data", str(synthetic_collection.root)]
    assert main([*data, "--weights", "elfnet-fft@1.6", "--json", str(out)]) == 0
    assert "| elfnet-fft@1.6 |" in capsys.readouterr().out
    assert set(json.loads(out.read_text())["models"]) == {"elfnet-fft@1.6"}
    # two files of one version are both measured, told apart by their path; one file twice is refused
    copy = tmp_path / "copy"
    for path in weight_paths(resolve_weights("elfnet-fft@1.6")):
        shutil.copy(path, copy.with_name("copy" + path.suffix))
    assert main([*data, "--weights", "elfnet-fft@1.6", str(copy), "--json", str(out)]) == 0
    assert set(json.loads(out.read_text())["models"]) == {"elfnet-fft@1.6", f"elfnet-fft@1.6 ({copy})"}
    capsys.readouterr()
    assert main([*data, "--weights", str(copy), f"{copy}.pt"]) == 2
    assert "twice" in capsys.readouterr().err
    assert main([*data, "--split", "nothing"]) == 2
    assert "no liquid frames in split 'nothing'" in capsys.readouterr().err


def test_the_card_says_how_each_head_meets_the_top_of_the_range():
    """A head after the sigmoid that fills the top is why that model is not the default; a head inside it that
    fills nothing is said so, with the other models' figures beside it."""
    from elfviz.model.training.card import render_card

    def model(shares, worst):
        return {"top_share_by_rs": shares, "max_abs_dphi_star": worst, "mean_abs_dphi_star": worst / 3,
                "mean_top_share": float(np.mean(list(shares.values())))}

    top = {"split": "validation", "level": 0.9999, "command": "python -m elfviz.cli.programs.top_of_range ...",
           "reference_top_share_by_rs": {"1.29": 0.0, "1.65": 0.0},
           "models": {"m@2.0": model({"1.29": 0.0005, "1.65": 0.0236}, 0.026),
                      "m@2.1": model({"1.29": 0.0, "1.65": 0.0}, 0.0064)}}
    after = render_card({"version": "m@2.0", "family": "messages+lowk", "card": {"top_of_range": top}})
    inside = render_card({"version": "m@2.1", "family": "messages+lowk", "head": "logit",
                          "card": {"top_of_range": top}})
    assert "why this model is not the default" in after and "2.36% of the grid at rs 1.65" in after
    assert "m@2.1: φ* up to 0.006 off" in after
    assert "why this model is not the default" not in inside and "inside the network's sigmoid" in inside
    assert "no grid point sits at ELF ≥ 0.9999 at any density" in inside and "m@2.0: φ* up to 0.026 off" in inside
    assert "added to the MLP's logit, inside its sigmoid" in inside and "added to the MLP's ELF" in after
