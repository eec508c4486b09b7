"""Training the ELF network on random grid points of many frames of a FrameCollection.

Protocol
--------
* Frames: ``phase == "liquid"`` rows with ``split == "train"`` are fitted, ``split == "validation"`` rows
  select the epoch (early stopping); ``test`` rows and crystals are never read here.
* Data: descriptors are computed once per frame by FFT; ``points_per_frame`` random grid points of every
  training frame (uniform, so the loss weights space like the R^2 metric) form a fixed pool, and
  ``val_points_per_frame`` points per validation frame give the validation metrics.
* Optimisation: Adam, cosine learning-rate decay, mean squared error on the ELF; one checkpoint per epoch
  (``OUT.ckpt.pt``: model, optimiser, history; tensors and plain values only) so ``resume=True`` continues an
  interrupted run exactly; the best epoch by validation RMSE is written to ``OUT.pt`` + ``OUT.json``.
* Ensembles (``members > 1``): member ``i`` is exactly the single run with seed ``seed + i`` (its own point
  sample, initialisation and shuffling), written to ``OUT.members/seed<seed + i>``; the members are then
  joined into one :class:`~elfviz.model.network.ElfEnsemble` (``OUT.pt`` + ``OUT.json``) whose validation
  metrics are measured on the validation pool of seed ``seed``. ``resume=True`` keeps finished members and
  resumes an interrupted one.
"""

from __future__ import annotations

import json
import logging
import math
import platform
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ..errors import FileFormatError, ModelError, OutputExistsError
from ..store import FrameCollection
from .descriptors import DEFAULT_WIDTHS, DescriptorSpec, compute_descriptors
from .network import ElfEnsemble, ElfNet, build_network, load_model, save_model, weight_paths
from .predictor import resolve_device

log = logging.getLogger(__name__)

MODEL_NAME = "elfnet-fft"


@dataclass
class TrainConfig:
    """Hyper-parameters of a training run (all recorded in the model card)."""

    seed: int = 0
    epochs: int = 40
    points_per_frame: int = 14000
    val_points_per_frame: int = 12000
    batch_size: int = 2048
    learning_rate: float = 2e-3
    final_learning_rate: float = 5e-5
    weight_decay: float = 0.0
    hidden: tuple[int, ...] = (128, 128, 64)
    widths: tuple[float, ...] = DEFAULT_WIDTHS
    lmax: int = 3
    transform: str = "sqrt"
    patience: int = 15
    max_frames: int | None = None
    members: int = 4
    version: str = "1.6"
    extra: dict[str, Any] = field(default_factory=dict)

    def spec(self) -> DescriptorSpec:
        return DescriptorSpec(widths=tuple(self.widths), lmax=self.lmax)


# ----------------------------------------------------------------------------- data
def split_frames(
    collection: FrameCollection, max_frames: int | None = None, holdout_fraction: float = 0.2
) -> dict[str, Any]:
    """Frame ids of the liquid training and validation splits (test and crystal frames excluded).

    If the collection has no ``validation`` frames (e.g. while a dataset is still being generated), the
    last ``holdout_fraction`` of the frames of every training trajectory (a contiguous block in time, so
    correlated neighbours stay on one side) is held out for validation instead; ``scheme`` says which.
    """
    table = collection.index
    if table.empty:
        raise FileFormatError(
            f"{collection.root} holds no frames (no index.csv rows); build the dataset first"
        )
    for column in ("split", "phase", "trajectory"):
        if column not in table:
            raise FileFormatError(f"{collection.index_path} has no '{column}' column")
    liquid = table[table["phase"].astype(str) == "liquid"]
    out: dict[str, Any] = {"scheme": "validation trajectories"}
    for split in ("train", "validation"):
        out[split] = liquid[liquid["split"].astype(str) == split]["frame_id"].astype(str).tolist()
    if not out["train"]:
        raise FileFormatError(f"{collection.root} has no liquid frames with split 'train'")
    if not out["validation"]:
        train, val = [], []
        rows = liquid[liquid["split"].astype(str) == "train"]
        for _, group in rows.groupby("trajectory", sort=True):
            ids = group["frame_id"].astype(str).tolist()
            n_val = max(1, int(round(holdout_fraction * len(ids)))) if len(ids) > 1 else 0
            train += ids[: len(ids) - n_val]
            val += ids[len(ids) - n_val :]
        if not val:
            raise FileFormatError(
                f"{collection.root} has no 'validation' frames and too few training frames to hold some out"
            )
        log.warning(
            "no validation trajectories in %s: holding out the last %.0f%% of every training "
            "trajectory (%d frames) for early stopping",
            collection.root,
            100 * holdout_fraction,
            len(val),
        )
        out.update(
            {
                "train": train,
                "validation": val,
                "scheme": f"last {100 * holdout_fraction:.0f}% of each training trajectory",
            }
        )
    if max_frames is not None:
        out["train"], out["validation"] = out["train"][:max_frames], out["validation"][:max_frames]
    return out


def sample_frame(
    ds, spec: DescriptorSpec, n_points: int, rng: np.random.Generator, device: torch.device
) -> tuple[torch.Tensor, torch.Tensor]:
    """Descriptors ``(n, F)`` and reference ELF ``(n,)`` (float32, CPU) at random grid points of one frame."""
    if "elf" not in ds:
        raise FileFormatError(f"frame {ds.attrs.get('frame_id', '?')} has no 'elf' field to train on")
    shape = tuple(int(n) for n in ds["elf"].shape)
    feats = compute_descriptors(ds["positions"].values, ds["cell"].values, shape, spec, device=device)
    flat = feats.reshape(feats.shape[0], -1)
    n_total = flat.shape[1]
    pick = rng.choice(n_total, size=min(int(n_points), n_total), replace=False)
    idx = torch.as_tensor(pick, device=device)
    x = flat[:, idx].T.contiguous().float().cpu()
    y = torch.as_tensor(ds["elf"].values.reshape(-1)[pick], dtype=torch.float32)
    return x, y


def build_pool(
    collection: FrameCollection,
    frame_ids: Sequence[str],
    spec: DescriptorSpec,
    n_points: int,
    seed: int,
    device: torch.device,
    *,
    progress: bool = False,
    label: str = "frames",
) -> dict[str, Any]:
    """Random-point samples of many frames: ``x``, ``y``, ``frame`` (index into ``ids``), per-frame info."""
    rng = np.random.default_rng(seed)
    xs, ys, owners, info = [], [], [], []
    iterator = enumerate(frame_ids)
    if progress:
        from tqdm import tqdm

        iterator = tqdm(iterator, total=len(frame_ids), desc=f"descriptors ({label})", unit="frame")
    for k, frame_id in iterator:
        ds = collection.read(frame_id)
        x, y = sample_frame(ds, spec, n_points, rng, device)
        xs.append(x)
        ys.append(y)
        owners.append(torch.full((len(y),), k, dtype=torch.int32))
        info.append(
            {
                "frame_id": frame_id,
                "rs_bohr": float(ds.attrs.get("rs_bohr", float("nan"))),
                "trajectory": str(ds.attrs.get("trajectory", "")),
                "source": str(ds.attrs.get("source", "")),
            }
        )
    return {"x": torch.cat(xs), "y": torch.cat(ys), "frame": torch.cat(owners), "info": info}


# ----------------------------------------------------------------------------- metrics
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


# ----------------------------------------------------------------------------- training
def _lr_at(config: TrainConfig, epoch: int) -> float:
    frac = min(epoch / max(config.epochs - 1, 1), 1.0)
    return config.final_learning_rate + 0.5 * (config.learning_rate - config.final_learning_rate) * (
        1 + math.cos(math.pi * frac)
    )


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
    **overrides: Any,
) -> dict[str, Any]:
    """Train an ELF network on a FrameCollection and write the best epoch's weights.

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
    config = replace(config) if config is not None else TrainConfig()
    for key, value in overrides.items():
        if not hasattr(config, key):
            raise ModelError(f"unknown training option {key!r}")
        setattr(config, key, value)
    config.seed = int(seed)
    if epochs is not None:
        config.epochs = int(epochs)
    if config.epochs < 1:
        raise ModelError("epochs must be at least 1")
    if int(config.members) < 1:
        raise ModelError(f"members must be at least 1, got {config.members}")
    options = {"device": device, "resume": resume, "force": force, "progress": progress}
    if config.members > 1:
        return _train_ensemble(collection_dir, Path(out), config, **options)
    return _train_single(collection_dir, Path(out), config, **options)


def _member_paths(out: Path, config: TrainConfig) -> list[Path]:
    """Weights stems of the members of an ensemble run: ``OUT.members/seed<seed + i>``."""
    folder = out.with_name(out.name + ".members")
    return [folder / f"seed{config.seed + i}" for i in range(int(config.members))]


def _train_ensemble(
    collection_dir: str | Path, out: Path, config: TrainConfig, *, device: str, resume: bool, force: bool,
    progress: bool,
) -> dict[str, Any]:
    """Train ``config.members`` single runs (seeds ``seed``, ``seed + 1``, ...) and join them."""
    pt, js = weight_paths(out)
    if not resume and (pt.exists() or js.exists()) and not force:
        raise OutputExistsError(f"{pt} already exists; pass --force to overwrite or --resume to continue")
    paths = _member_paths(out, config)
    for i, member_out in enumerate(paths):
        member_config = replace(config, members=1, seed=config.seed + i)
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
        log.info("training member %d of %d (seed %d) -> %s", i + 1, config.members, member_config.seed, member_pt)
        member_resume = resume and _checkpoint_path(member_out).exists()
        _train_single(
            collection_dir, member_out, member_config, device=device, resume=member_resume, force=force,
            progress=progress,
        )
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


def _config_record(config: TrainConfig) -> dict[str, Any]:
    """The hyper-parameters as stored in the model card (JSON types)."""
    cfg = asdict(config)
    cfg["hidden"], cfg["widths"] = list(config.hidden), list(config.widths)
    return cfg


def _train_single(
    collection_dir: str | Path, out: Path, config: TrainConfig, *, device: str, resume: bool, force: bool,
    progress: bool,
) -> dict[str, Any]:
    """One network (the body of :func:`train` for ``members == 1``)."""
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
    collection = FrameCollection(collection_dir)
    split = split_frames(collection, config.max_frames)
    log.info(
        "training on %d frames, validating on %d (device %s)",
        len(split["train"]),
        len(split["validation"]),
        dev,
    )
    t_start = time.perf_counter()
    train_pool = build_pool(
        collection,
        split["train"],
        spec,
        config.points_per_frame,
        config.seed,
        dev,
        progress=progress,
        label="train",
    )
    val_pool = build_pool(
        collection,
        split["validation"],
        spec,
        config.val_points_per_frame,
        config.seed + 1,
        dev,
        progress=progress,
        label="validation",
    )
    t_data = time.perf_counter() - t_start

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
        torch.save(
            {
                "model": net.state_dict(),
                "optimiser": optimiser.state_dict(),
                "epoch": epoch,
                "history": history,
                "best": best,
                "best_state": best_state,
                "train_seconds": train_seconds,
                "meta_json": json.dumps(static_meta),
            },
            ckpt_path,
        )
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
