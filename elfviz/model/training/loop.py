"""Training the ELF network on random grid points of many frames of a FrameCollection.

Protocol
--------
* Frames: ``phase == "liquid"`` rows with ``split == "train"`` are fitted, ``split == "validation"`` rows
  select the epoch (early stopping); ``test`` rows and crystals are never read here.
* Data: descriptors are computed once per frame by FFT; ``points_per_frame`` random grid points of every
  training frame form a fixed pool, and ``val_points_per_frame`` uniform random points per validation frame
  give the validation metrics (so they weight space like the R^2 metric). Training points are uniform over
  the grid (the bundled recipe), or a share ``bond_fraction`` of them is drawn near the midpoints of atom
  pairs ``bond_window`` Å apart (a random midpoint plus an isotropic Gaussian offset of ``bond_sigma`` Å,
  snapped to the nearest grid point), where the ELF saddles that decide percolation, and with them the
  networking value, sit (see :func:`draw_points` and ``python -m elfviz.model.training.ablation``).
* Optimisation: Adam, cosine learning-rate decay, mean squared error on the ELF; one checkpoint per epoch
  (``OUT.ckpt.pt``: model, optimiser, history; tensors and plain values only) so ``resume=True`` continues an
  interrupted run exactly; the best epoch by validation RMSE is written to ``OUT.pt`` + ``OUT.json``.
* Ensembles (``members > 1``): member ``i`` is exactly the single run with seed ``seed + i`` (its own point
  sample, initialisation and shuffling), written to ``OUT.members/seed<seed + i>``; the members are then
  joined into one :class:`~elfviz.model.network.ElfEnsemble` (``OUT.pt`` + ``OUT.json``) whose validation
  metrics are measured on the validation pool of seed ``seed``. ``resume=True`` keeps finished members and
  resumes an interrupted one. The descriptors of every frame are computed once for all members still to
  train (:func:`build_pools`); each member still draws its own points from its own seed.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

import torch

from ...errors import ModelError, OutputExistsError
from ...io.store import FrameCollection, atomic_write
from ..descriptors import DescriptorSpec
from ..network import ElfEnsemble, ElfNet, load_model, save_model, weight_paths
from ..predictor import resolve_device
from .checkpoint import _checkpoint_path, _final_meta, _static_meta
from .config import MODEL_NAME, TrainConfig, _config_record
from .pools import (
    build_pool,
    member_pools,
)

log = logging.getLogger(__name__)


def regression_metrics(ref: torch.Tensor, pred: torch.Tensor) -> dict[str, float]:
    """R^2, MAE, RMSE and max |error| of two 1-D tensors."""
    ref = ref.double()
    err = pred.double() - ref
    ss_res = float((err * err).sum())
    ss_tot = float(((ref - ref.mean()) ** 2).sum())
    return {
        "r2": 1.0 - ss_res / ss_tot if ss_tot > 0 else float("nan"),
        "mae": float(err.abs().mean()),
        "rmse": math.sqrt(ss_res / len(ref)),
        "max_abs_error": float(err.abs().max()),
    }


@torch.no_grad()
def evaluate_pool(
    net: ElfNet | ElfEnsemble, pool: dict[str, Any], device: torch.device, batch: int = 65536
) -> dict[str, Any]:
    """Metrics of ``net`` on a pool: overall and per density (rs rounded to 0.01 bohr)."""
    net.eval()
    preds = torch.cat(
        [net(pool["x"][i : i + batch].to(device)).cpu() for i in range(0, len(pool["y"]), batch)]
    )
    out = regression_metrics(pool["y"], preds)
    rs = torch.as_tensor([round(f["rs_bohr"], 2) for f in pool["info"]])[pool["frame"].long()]
    out["per_rs"] = {
        f"{float(v):.2f}": regression_metrics(pool["y"][rs == v], preds[rs == v]) for v in torch.unique(rs)
    }
    return out


def _lr_at(config: TrainConfig, epoch: int) -> float:
    frac = min(epoch / max(config.epochs - 1, 1), 1.0)
    return config.final_learning_rate + 0.5 * (config.learning_rate - config.final_learning_rate) * (
        1 + math.cos(math.pi * frac)
    )


def train(
    collection_dir: str | Path,
    out: str | Path,
    *,
    seed: int = 0,
    epochs: int | None = None,
    device: str = "auto",
    resume: bool = False,
    force: bool = False,
    progress: bool = False,
    config: TrainConfig | None = None,
    max_memory: str | int | float | None = None,
    **overrides: Any,
) -> dict[str, Any]:
    """Train an ELF network on a FrameCollection and write the best epoch's weights.

    ``max_memory`` bounds the descriptor pools (see :func:`pool_bytes`, :mod:`elfviz.resources`): a run that
    would not fit is refused before any descriptor is computed.

    Parameters
    ----------
    collection_dir : path
        FrameCollection (``index.csv`` with ``phase``, ``split``; frames with field ``elf``).
    out : path
        Weights stem; writes ``OUT.pt``, ``OUT.json`` and the checkpoint ``OUT.ckpt.pt``.
    seed : int
        Seed of point sampling, initialisation and shuffling (runs are reproducible on one device).
    epochs : int, optional
        Maximum number of epochs (early stopping may end sooner).
    device : {"auto", "cpu", "cuda"}
        Where to compute descriptors and train.
    resume : bool
        Continue from ``OUT.ckpt.pt`` (same data and settings).
    force : bool
        Overwrite existing weights when not resuming.
    progress : bool
        Show tqdm progress bars.
    config : TrainConfig, optional
        Hyper-parameters; ``overrides`` replace single fields. ``members > 1`` (the default, 4) trains an
        ensemble: member ``i`` is the single run with seed ``seed + i`` in ``OUT.members/`` (see the module
        docstring).

    Returns
    -------
    dict
        The metadata written next to the weights (includes ``card`` with history and metrics).
    """
    config = config if config is not None else TrainConfig()
    for key in overrides:
        if not hasattr(config, key):
            raise ModelError(f"unknown training option {key!r}")
    try:
        config = replace(config, **overrides)  # a copy, checked again by TrainConfig.__post_init__
    except ValueError as exc:
        raise ModelError(f"invalid training option: {exc}") from None
    config.seed = int(seed)
    if epochs is not None:
        config.epochs = int(epochs)
    if config.epochs < 1:
        raise ModelError("epochs must be at least 1")
    if int(config.members) < 1:
        raise ModelError(f"members must be at least 1, got {config.members}")
    options = {"device": device, "resume": resume, "force": force, "progress": progress, "max_memory": max_memory}
    if config.members > 1:
        return _train_ensemble(collection_dir, Path(out), config, **options)
    return train_single(collection_dir, Path(out), config, **options)


def _member_paths(out: Path, config: TrainConfig) -> list[Path]:
    """Weights stems of the members of an ensemble run: ``OUT.members/seed<seed + i>``."""
    folder = out.with_name(out.name + ".members")
    return [folder / f"seed{config.seed + i}" for i in range(int(config.members))]


def _train_ensemble(
    collection_dir: str | Path, out: Path, config: TrainConfig, *, device: str, resume: bool, force: bool,
    progress: bool, max_memory: str | int | float | None = None,
) -> dict[str, Any]:
    """Train ``config.members`` single runs (seeds ``seed``, ``seed + 1``, ...) and join them."""
    pt, js = weight_paths(out)
    if not resume and (pt.exists() or js.exists()) and not force:
        raise OutputExistsError(f"{pt} already exists; pass --force to overwrite or --resume to continue")
    paths = _member_paths(out, config)
    members = [replace(config, members=1, seed=config.seed + i) for i in range(len(paths))]
    todo = []
    for i, (member_out, member_config) in enumerate(zip(paths, members, strict=True)):
        member_pt, member_js = weight_paths(member_out)
        if resume and member_pt.exists() and member_js.exists():
            done = json.loads(member_js.read_text()).get("card", {}).get("hyperparameters", {})
            expected = json.loads(json.dumps(_config_record(member_config)))
            if done != expected:
                changed = sorted(k for k in set(done) | set(expected) if done.get(k) != expected.get(k))
                raise ModelError(
                    f"ensemble member {member_pt} was trained with other settings ({', '.join(changed)}); "
                    "start without --resume (with --force) to retrain all members"
                )
            log.info("member %d of %d (%s) is already trained", i + 1, config.members, member_pt)
            continue
        if not resume and (member_pt.exists() or member_js.exists()) and not force:
            raise OutputExistsError(f"{member_pt} already exists; pass --force to overwrite or --resume to continue")
        todo.append(i)
    # the descriptors of every frame are computed once for all members still to train; each member draws
    # its own points with its own seed, exactly as a single run with that seed would
    pools = member_pools(collection_dir, [members[i] for i in todo], device=device, progress=progress,
                         max_memory=max_memory)
    for i, pool in zip(todo, pools, strict=True):
        log.info("training member %d of %d (seed %d) -> %s", i + 1, config.members, members[i].seed, paths[i])
        member_resume = resume and _checkpoint_path(paths[i]).exists()
        train_single(
            collection_dir, paths[i], members[i], device=device, resume=member_resume, force=force,
            progress=progress, pools=pool,
        )
        pool.clear()  # release this member's points before the next member trains
    return join_members(collection_dir, out, paths, config, device=device)


def join_members(
    collection_dir: str | Path, out: Path, member_paths: Sequence[Path], config: TrainConfig, *, device: str = "auto"
) -> dict[str, Any]:
    """Join trained members into one ensemble, measure it on the validation frames, write ``OUT.pt/.json``."""
    dev = resolve_device(device)
    loaded = [load_model(p, device=dev) for p in member_paths]
    metas = [meta for _, meta in loaded]
    first = metas[0]
    for path, meta in zip(member_paths[1:], metas[1:], strict=True):
        if meta["descriptors"] != first["descriptors"]:
            raise ModelError(f"ensemble member {path} uses other descriptors than {member_paths[0]}")
        if meta["card"]["train_frame_ids"] != first["card"]["train_frame_ids"]:
            raise ModelError(f"ensemble member {path} was trained on other frames than {member_paths[0]}")
    ensemble = ElfEnsemble([net for net, _ in loaded]).eval()
    collection = FrameCollection(collection_dir)
    spec = DescriptorSpec.from_dict(first["descriptors"])
    t0 = time.perf_counter()
    val_pool = build_pool(
        collection, first["card"]["validation_frame_ids"], spec, config.val_points_per_frame, config.seed + 1, dev
    )
    t_data = time.perf_counter() - t0
    val = evaluate_pool(ensemble, val_pool, dev)
    cards = [meta["card"] for meta in metas]
    meta = json.loads(json.dumps(first))
    for key in ("format", "hidden", "transform", "n_features", "members", "member_hidden"):
        meta.pop(key, None)
    meta["version"] = f"{MODEL_NAME}@{config.version}"
    card = meta["card"]
    for key in ("history", "best_epoch", "epochs_run", "exported_from_checkpoint"):
        card.pop(key, None)
    card.update(
        {
            "hyperparameters": _config_record(config),
            "train_points": sum(c["train_points"] for c in cards),
            "descriptor_seconds": round(sum(c["descriptor_seconds"] for c in cards) + t_data, 1),
            "training_seconds": round(sum(c["training_seconds"] for c in cards), 1),
            "validation": {
                "rmse": val["rmse"],
                "r2": val["r2"],
                "mae": val["mae"],
                "per_rs": {k: v["r2"] for k, v in val["per_rs"].items()},
            },
            "members": [
                {
                    "seed": int(c["hyperparameters"]["seed"]),
                    "best_epoch": c["best_epoch"],
                    "epochs_run": c["epochs_run"],
                    "validation_r2": c["validation"]["r2"],
                    "validation_rmse": c["validation"]["rmse"],
                    "training_seconds": c["training_seconds"],
                }
                for c in cards
            ],
        }
    )
    save_model(out, ensemble.cpu(), meta)
    log.info(
        "wrote %s: ensemble of %d, validation R2 %.4f (members %s)",
        weight_paths(out)[0],
        len(cards),
        val["r2"],
        ", ".join(f"{c['validation']['r2']:.4f}" for c in cards),
    )
    return meta


def train_single(
    collection_dir: str | Path, out: Path, config: TrainConfig, *, device: str, resume: bool, force: bool,
    progress: bool, pools: dict[str, Any] | None = None, max_memory: str | int | float | None = None,
) -> dict[str, Any]:
    """One network (the body of :func:`train` for ``members == 1``); ``pools`` (from :func:`member_pools`)
    saves computing the descriptors again."""
    pt, js = weight_paths(out)
    ckpt_path = _checkpoint_path(out)
    if resume and not ckpt_path.exists():
        raise ModelError(f"cannot resume: no checkpoint {ckpt_path}; start without --resume")
    if not resume and (pt.exists() or js.exists()) and not force:
        raise OutputExistsError(f"{pt} already exists; pass --force to overwrite or --resume to continue")
    pt.parent.mkdir(parents=True, exist_ok=True)
    dev = resolve_device(device)
    torch.manual_seed(config.seed)
    spec = config.spec()
    if pools is None:
        pools = member_pools(collection_dir, [config], device=device, progress=progress, max_memory=max_memory)[0]
    split, train_pool, val_pool, t_data = pools["split"], pools["train"], pools["validation"], pools["seconds"]
    log.info(
        "training on %d frames, validating on %d (device %s)",
        len(split["train"]),
        len(split["validation"]),
        dev,
    )

    static_meta = _static_meta(config, spec, split, train_pool, val_pool, t_data, dev)
    net = ElfNet(spec.n_features, hidden=config.hidden, transform=config.transform)
    net.fit_standardisation(train_pool["x"])
    net.to(dev)
    optimiser = torch.optim.Adam(net.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay)
    history: list[dict[str, Any]] = []
    best = {"rmse": float("inf"), "epoch": -1}
    best_state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
    start_epoch, train_seconds = 0, 0.0
    if resume:
        ckpt = torch.load(ckpt_path, map_location="cpu", weights_only=True)
        net.load_state_dict(ckpt["model"])
        optimiser.load_state_dict(ckpt["optimiser"])
        history, best, best_state = ckpt["history"], ckpt["best"], ckpt["best_state"]
        start_epoch, train_seconds = int(ckpt["epoch"]) + 1, float(ckpt["train_seconds"])
        log.info(
            "resuming at epoch %d (best so far: epoch %d, RMSE %.4f)",
            start_epoch,
            best["epoch"],
            best["rmse"],
        )

    x_train, y_train = train_pool["x"].to(dev), train_pool["y"].to(dev)
    n = len(y_train)
    bar = None
    if progress:
        from tqdm import tqdm

        bar = tqdm(total=config.epochs, initial=start_epoch, desc="epochs", unit="epoch")
    for epoch in range(start_epoch, config.epochs):
        if epoch - best["epoch"] > config.patience and best["epoch"] >= 0:
            log.info("early stop: no validation improvement for %d epochs", config.patience)
            break
        t0 = time.perf_counter()
        lr = _lr_at(config, epoch)
        for group in optimiser.param_groups:
            group["lr"] = lr
        gen = torch.Generator().manual_seed(config.seed * 100003 + epoch)
        order = torch.randperm(n, generator=gen).to(dev)
        net.train()
        total = 0.0
        for i in range(0, n, config.batch_size):
            idx = order[i : i + config.batch_size]
            pred = net(x_train[idx])
            loss = torch.mean((pred - y_train[idx]) ** 2)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
            total += float(loss.detach()) * len(idx)
        val = evaluate_pool(net, val_pool, dev)
        seconds = time.perf_counter() - t0
        train_seconds += seconds
        record = {
            "epoch": epoch,
            "lr": lr,
            "train_rmse": math.sqrt(total / n),
            "val_r2": val["r2"],
            "val_mae": val["mae"],
            "val_rmse": val["rmse"],
            "seconds": seconds,
        }
        history.append(record)
        improved = val["rmse"] < best["rmse"]
        if improved:
            best = {
                "rmse": val["rmse"],
                "epoch": epoch,
                "r2": val["r2"],
                "mae": val["mae"],
                "per_rs": {k: v["r2"] for k, v in val["per_rs"].items()},
            }
            best_state = {k: v.detach().cpu().clone() for k, v in net.state_dict().items()}
        log.info(
            "epoch %3d  lr %.2e  train RMSE %.4f  val R2 %.4f  MAE %.4f  RMSE %.4f%s  (%.1f s)",
            epoch,
            lr,
            record["train_rmse"],
            val["r2"],
            val["mae"],
            val["rmse"],
            "  *" if improved else "",
            seconds,
        )
        checkpoint = {
            "model": net.state_dict(),
            "optimiser": optimiser.state_dict(),
            "epoch": epoch,
            "history": history,
            "best": best,
            "best_state": best_state,
            "train_seconds": train_seconds,
            "meta_json": json.dumps(static_meta),
        }
        # written aside and renamed: a run killed mid-save keeps the previous epoch's checkpoint intact
        atomic_write(Path(ckpt_path), lambda tmp, checkpoint=checkpoint: torch.save(checkpoint, tmp))
        if bar is not None:
            bar.update(1)
            bar.set_postfix(val_r2=f"{val['r2']:.4f}", best=best["epoch"])
    if bar is not None:
        bar.close()

    net.load_state_dict(best_state)
    meta = _final_meta(static_meta, history, best, train_seconds)
    save_model(out, net.cpu(), meta)
    log.info("wrote %s (best epoch %d, validation R2 %.4f)", pt, best["epoch"], best.get("r2", float("nan")))
    return meta
