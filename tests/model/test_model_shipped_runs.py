"""The shipped message-passing models are the models their training runs made, and their recipe is atom_ablation's
default.

Each has two networks (seeds 0 and 1, 3000 points per frame, 20 epochs; ``scripts/train-elfnet-msg.sh``):
elfnet-msg@2.0 of variant ``messages+lowk`` (the head after the sigmoid), elfnet-msg@2.1, the default, of
``messages+lowk-logit`` (inside it). They were joined by ``python -m elfviz.cli.programs.atom_ablation --from-run
RUN0 --join RUN1 --export STEM``, which also recorded the joined model's scores on every whole validation frame;
the runs' records lie in ``data/training_runs/<model>/`` (repository only).
"""

import json
from dataclasses import asdict

import pytest

from elfviz.analysis import field_metrics
from elfviz.data import dataset_path
from elfviz.io.store import FrameCollection
from elfviz.model import Predictor
from elfviz.model.training.atom_ablation import AblationBudget

RUNS = dataset_path().parent / "training_runs"

SHIPPED = {"elfnet-msg@2.0": "messages+lowk", "elfnet-msg@2.1": "messages+lowk-logit"}
"""Each shipped message-passing model and the ablation variant its networks are."""


@pytest.fixture(scope="module", params=list(SHIPPED))
def predictor(request):
    return Predictor(request.param, device="cpu")


def test_it_reproduces_its_recorded_validation_scores(predictor):
    frames = predictor.card["validation_grids"]["frames"]
    assert predictor.n_members == 2 and len(frames) == 15
    frame_id = sorted(frames)[-1]
    ref = FrameCollection(dataset_path()).read(frame_id)
    scores = field_metrics(ref["elf"].values, predictor.predict(ref, like=ref)["elf"].values.astype(float))
    assert scores["r2"] == pytest.approx(frames[frame_id]["r2"], abs=1e-6)
    assert scores["mae"] == pytest.approx(frames[frame_id]["mae"], abs=1e-6)


def test_the_records_are_the_runs_it_was_joined_from(predictor):
    runs = RUNS / predictor.version.replace("@", "-")
    if not RUNS.is_dir():
        pytest.skip("data/training_runs/ is in the repository only (not in the wheel)")
    variant = SHIPPED[predictor.version]
    assert predictor.meta.get("head", "sum") == ("logit" if variant.endswith("-logit") else "sum")
    for member in predictor.card["members"]:
        record = json.loads((runs / f"seed{member['seed']}" / "ablation.json").read_text())
        run = next(r for r in record["variants"][variant]["runs"] if r["seed"] == member["seed"])
        assert run["best"]["r2"] == member["validation_r2"]


def test_the_default_ablation_budget_is_its_recipe(predictor):
    """``scripts/train-elfnet-msg.sh`` passes no budget options: atom_ablation's defaults must stay the recipe."""
    default = json.loads(json.dumps(asdict(AblationBudget(seeds=(0, 1), device="auto"))))
    assert default == predictor.card["hyperparameters"]
