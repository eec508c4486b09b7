"""Evaluate a model on the held-out frames of a dataset and write the model card.

``python -m elfviz.cli.programs.evaluate`` predicts every ``split == "test"`` frame (liquid test trajectories and
all crystals, none of which the training saw) on exactly its reference grid, computes R^2, MAE, RMSE and
max |error| against the reference ELF and the same metrics for the promolecular baseline on the same frames,
and the networking value phi (and phi*) of reference, model and baseline. Metrics are aggregated per density
(liquid) and per phase and density (crystals). The numbers go into the weights' JSON (``card.test``) and
into ``MODEL_CARD.md``.

Examples
--------
    python -m elfviz.cli.programs.evaluate                            # bundled weights on the bundled dataset
    python -m elfviz.cli.programs.evaluate --weights mymodel --data DIR --card mymodel_CARD.md
"""

from __future__ import annotations

import json
import logging
import math
import time
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import ModelError
from ...grid import keys
from ...io.store import FrameCollection, atomic_write
from ..network import weight_paths

log = logging.getLogger(__name__)


def frame_report(ref, predictor, *, topology: bool = True, correction=None, member_phi: bool = False) -> dict[str, Any]:
    """Model and promolecular metrics (and networking values) of one reference frame.

    With a ``correction`` (a callable Dataset -> Dataset such as a
    :class:`~elfviz.model.correction.FourierCorrection`) the corrected prediction is scored
    too, under ``"corrected"`` / ``phi_corrected``; ``predictor`` itself must then have no correction.
    With ``member_phi`` (and ``topology``) the networking value of each member network of an ensemble is
    added as ``phi_members`` (one value per member), the scatter behind the ensemble's ``phi_model``. For an
    ensemble, ``member_std_mean`` is the grid mean of the members' standard deviation (``elf_member_std``).
    """
    from ...analysis import field_metrics
    from ...reference.promolecular import promolecular_elf

    ensemble = predictor.n_members > 1
    t0 = time.perf_counter()
    pred = predictor.predict(ref, like=ref, member_spread=ensemble)
    t_model = time.perf_counter() - t0
    pro = promolecular_elf(ref, like=ref)
    out: dict[str, Any] = {
        "frame_id": str(ref.attrs.get("frame_id", "")),
        "phase": str(ref.attrs.get("phase", "")),
        "trajectory": str(ref.attrs.get("trajectory", "")),
        "rs_bohr": float(ref.attrs["rs_bohr"]),
        "pressure_gpa": float(ref.attrs.get("pressure_gpa", float("nan"))),
        "n_atoms": int(ref.sizes["atom"]),
        "grid": list(ref[keys.ELF].shape),
        "predict_seconds": t_model,
    }
    out["model"] = field_metrics(ref[keys.ELF].values, pred[keys.ELF].values)
    if ensemble:  # mean standard deviation of the member networks over the grid
        out["member_std_mean"] = float(pred[keys.ELF_MEMBER_STD].mean())
    out["promolecular"] = field_metrics(ref[keys.ELF].values, pro[keys.ELF].values)
    fields = [("reference", ref), ("model", pred), ("promolecular", pro)]
    if correction is not None:
        corrected = correction(pred)
        out["corrected"] = field_metrics(ref[keys.ELF].values, corrected[keys.ELF].values)
        fields.append(("corrected", corrected))
    if topology:
        from ...topology import networking_analysis

        for label, ds in fields:
            result = networking_analysis(ds)
            out[f"phi_{label}"] = float(result.phi)
            out[f"phi_star_{label}"] = None if result.phi_star is None else float(result.phi_star)
        if member_phi:  # each member's field on the prediction's grid: those the prediction evaluated
            from ...analysis.member_phi import member_networking_values

            out["phi_members"] = [float(v) for v in member_networking_values(predictor, pred)]
    return out


def _mean(values) -> float:
    values = [v for v in values if v is not None and math.isfinite(v)]
    return float(np.mean(values)) if values else float("nan")


def aggregate(frames: list[dict[str, Any]], names: tuple[str, ...]) -> list[dict[str, Any]]:
    """Mean metrics over frames grouped by ``keys`` (rs rounded to 0.01 bohr)."""
    groups: dict[tuple, list[dict[str, Any]]] = {}
    for f in frames:
        key = tuple(round(f[k], 2) if k == "rs_bohr" else f[k] for k in names)
        groups.setdefault(key, []).append(f)
    rows = []
    for key in sorted(groups):
        members = groups[key]
        row: dict[str, Any] = dict(zip(names, key, strict=True))
        row["n_frames"] = len(members)
        row["pressure_gpa"] = _mean(m["pressure_gpa"] for m in members)
        for who in ("model", "promolecular", "corrected"):
            if who not in members[0]:
                continue
            for metric in ("r2", "mae", "rmse", "max_abs_error"):
                row[f"{who}_{metric}"] = _mean(m[who][metric] for m in members)
        if all("member_std_mean" in m for m in members):
            row["member_std_mean"] = _mean(m["member_std_mean"] for m in members)
        if "phi_reference" in members[0]:
            row["phi_reference"] = _mean(m["phi_reference"] for m in members)
            row["phi_model"] = _mean(m["phi_model"] for m in members)
            row["phi_abs_error"] = _mean(abs(m["phi_model"] - m["phi_reference"]) for m in members)
            if "phi_corrected" in members[0]:
                row["phi_corrected"] = _mean(m["phi_corrected"] for m in members)
                row["phi_corrected_abs_error"] = _mean(
                    abs(m["phi_corrected"] - m["phi_reference"]) for m in members
                )
            row["phi_promolecular_abs_error"] = _mean(
                abs(m["phi_promolecular"] - m["phi_reference"]) for m in members
            )
            if all("phi_members" in m for m in members):
                # each member's networking value averaged over the group's frames; min and max over members
                per_member = np.mean([m["phi_members"] for m in members], axis=0)
                row["phi_members_min"] = float(per_member.min())
                row["phi_members_max"] = float(per_member.max())
        rows.append(row)
    return rows


def evaluate(
    data: str | Path,
    weights: str | Path | None = None,
    *,
    device: str = "auto",
    topology: bool = True,
    max_frames: int | None = None,
    per_group: int | None = None,
    progress: bool = False,
    correction: str | Path | None = None,
    correction_optional: bool = False,
    seen_frames: int = 0,
) -> dict[str, Any]:
    """Evaluate a model on the test split of a FrameCollection.

    With ``seen_frames`` > 0 the network is also scored on that many of its training frames (evenly spread)
    and on its validation frames (:func:`seen_frame_fit`): whether its errors on held-out frames come from
    overfitting or are errors it makes on the frames it was fitted to as well.

    ``per_group`` keeps at most that many frames of every (phase, rs) group (a quicker card);
    ``max_frames`` caps the total. ``correction`` (``"bundled"`` for the shipped correction of the
    model's version, or a correction JSON file) also scores the Fourier-corrected predictions; with
    ``correction_optional`` a correction that cannot be had for these weights is skipped with a warning
    (the network alone is scored) instead of raising.

    Returns
    -------
    dict
        ``frames`` (one report per frame), ``liquid_by_rs`` and ``crystal_by_phase`` (aggregated rows),
        ``overall_liquid`` (pooled means), ``model_version``, ``device``; with ``seen_frames``, ``seen``.
    """
    from ..predictor import Predictor

    predictor = Predictor(weights, device=device)
    fourier_correction = None
    if correction is not None:
        try:
            fourier_correction = predictor.load_correction(correction)
        except ModelError as exc:
            if not correction_optional:
                raise
            log.warning("no Fourier correction for these weights (%s): scoring the network alone", exc)
    coll = FrameCollection(data)
    ids, scheme = held_out_frames(coll, predictor.card)
    if per_group:
        table = coll.index.set_index(coll.index["frame_id"].astype(str))
        counts: dict[tuple, int] = {}
        kept = []
        for frame_id in ids:
            key = (str(table.loc[frame_id, "phase"]), round(float(table.loc[frame_id, "rs_bohr"]), 2))
            counts[key] = counts.get(key, 0) + 1
            if counts[key] <= per_group:
                kept.append(frame_id)
        ids = kept
        scheme += f" (at most {per_group} frames per phase and density)"
    ids = ids[:max_frames] if max_frames else ids
    iterator = ids
    if progress:
        from tqdm import tqdm

        iterator = tqdm(ids, desc="evaluating", unit="frame")
    frames = []
    for frame_id in iterator:
        ref = coll.read(frame_id)
        report = frame_report(ref, predictor, topology=topology, correction=fourier_correction,
                              member_phi=predictor.n_members > 1)
        log.info(
            "%s: model R2 %.4f MAE %.4f | promolecular R2 %.3f",
            frame_id,
            report["model"]["r2"],
            report["model"]["mae"],
            report["promolecular"]["r2"],
        )
        frames.append(report)
    liquid = [f for f in frames if f["phase"] == "liquid"]
    crystals = [f for f in frames if f["phase"] != "liquid"]
    seen = seen_frame_fit(coll, predictor, seen_frames) if seen_frames else {}
    coverage = member_range_coverage(frames)
    return {
        "model_version": predictor.version,
        "device": predictor.device,
        "data": str(data),
        "scheme": scheme,
        "training_rs_bohr": predictor.card.get("training_rs_bohr"),
        "correction": None if fourier_correction is None else repr(fourier_correction),
        "frames": frames,
        "liquid_by_rs": aggregate(liquid, ("rs_bohr",)) if liquid else [],
        "crystal_by_phase": aggregate(crystals, ("phase", "rs_bohr")) if crystals else [],
        "overall_liquid": aggregate([{**f, "all": "all"} for f in liquid], ("all",))[0] if liquid else {},
        **({"seen": seen} if seen else {}),
        **({"member_phi_coverage": coverage} if coverage else {}),
    }


def member_range_coverage(frames: list[dict[str, Any]]) -> dict[str, Any]:
    """How often the reference φ lay within the range of the member networks' φ.

    Returns ``{"members": n, "liquid": [inside, frames], "crystal": [inside, frames]}`` over the frames that
    have ``phi_members`` (an ensemble evaluated with topology); a kind without such frames is left out, and
    the result is empty when no frame has them. Were the reference φ and the n members' φ exchangeable draws
    of one distribution, the reference would lie inside their range with probability (n - 1) / (n + 1).
    """
    out: dict[str, Any] = {}
    for frame in frames:
        members = frame.get("phi_members")
        if not members or frame.get("phi_reference") is None:
            continue
        kind = "liquid" if frame["phase"] == "liquid" else "crystal"
        inside = min(members) <= frame["phi_reference"] <= max(members)
        counts = out.setdefault(kind, [0, 0])
        counts[0] += int(inside)
        counts[1] += 1
        out["members"] = len(members)
    return out


def seen_frame_fit(coll: FrameCollection, predictor, n_train: int) -> dict[str, dict[str, float]]:
    """The network's fit on frames it has seen: ``n_train`` training frames spread evenly over the card's
    list, and every validation frame (full grids, frame means).

    Returns
    -------
    dict
        ``{"train": {...}, "validation": {...}}``, each with ``frames`` (scored), ``of`` (listed in the
        card), ``r2``, ``mae``, ``rmse``; a set is left out when none of its frames is in ``coll``.
    """
    from ...analysis import field_metrics

    card = predictor.card
    train_ids = [str(f) for f in card.get("train_frame_ids", [])]
    picks = np.unique(np.linspace(0, len(train_ids) - 1, min(int(n_train), len(train_ids))).round().astype(int))
    validation_ids = [str(f) for f in card.get("validation_frame_ids", [])]
    sets = {
        "train": ([train_ids[i] for i in picks], len(train_ids)),
        "validation": (validation_ids, len(validation_ids)),
    }
    out = {}
    for name, (ids, listed) in sets.items():
        rows = []
        for frame_id in (f for f in ids if f in coll):
            ref = coll.read(frame_id)
            rows.append(field_metrics(ref[keys.ELF].values, predictor.predict(ref, like=ref)[keys.ELF].values))
        if rows:
            out[name] = {"frames": len(rows), "of": listed,
                         **{k: float(np.mean([r[k] for r in rows])) for k in ("r2", "mae", "rmse")}}
    return out


def held_out_frames(coll: FrameCollection, card: dict[str, Any]) -> tuple[list[str], str]:
    """Frames to evaluate on and a description of them.

    The ``test`` split (held-out liquid trajectories and crystals) when the collection has one; otherwise
    (a dataset still being generated) every liquid frame the model neither trained on nor used for early
    stopping, according to the frame ids recorded in its card: later frames of the training trajectories
    and any density not trained on.

    Raises
    ------
    ModelError
        If there is nothing held out to evaluate on.
    """
    test = coll.select(split="test")["frame_id"].astype(str).tolist()
    if test:
        return test, "test split: held-out liquid trajectories and crystal phases"
    used = set(card.get("train_frame_ids", [])) | set(card.get("validation_frame_ids", []))
    if not used:
        raise ModelError(
            f"{coll.root} has no test frames and the model card does not list its training frames; "
            "nothing provably held out to evaluate on"
        )
    liquid = coll.select(phase="liquid")["frame_id"].astype(str).tolist()
    unseen = [f for f in liquid if f not in used]
    if not unseen:
        raise ModelError(f"{coll.root} has no test frames and every liquid frame was used in training")
    log.warning(
        "no test split in %s: evaluating on %d liquid frames not used in training or validation",
        coll.root,
        len(unseen),
    )
    return unseen, (
        "liquid frames not used in training or validation (no test split yet): later frames of "
        "the training trajectories, and densities never trained on"
    )


def update_weights_card(weights: str | Path, evaluation: dict[str, Any]) -> None:
    """Store the aggregated test metrics in the weights' JSON (``card.test``)."""
    _, js = weight_paths(weights)
    meta = json.loads(js.read_text())
    meta.setdefault("card", {})["test"] = {k: v for k, v in evaluation.items() if k != "frames"}
    text = json.dumps(meta, indent=2, sort_keys=True, default=float)
    atomic_write(Path(js), lambda tmp: tmp.write_text(text))
