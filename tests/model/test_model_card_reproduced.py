"""The model card's figures come back from the command line: ``elfviz predict --like`` + ``elfviz compare``.

This is issue #21's acceptance check, as a user would run it on a fresh clone: predict a held-out frame with the
bundled model on the reference grid, compare it with the reference, and find the card's row (the JSON card
stored with the weights, which ``MODEL_CARD.md`` is generated from).
"""

from __future__ import annotations

import json

import numpy as np
import pytest

from elfviz.cli import main
from elfviz.data import dataset_path
from elfviz.model import Predictor
from elfviz.model.bundled import BUNDLED_WEIGHTS, bundled_models

FRAMES = dataset_path() / "frames"


def predict_and_compare(frame_id: str, tmp_path, capsys) -> dict:
    """``elfviz predict FRAME --like FRAME`` then ``elfviz compare FRAME PRED --json``: the printed record."""
    reference = FRAMES / f"{frame_id}.nc"
    prediction = tmp_path / f"{frame_id}-pred.nc"
    assert main(["predict", str(reference), "--like", str(reference), "-o", str(prediction),
                 "--device", "cpu"]) == 0
    capsys.readouterr()
    assert main(["compare", str(reference), str(prediction), "--json"]) == 0
    return json.loads(capsys.readouterr().out)


@pytest.fixture(scope="module")
def card() -> dict:
    return Predictor(device="cpu").card["test"]


def test_a_cmca_crystal_frame_reproduces_its_card_row(card, tmp_path, capsys):
    row = next(r for r in card["crystal_by_phase"] if r["phase"] == "Cmca-12" and abs(r["rs_bohr"] - 1.30) < 1e-3)
    got = predict_and_compare("Cmca-12-rs1.30", tmp_path, capsys)
    assert got["r2"] == pytest.approx(row["model_r2"], abs=2e-4)
    assert got["mae"] == pytest.approx(row["model_mae"], abs=2e-4)
    assert got["phi_reference"] == pytest.approx(row["phi_reference"], abs=1e-6)
    assert got["phi_prediction"] == pytest.approx(row["phi_model"], abs=2e-3)
    assert abs(got["phi_error"]) == pytest.approx(row["phi_abs_error"], abs=2e-3)


def test_held_out_liquid_frames_reproduce_their_card_row(card, tmp_path, capsys):
    """The liquid rows are means over a density's held-out frames: all seven frames of rs 1.65, one by one."""
    row = next(r for r in card["liquid_by_rs"] if abs(r["rs_bohr"] - 1.65) < 1e-3)
    frames = [f"rs1.65-test-f{i:03d}" for i in range(row["n_frames"])]
    assert all((FRAMES / f"{f}.nc").is_file() for f in frames)
    got = [predict_and_compare(f, tmp_path, capsys) for f in frames]
    assert np.mean([g["r2"] for g in got]) == pytest.approx(row["model_r2"], abs=2e-4)
    assert np.mean([g["mae"] for g in got]) == pytest.approx(row["model_mae"], abs=2e-4)
    assert np.mean([abs(g["phi_error"]) for g in got]) == pytest.approx(row["phi_abs_error"], abs=2e-3)


@pytest.mark.parametrize("version", list(bundled_models()))
def test_every_shipped_card_is_the_rendering_of_its_stored_metrics(version, tmp_path):
    """The cards are generated: a change to the card's tables without regenerating them fails here (regenerate
    with ``python -m elfviz.cli.programs.evaluate --render-only --weights VERSION``). The default model's card is
    ``MODEL_CARD.md``; the others' lie next to their weights."""
    from elfviz.cli.programs.evaluate import main as evaluate_main
    from elfviz.model.training.card import BUNDLED_CARD, card_path

    stem = bundled_models()[version]
    assert (card_path(stem) == BUNDLED_CARD) == (stem == BUNDLED_WEIGHTS)
    rendered = tmp_path / "card.md"
    assert evaluate_main(["--weights", version, "--render-only", "--card", str(rendered)]) == 0
    assert rendered.read_text() == card_path(stem).read_text(), (
        f"{card_path(stem).name} is out of date: python -m elfviz.cli.programs.evaluate --render-only --weights "
        f"{version}")


def test_render_only_without_stored_metrics_is_refused(tmp_path, capsys):
    from elfviz.cli.programs.evaluate import main as evaluate_main

    (tmp_path / "w.json").write_text(json.dumps({"version": "elfnet-fft@0.0", "card": {}}))
    (tmp_path / "w.pt").write_bytes(b"")
    assert evaluate_main(["--weights", str(tmp_path / "w"), "--render-only"]) == 2
    assert "holds no test metrics" in capsys.readouterr().err
    assert not (tmp_path / "w_CARD.md").exists()
