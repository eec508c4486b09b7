"""Short training runs side by side: does a training setting help where the networking value is decided?

Each *variant* is a point-sampling share near bond midpoints (``bond_fraction``) and, optionally, hidden
layer widths and the three-channel descriptor invariants (``triple``, see
:mod:`elfviz.model.descriptors`). Every variant is trained once per seed with the production loop
(:func:`elfviz.model.training.train_single`) on the same frames, with the descriptors of every frame
computed once for all runs that share them; the members of a variant are averaged, as in the bundled
ensemble. Scores:

* validation R² of each run (uniform points of the validation frames);
* on held-out liquid test frames: R² and the signed and absolute ELF error at midpoints of atom pairs
  ``--pairs`` Å apart (:mod:`elfviz.model.training.bond_midpoints`), where networking saddles sit;
* on the crystals: R², the error at their bond midpoints and the networking-value error Δφ.

The runs are short (fewer points and epochs than the recipe), so compare variants with each other, not with
the model card. Run ``python -m elfviz.cli.programs.ablation --help``; the default compares uniform sampling (the
bundled recipe) with 35 % of the points near bond midpoints.
"""

from __future__ import annotations

import logging
import tempfile
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from ...errors import ModelError
from ...grid import keys
from ...io.store import FrameCollection
from . import TrainConfig, member_pools, train_single

log = logging.getLogger(__name__)

DEFAULT_VARIANTS = ("uniform:0", "bond:0.35")


@dataclass(frozen=True)
class Variant:
    """One training setting: a name, the share of points near bond midpoints, the hidden widths and whether
    the descriptors include the three-channel invariants."""

    name: str
    bond_fraction: float
    hidden: tuple[int, ...] = TrainConfig.hidden
    triple: bool = False

    @classmethod
    def parse(cls, text: str) -> Variant:
        """``NAME:FRACTION[:W1,W2,...][:triple]`` (e.g. ``uniform:0``, ``wide:0:256,256,128``,
        ``tri:0:triple``)."""
        parts = text.split(":")
        try:
            if len(parts) < 2 or not parts[0]:
                raise ValueError
            options = parts[2:]
            triple = "triple" in options
            if triple:
                options.remove("triple")
            if len(options) > 1:
                raise ValueError
            hidden = tuple(int(w) for w in options[0].split(",")) if options else TrainConfig.hidden
            return cls(parts[0], float(parts[1]), hidden, triple)
        except ValueError:
            raise ModelError(
                f"variant {text!r} is not NAME:FRACTION[:W1,W2,...][:triple] (e.g. bond:0.35, tri:0:triple)"
            ) from None


def run_variants(
    collection_dir: str | Path,
    variants: Sequence[Variant],
    *,
    seeds: Sequence[int] = (0, 1),
    points_per_frame: int = 4000,
    epochs: int = 20,
    max_frames: int | None = None,
    test_per_density: int = 2,
    pairs: tuple[float, float] = (1.0, 1.6),
    device: str = "auto",
    workdir: str | Path | None = None,
    base: TrainConfig | None = None,
) -> dict[str, Any]:
    """Train every variant once per seed and score the mean of its runs (see the module docstring).

    Returns
    -------
    dict
        ``{"settings": {...}, "variants": {name: {"validation_r2": [...], "frames": {frame_id: {...}},
        "liquid": {...}}}}``; per frame ``r2``, ``midpoint_bias``, ``midpoint_mae`` (ELF) and, for crystals,
        ``dphi`` (model minus reference networking value).
    """
    names = [v.name for v in variants]
    if not variants or len(set(names)) != len(names):
        raise ModelError(f"need at least one variant and distinct names, got {names}")
    base = base or TrainConfig()
    configs = {
        (v.name, seed): replace(
            base, seed=int(seed), members=1, epochs=int(epochs), points_per_frame=int(points_per_frame),
            max_frames=max_frames, bond_fraction=v.bond_fraction, hidden=v.hidden, triple=v.triple,
        )
        for v in variants
        for seed in seeds
    }
    collection = FrameCollection(collection_dir)
    frames = _evaluation_frames(collection, test_per_density)
    with tempfile.TemporaryDirectory(dir=workdir) as tmp:
        pools = shared_pools(collection_dir, list(configs.values()), device)
        paths = {}
        for (key, config), pool in zip(configs.items(), pools, strict=True):
            log.info("variant %s, seed %d", *key)
            paths[key] = Path(tmp) / f"{key[0]}-seed{key[1]}"
            train_single(collection_dir, paths[key], config, device=device, resume=False, force=True,
                         progress=False, pools=pool)
            pool.clear()
        result = {
            v.name: _score(collection, frames, [paths[(v.name, s)] for s in seeds], pairs, device) for v in variants
        }
    settings = {
        "seeds": list(seeds), "points_per_frame": points_per_frame, "epochs": epochs, "max_frames": max_frames,
        "pairs_angstrom": list(pairs), "frames": frames,
        "variants": [{**asdict(v), "hidden": list(v.hidden)} for v in variants],
    }
    return {"settings": settings, "variants": result}


def shared_pools(collection_dir, configs: Sequence[TrainConfig], device: str) -> list[dict[str, Any]]:
    """:func:`member_pools` of every run, one descriptor pass per distinct descriptor spec, in ``configs``'
    order."""
    groups: dict[Any, list[int]] = {}
    for k, config in enumerate(configs):
        groups.setdefault(config.spec(), []).append(k)
    pools: list[dict[str, Any]] = [{}] * len(configs)
    for members in groups.values():
        for k, pool in zip(members, member_pools(collection_dir, [configs[k] for k in members], device=device),
                           strict=True):
            pools[k] = pool
    return pools


def _evaluation_frames(collection: FrameCollection, per_density: int) -> list[str]:
    """Every crystal, plus ``per_density`` liquid test frames per density spread over each trajectory."""
    index = collection.index
    crystals = index[index["phase"].astype(str) != "liquid"]["frame_id"].astype(str).tolist()
    test = index[(index["phase"].astype(str) == "liquid") & (index["split"].astype(str) == "test")]
    liquid = []
    for _, group in test.groupby(test["rs_bohr"].round(2), sort=True):
        ids = group["frame_id"].astype(str).tolist()
        liquid += [ids[i] for i in np.linspace(0, len(ids) - 1, min(per_density, len(ids))).round().astype(int)]
    return crystals + liquid


def _score(collection, frames, member_paths, pairs, device) -> dict[str, Any]:
    from ...analysis import field_metrics
    from ...topology import networking_analysis
    from ..network import ElfEnsemble, load_model, save_model
    from ..predictor import Predictor
    from .bond_midpoints import bond_midpoint_values, summarize

    loaded = [load_model(p) for p in member_paths]
    with tempfile.TemporaryDirectory() as tmp:  # the mean of the runs, as the bundled ensemble
        stem = Path(tmp) / "ensemble"
        if len(loaded) > 1:
            save_model(stem, ElfEnsemble([net for net, _ in loaded]), {**loaded[0][1], "card": {}})
        predictor = Predictor(stem if len(loaded) > 1 else member_paths[0], device=device)
        out: dict[str, Any] = {"validation_r2": [m["card"]["validation"]["r2"] for _, m in loaded], "frames": {}}
        for frame_id in frames:
            ref = collection.read(frame_id)
            pred = predictor.predict(ref, like=ref)
            mid = summarize(bond_midpoint_values(ref, pred, *pairs))
            row = {
                "phase": str(ref.attrs.get("phase", "")),
                "r2": field_metrics(ref[keys.ELF].values, pred[keys.ELF].values)["r2"],
                "midpoint_bias": mid["bias"],
                "midpoint_mae": mid["mae"],
            }
            if row["phase"] != "liquid":
                row["dphi"] = float(networking_analysis(pred).phi - networking_analysis(ref).phi)
            out["frames"][frame_id] = row
    liquid = [r for r in out["frames"].values() if r["phase"] == "liquid"]
    out["liquid"] = {
        key: float(np.nanmean([r[key] for r in liquid])) if liquid else float("nan")
        for key in ("r2", "midpoint_bias", "midpoint_mae")
    }
    return out


def format_table(result: dict[str, Any]) -> str:
    """A plain-text table: one row per variant."""
    names = list(result["variants"])
    crystals = [f for f, r in result["variants"][names[0]]["frames"].items() if "dphi" in r]
    head = ["variant", "val R2 (runs)", "liquid R2", "mid bias", "mid MAE", *[f"dphi {c}" for c in crystals]]
    rows = [head]
    for name in names:
        v = result["variants"][name]
        rows.append(
            [
                name,
                "/".join(f"{r:.4f}" for r in v["validation_r2"]),
                f"{v['liquid']['r2']:.4f}",
                f"{v['liquid']['midpoint_bias']:+.4f}",
                f"{v['liquid']['midpoint_mae']:.4f}",
                *[f"{v['frames'][c]['dphi']:+.3f}" for c in crystals],
            ]
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    return "\n".join("  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)) for r in rows)
