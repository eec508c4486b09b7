"""Training data: frame splits and pools of descriptor points (shared by the members of an ensemble)."""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
import xarray as xr

from ...errors import FileFormatError
from ...grid import keys
from ...io.store import FrameCollection
from ...resources import check_fits
from ..descriptors import DescriptorSpec, compute_descriptors, descriptor_bytes
from ..predictor import resolve_device
from .config import BondSampling, TrainConfig

log = logging.getLogger(__name__)


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


def frame_descriptors(ds, spec: DescriptorSpec, device: torch.device) -> torch.Tensor:
    """Descriptors of every grid point of a reference frame, ``(F, n_grid_points)`` on ``device``."""
    if keys.ELF not in ds:
        raise FileFormatError(f"frame {ds.attrs.get('frame_id', '?')} has no 'elf' field to train on")
    shape = tuple(int(n) for n in ds[keys.ELF].shape)
    feats = compute_descriptors(ds[keys.POSITIONS].values, ds[keys.CELL].values, shape, spec, device=device)
    return feats.reshape(feats.shape[0], -1)


def draw_points(
    ds, features: torch.Tensor, n_points: int, rng: np.random.Generator, sampling: BondSampling = BondSampling()
) -> tuple[torch.Tensor, torch.Tensor]:
    """Descriptors ``(n, F)`` and reference ELF ``(n,)`` (float32, CPU) at random grid points of one frame.

    ``features`` is :func:`frame_descriptors` of ``ds``. ``round(sampling.fraction * n)`` points are drawn
    near pair midpoints (:meth:`BondSampling.bond_points`), the rest uniformly without replacement; a frame
    without pairs in the window gets uniform points only.
    """
    n_total = features.shape[1]
    n_points = min(int(n_points), n_total)
    near_bonds = sampling.bond_points(ds, int(round(sampling.fraction * n_points)), rng)
    uniform = rng.choice(n_total, size=n_points - len(near_bonds), replace=False)
    pick = np.concatenate([uniform, near_bonds])
    idx = torch.as_tensor(pick, device=features.device)
    x = features[:, idx].T.contiguous().float().cpu()
    y = torch.as_tensor(ds[keys.ELF].values.reshape(-1)[pick], dtype=torch.float32)
    return x, y


def sample_frame(
    ds,
    spec: DescriptorSpec,
    n_points: int,
    rng: np.random.Generator,
    device: torch.device,
    sampling: BondSampling = BondSampling(),
) -> tuple[torch.Tensor, torch.Tensor]:
    """:func:`draw_points` of one frame, descriptors included (see there)."""
    return draw_points(ds, frame_descriptors(ds, spec, device), n_points, rng, sampling)


def build_pools(
    collection: FrameCollection,
    frame_ids: Sequence[str],
    spec: DescriptorSpec,
    n_points: int,
    seeds: Sequence[int],
    device: torch.device,
    *,
    progress: bool = False,
    label: str = "frames",
    sampling: BondSampling | Sequence[BondSampling] = BondSampling(),
) -> list[dict[str, Any]]:
    """One random-point sample of many frames per seed, from one descriptor computation per frame.

    Pool ``k`` is exactly ``build_pool(..., seeds[k], ..., sampling=samplings[k])``: each seed has its own
    random generator, so sharing the descriptors (the expensive part) changes no point. ``sampling`` is one
    :class:`BondSampling` for all pools or one per seed. Each pool holds ``x``, ``y``, ``frame`` (index into
    ``frame_ids``) and per-frame ``info``.
    """
    samplings = [sampling] * len(seeds) if isinstance(sampling, BondSampling) else list(sampling)
    if len(samplings) != len(seeds):
        raise ValueError(f"{len(samplings)} samplings for {len(seeds)} seeds")
    rngs = [np.random.default_rng(seed) for seed in seeds]
    # each pool is written in place into one tensor sized for n_points per frame (no per-frame pieces to
    # concatenate: with several pools of gigabytes, pieces and copies would double the memory)
    capacity = len(frame_ids) * int(n_points)
    xs = [torch.empty((capacity, spec.n_features), dtype=torch.float32) for _ in seeds]
    ys = [torch.empty(capacity, dtype=torch.float32) for _ in seeds]
    owner = torch.empty(capacity, dtype=torch.int32)
    filled = 0
    info = []
    iterator = enumerate(frame_ids)
    if progress:
        from tqdm import tqdm

        iterator = tqdm(iterator, total=len(frame_ids), desc=f"descriptors ({label})", unit="frame")
    for k, frame_id in iterator:
        ds = collection.read(frame_id)
        features = frame_descriptors(ds, spec, device)
        for rng, how, x_pool, y_pool in zip(rngs, samplings, xs, ys, strict=True):
            x, y = draw_points(ds, features, n_points, rng, how)
            x_pool[filled : filled + len(y)] = x
            y_pool[filled : filled + len(y)] = y
        owner[filled : filled + len(y)] = k
        filled += len(y)
        del features
        info.append(
            {
                "frame_id": frame_id,
                "rs_bohr": float(ds.attrs.get("rs_bohr", float("nan"))),
                "trajectory": str(ds.attrs.get("trajectory", "")),
                "source": str(ds.attrs.get("source", "")),
            }
        )
    return [
        {"x": x[:filled], "y": y[:filled], "frame": owner[:filled], "info": list(info)}
        for x, y in zip(xs, ys, strict=True)
    ]


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
    sampling: BondSampling = BondSampling(),
) -> dict[str, Any]:
    """Random-point samples of many frames: ``x``, ``y``, ``frame`` (index into ``ids``), per-frame info.

    Points are uniform over each grid unless ``sampling`` draws some near pair midpoints (training pools).
    """
    return build_pools(
        collection, frame_ids, spec, n_points, [seed], device, progress=progress, label=label, sampling=sampling
    )[0]


def pool_bytes(collection: FrameCollection, split: dict[str, Any], configs: Sequence[TrainConfig]) -> int:
    """Peak memory (bytes) of training: every run's training and validation points with their descriptors,
    one more pool for the epoch's shuffled copy, one frame's full descriptor grid (frames are processed one at
    a time) and 1 GB for the network, optimiser and libraries. Measured (benchmarks/bench_training_memory.py,
    383 frames x 14000 points): 4.4 GB for one network, 10.4 GB for four; this estimate: 5.2 and 11.3 GB."""
    first = configs[0]
    spec = first.spec()
    points = len(split["train"]) * first.points_per_frame + len(split["validation"]) * first.val_points_per_frame
    pool = points * (spec.n_features + 1) * 4
    pools = (len(configs) + 1) * pool + points * 4 + 10**9
    frame_ids = list(split["train"]) + list(split["validation"])
    if not frame_ids:
        return pools
    index = collection.index.set_index("frame_id")
    with xr.open_dataset(collection.root / index.loc[frame_ids[0], "file"], engine="h5netcdf") as ds:
        shape, cell = tuple(ds.sizes[d] for d in ("a", "b", "c")), ds[keys.CELL].values
    return pools + descriptor_bytes(cell, shape, spec)


def member_pools(
    collection_dir: str | Path, configs: Sequence[TrainConfig], *, device: str = "auto", progress: bool = False,
    max_memory: str | int | float | None = None,
) -> list[dict[str, Any]]:
    """Training and validation pools of several single runs from one descriptor pass per frame.

    The runs must share descriptors, frames and point counts; each has its own seed and point sampling.
    Returns ``[{"split", "train", "validation", "seconds"}, ...]``, one entry per config (``seconds``: its
    share of the descriptor time), for :func:`train_single`'s ``pools``.
    """
    if not configs:
        return []
    dev = resolve_device(device)
    first = configs[0]
    spec = first.spec()
    collection = FrameCollection(collection_dir)
    split = split_frames(collection, first.max_frames)
    t0 = time.perf_counter()
    for config in configs[1:]:
        same = (config.spec(), config.points_per_frame, config.val_points_per_frame, config.max_frames)
        if same != (spec, first.points_per_frame, first.val_points_per_frame, first.max_frames):
            raise ValueError("runs that share descriptors need the same descriptors, frames and point counts")
    check_fits(pool_bytes(collection, split, configs),
               f"training {len(configs)} network(s) on {len(split['train'])} frames x {first.points_per_frame} "
               "points", max_memory=max_memory,
               advice="use fewer points per frame (--points-per-frame), fewer frames (--max-frames) or one "
                      "member at a time (--members 1)")
    train_pools = build_pools(
        collection, split["train"], spec, first.points_per_frame, [c.seed for c in configs], dev,
        progress=progress, label="train", sampling=[c.bond_sampling() for c in configs],
    )
    val_pools = build_pools(
        collection, split["validation"], spec, first.val_points_per_frame, [c.seed + 1 for c in configs], dev,
        progress=progress, label="validation",
    )
    share = (time.perf_counter() - t0) / len(configs)
    return [
        {"split": split, "train": train, "validation": val, "seconds": share}
        for train, val in zip(train_pools, val_pools, strict=True)
    ]
