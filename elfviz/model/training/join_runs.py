"""Runs of :mod:`.atom_ablation` joined into one model users load (``STEM.pt`` + ``STEM.json``).

``python -m elfviz.cli.programs.atom_ablation --from-run RUN0 --join RUN1 ... --export STEM``: the chosen
message-passing variant's networks, one member per (run, seed), become a
:class:`~elfviz.model.message_model.MessageEnsemble` that :class:`~elfviz.model.Predictor` and
``elfviz predict --weights STEM`` load; the joined model is scored on every whole validation frame and the scores
are kept in its card.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

from ...io.store import FrameCollection
from ..message_model import MessageEnsemble
from ..network import save_model, weight_paths
from ..predictor import Predictor
from .atom_ablation import (
    VARIANTS,
    budget_from_record,
    budget_split,
    load_variant,
    score_test_split,
    summarise_test_split,
    variant_parts,
)

__all__ = ["export_model"]


def export_model(runs: Sequence[str | Path], stem: str | Path, collection_dir: str | Path, *, version: str,
                 variant: str | None = None) -> Path:
    """Join the networks of ``variant`` (default: the first run's chosen one) saved by one or more runs of
    :func:`run` into one weights stem (``STEM.pt`` + ``STEM.json``) that :class:`~elfviz.model.Predictor`
    loads: a :class:`~elfviz.model.message_model.MessageEnsemble` with one member per (run, seed).

    Raises
    ------
    ValueError
        If the stem exists, a run is missing, the variant is not a message-passing one with the head, or the
        runs were trained with different sizes or on different frames.
    """
    if any(p.exists() for p in weight_paths(stem)):
        raise ValueError(f"{weight_paths(stem)[0]} or its .json exists; give --export a new name or move them away")
    records = []
    for folder in map(Path, runs):
        if not (folder / "ablation.json").is_file():
            raise ValueError(f"{folder / 'ablation.json'} not found: export needs the folders of earlier runs")
        records.append((folder, json.loads((folder / "ablation.json").read_text())))
    variant = variant or records[0][1]["chosen"]
    name, lowk = variant_parts(variant)
    if VARIANTS[name] is not None or not lowk:
        raise ValueError("only a message-passing variant with the head (messages+lowk, messages+lowk-logit) is a "
                         f"model to load, not {variant!r}")
    sizes = {key: records[0][1]["budget"][key] for key in _MODEL_SIZES}
    members, runs_meta = [], []
    for folder, record in records:
        if {key: record["budget"][key] for key in _MODEL_SIZES} != sizes or record["split"] != records[0][1]["split"]:
            raise ValueError(f"{folder} was trained with other sizes or frames than {records[0][0]}; join runs of "
                             "one budget only")
        if variant not in record["variants"]:
            raise ValueError(f"{folder} holds no {variant!r} networks (it has {', '.join(record['variants'])})")
        budget = budget_from_record(record)
        for entry in record["variants"][variant]["runs"]:
            members.append(load_variant(folder / f"{variant}-s{entry['seed']}.pt", variant, budget))
            runs_meta.append({"run": str(folder), "seed": entry["seed"], "best_epoch": entry["best"]["epoch"],
                              "epochs_run": len(entry["history"]), "validation_r2": entry["best"]["r2"],
                              "validation_midpoint_mae": entry["best"]["midpoint_mae"],
                              "training_seconds": round(entry["seconds"], 1)})
    budget = budget_from_record(records[0][1])
    collection = FrameCollection(collection_dir)
    split = budget_split(collection, budget)
    index = collection.index.set_index("frame_id")
    train_rs = index.loc[split["train"], "rs_bohr"].astype(float)
    card = {
        "family_note": "message-passing atom channels with a long-wavelength head (issue #21; docs/model_history.md)",
        "training_rs_bohr": [round(float(train_rs.min()), 3), round(float(train_rs.max()), 3)],
        "reference_convention": str(index.loc[split["train"][0], "source"]) if "source" in index else "",
        "train_frames": len(split["train"]), "validation_frames": len(split["validation"]),
        "train_frame_ids": list(split["train"]), "validation_frame_ids": list(split["validation"]),
        "train_trajectories": sorted(index.loc[split["train"], "trajectory"].astype(str).unique()),
        "validation_trajectories": sorted(index.loc[split["validation"], "trajectory"].astype(str).unique()),
        "train_points": budget.points_per_frame * len(split["train"]) * len(members),
        "validation_scheme": split["scheme"], "members": runs_meta,
        "hyperparameters": {**asdict(budget), "seeds": [member["seed"] for member in runs_meta]},
        "trained_with": "python -m elfviz.cli.programs.atom_ablation (one run per seed), joined with --export",
    }
    ensemble = MessageEnsemble(members, budget.fixed_spec())
    # the joined model, saved and loaded back as users get it, on whole validation frames (its card shows them
    # beside each member's sampled score); STEM itself is written once, complete, afterwards
    weight_paths(stem)[0].parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=weight_paths(stem)[0].parent) as scratch:
        unscored = save_model(Path(scratch) / "model", ensemble, {"version": version, "card": card})
        report = score_test_split(collection_dir, {"model": Predictor(unscored, device=budget.device)}, budget,
                                  split="validation")
    scores = summarise_test_split(report)["model"]
    card["validation_grids"] = {key: scores[key] for key in ("liquid_r2_per_rs", "liquid_mae", "liquid_midpoint_mae")}
    card["validation_grids"]["frames"] = {frame: {"r2": r["r2"], "mae": r["mae"]}
                                          for frame, r in report["model"].items()}
    return save_model(stem, ensemble, {"version": version, "card": card})


_MODEL_SIZES = ("hidden", "channels", "fixed", "message", "message_hidden", "message_layers", "lowk")
"""Budget entries that fix a network's shape and inputs: runs joined into one model must agree on them."""
