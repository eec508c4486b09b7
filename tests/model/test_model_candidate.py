"""The message-passing candidate kept in the repository (``data/candidates/``) loads and scores as recorded.

Its two networks (seeds 0 and 1 of ``messages+lowk``, 3000 points per frame, 20 epochs) were joined by
``python -m elfviz.cli.programs.atom_ablation --from-run RUN0 --join RUN1 --export STEM``, which also recorded the
joined model's scores on every whole validation frame; the run records lie beside it.
"""

import json

import pytest

from elfviz.analysis import field_metrics
from elfviz.data import dataset_path
from elfviz.io.store import FrameCollection
from elfviz.model import Predictor

CANDIDATES = dataset_path().parent / "candidates"
STEM = CANDIDATES / "elfnet-msg-candidate"


@pytest.fixture(scope="module")
def predictor():
    if not STEM.with_suffix(".pt").is_file():
        pytest.skip("data/candidates/ is in the repository only (not in the wheel)")
    return Predictor(STEM, device="cpu")


def test_the_kept_candidate_reproduces_its_recorded_validation_scores(predictor):
    frames = predictor.card["validation_grids"]["frames"]
    assert predictor.n_members == 2 and len(frames) == 15
    frame_id = sorted(frames)[-1]
    ref = FrameCollection(dataset_path()).read(frame_id)
    scores = field_metrics(ref["elf"].values, predictor.predict(ref, like=ref)["elf"].values.astype(float))
    assert scores["r2"] == pytest.approx(frames[frame_id]["r2"], abs=1e-6)
    assert scores["mae"] == pytest.approx(frames[frame_id]["mae"], abs=1e-6)


def test_the_records_beside_it_are_the_runs_it_was_joined_from(predictor):
    for member in predictor.card["members"]:
        record = json.loads((CANDIDATES / "runs" / f"seed{member['seed']}" / "ablation.json").read_text())
        run = next(r for r in record["variants"]["messages+lowk"]["runs"] if r["seed"] == member["seed"])
        assert run["best"]["r2"] == member["validation_r2"]
