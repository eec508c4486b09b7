"""The top of the ELF range: how much of the grid a model puts at 1 and how it moves φ*.

The ELF is at most 1, and the reference stays below it (0.9998 at most in the bundled liquid frames). A model whose
last term is added after its sigmoid (elfnet-msg@2.0's long-wavelength head) can exceed 1 near bond centres and is
clipped there; the clipped plateau shifts φ*, the molecularity index (the ELF at which a molecule first links to
a periodic image of itself, :func:`elfviz.topology.networking_analysis`). This module measures both on whole
frames, beside the reference, so that models can be compared on validation frames.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from typing import Any

import numpy as np

from ...grid import keys
from ...io.store import FrameCollection

TOP = 0.9999
"""ELF level counted as "at the top" (a prediction clipped to 1 lies above it)."""


def top_of_range(coll: FrameCollection, predictors: Mapping[str, Any], *, split: str = "validation",
                 level: float = TOP) -> dict[str, Any]:
    """φ* and the share of grid points at or above ``level``, reference and models, on every liquid frame of
    ``split``.

    Parameters
    ----------
    coll : FrameCollection
        Frames with the reference field ``elf``.
    predictors : mapping of str to predictor
        ``{label: object with predict(ds, like=ds)}``.
    split : str
        Which frames (``"validation"`` to compare models, ``"test"`` to report).
    level : float
        ELF level that counts as the top (dimensionless).

    Returns
    -------
    dict
        ``frames``: per frame ``rs_bohr``, ``reference`` and one entry per model, each with ``phi_star`` and
        ``top_share`` (fraction of grid points ≥ ``level``); ``models``: per model ``mean_abs_dphi_star``,
        ``max_abs_dphi_star``, ``mean_top_share`` and ``top_share_by_rs`` (frame means per rs, bohr);
        ``reference_top_share_by_rs``: the same for the reference.
    """
    from ...topology import networking_analysis

    index = coll.select(split=split, phase="liquid")
    frames: dict[str, dict[str, Any]] = {}
    for frame_id, rs in zip(index["frame_id"].astype(str), index["rs_bohr"].astype(float), strict=True):
        ref = coll.read(frame_id)
        row = {"rs_bohr": round(rs, 2), "reference": _top(ref, level, networking_analysis)}
        for label, predictor in predictors.items():
            row[label] = _top(predictor.predict(ref, like=ref), level, networking_analysis)
        frames[frame_id] = row
    models = {}
    for label in predictors:
        errors = [abs(row[label]["phi_star"] - row["reference"]["phi_star"]) for row in frames.values()]
        models[label] = {"mean_abs_dphi_star": float(np.mean(errors)) if errors else float("nan"),
                         "max_abs_dphi_star": float(np.max(errors)) if errors else float("nan"),
                         "mean_top_share": float(np.mean([row[label]["top_share"] for row in frames.values()]))
                         if frames else float("nan"),
                         "top_share_by_rs": _share_by_rs(frames, label)}
    return {"split": split, "level": level, "frames": frames, "models": models,
            "reference_top_share_by_rs": _share_by_rs(frames, "reference")}


def _share_by_rs(frames: dict[str, dict[str, Any]], label: str) -> dict[float, float]:
    """Frame means of ``label``'s ``top_share`` per rs (bohr), in order of rs."""
    by_rs: dict[float, list[float]] = {}
    for row in frames.values():
        by_rs.setdefault(row["rs_bohr"], []).append(row[label]["top_share"])
    return {rs: float(np.mean(v)) for rs, v in sorted(by_rs.items())}


def _top(ds, level: float, networking_analysis) -> dict[str, float]:
    values = ds[keys.ELF].values
    return {"phi_star": float(networking_analysis(ds).phi_star), "top_share": float(np.mean(values >= level))}


def markdown(result: dict[str, Any]) -> str:
    """Per density: reference and each model's share of points at the top; per model: mean and max |Δφ*|."""
    frames = result["frames"]
    labels = list(result["models"])
    counts = Counter(row["rs_bohr"] for row in frames.values())
    lines = [f"{result['split']} liquid frames: share of grid points with ELF ≥ {result['level']} (frame means)", "",
             "| rs (bohr) | frames | reference | " + " | ".join(labels) + " |",
             "|---|---|---|" + "---|" * len(labels)]
    for rs, reference in result["reference_top_share_by_rs"].items():
        cells = [f"{result['models'][label]['top_share_by_rs'][rs]:.2%}" for label in labels]
        lines.append(f"| {rs:.2f} | {counts[rs]} | {reference:.2%} | " + " | ".join(cells) + " |")
    lines += ["", "| model | mean \\|Δφ*\\| | max \\|Δφ*\\| |", "|---|---|---|"]
    for label, summary in result["models"].items():
        lines.append(f"| {label} | {summary['mean_abs_dphi_star']:.4f} | {summary['max_abs_dphi_star']:.4f} |")
    return "\n".join(lines)
