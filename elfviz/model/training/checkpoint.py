"""Checkpoints of a training run (resumable) and the metadata written beside the weights."""

from __future__ import annotations

import json
import logging
import platform
from pathlib import Path
from typing import Any

import torch

from ...errors import ModelError, OutputExistsError
from ..descriptors import DescriptorSpec
from ..network import build_network, save_model, weight_paths
from .config import MODEL_NAME, TrainConfig, _config_record

log = logging.getLogger(__name__)


def _checkpoint_path(out: Path) -> Path:
    pt, _ = weight_paths(out)
    return pt.with_name(pt.stem + ".ckpt.pt")


def _static_meta(
    config: TrainConfig,
    spec: DescriptorSpec,
    split: dict[str, Any],
    train_pool: dict[str, Any],
    val_pool: dict[str, Any],
    t_data: float,
    dev: torch.device,
) -> dict[str, Any]:
    """Metadata known before the first epoch (stored in every checkpoint, completed at the end)."""
    rs_values = [f["rs_bohr"] for f in train_pool["info"]]
    conventions = sorted({f["source"] for f in train_pool["info"]})
    cfg = _config_record(config)
    return {
        "version": f"{MODEL_NAME}@{config.version}",
        "descriptors": spec.to_dict(),
        "hidden": list(config.hidden),
        "transform": config.transform,
        "card": {
            "training_rs_bohr": [min(rs_values), max(rs_values)],
            "reference_convention": "; ".join(conventions),
            "train_frames": len(split["train"]),
            "validation_frames": len(split["validation"]),
            "validation_scheme": split["scheme"],
            "train_frame_ids": list(split["train"]),
            "validation_frame_ids": list(split["validation"]),
            "train_trajectories": sorted({f["trajectory"] for f in train_pool["info"]}),
            "validation_trajectories": sorted({f["trajectory"] for f in val_pool["info"]}),
            "train_points": int(len(train_pool["y"])),
            "validation_points": int(len(val_pool["y"])),
            "hyperparameters": cfg,
            "descriptor_seconds": round(t_data, 1),
            "device": str(dev),
            "torch": torch.__version__,
            "threads": torch.get_num_threads(),
            "machine": platform.processor() or platform.machine(),
        },
    }


def _final_meta(
    static_meta: dict[str, Any], history: list[dict[str, Any]], best: dict[str, Any], train_seconds: float
) -> dict[str, Any]:
    meta = json.loads(json.dumps(static_meta))
    meta["card"].update(
        {
            "best_epoch": best["epoch"],
            "epochs_run": len(history),
            "validation": best,
            "history": history,
            "training_seconds": round(train_seconds, 1),
        }
    )
    return meta


def export_checkpoint(out: str | Path, *, force: bool = False) -> dict[str, Any]:
    """Write the best epoch so far of an (interrupted or running) training as ``OUT.pt`` + ``OUT.json``.

    Uses the checkpoint ``OUT.ckpt.pt`` alone (no data, no descriptors); the card records how many epochs
    had run.
    """
    ckpt_path = _checkpoint_path(Path(out))
    if not ckpt_path.exists():
        raise ModelError(f"no checkpoint {ckpt_path} to export")
    pt, js = weight_paths(out)
    if (pt.exists() or js.exists()) and not force:
        raise OutputExistsError(f"{pt} already exists; pass --force to overwrite it")
    ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=True)
    if "meta_json" not in ckpt:
        raise ModelError(
            f"{ckpt_path} was written by an older elfviz without metadata; it cannot be exported"
        )
    meta = _final_meta(json.loads(ckpt["meta_json"]), ckpt["history"], ckpt["best"], ckpt["train_seconds"])
    meta["card"]["exported_from_checkpoint"] = True
    net = build_network(meta)
    net.load_state_dict(ckpt["best_state"])
    save_model(out, net, meta)
    log.info("exported epoch %d of %s to %s", ckpt["best"]["epoch"], ckpt_path, pt)
    return meta
