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
  networking value, sit (see :func:`draw_points` and ``python -m elfviz.model.ablation``).
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
import platform
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import torch

from .. import grid
from ..errors import FileFormatError, ModelError, OutputExistsError
from ..pairs import pair_midpoints
from ..store import FrameCollection
from .descriptors import DEFAULT_WIDTHS, DescriptorSpec, compute_descriptors
from .network import ElfEnsemble, ElfNet, build_network, load_model, save_model, weight_paths
from .predictor import resolve_device

log = logging.getLogger(__name__)

MODEL_NAME = "elfnet-fft"

BOND_WINDOW = (0.85, 1.8)
"""Default distances (Å) of the atom pairs near whose midpoints bond-sampled training points are drawn."""
BOND_SIGMA = 0.15
"""Default standard deviation (Å) of a bond-sampled point's Gaussian offset from the midpoint."""


@dataclass
class TrainConfig:
    """Hyper-parameters of a training run (all recorded in the model card)."""

    seed: int = 0
    epochs: int = 40
    points_per_frame: int = 14000
    val_points_per_frame: int = 12000
    bond_fraction: float = 0.0
    bond_window: tuple[float, float] = BOND_WINDOW
    bond_sigma: float = BOND_SIGMA
    batch_size: int = 2048
    learning_rate: float = 2e-3
    final_learning_rate: float = 5e-5
    weight_decay: float = 0.0
    hidden: tuple[int, ...] = (128, 128, 64)
    widths: tuple[float, ...] = DEFAULT_WIDTHS
    lmax: int = 3
    triple: bool = False
    transform: str = "sqrt"
    patience: int = 15
    max_frames: int | None = None
    members: int = 4
    version: str = "1.6"
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if not 0.0 <= float(self.bond_fraction) <= 1.0:
            raise ValueError(f"bond_fraction must lie in [0, 1], got {self.bond_fraction}")
        low, high = (float(v) for v in self.bond_window)
        if not 0.0 <= low <= high:
            raise ValueError(f"bond_window must be (d_min, d_max) with 0 <= d_min <= d_max (Å), got {self.bond_window}")
        if float(self.bond_sigma) <= 0.0:
            raise ValueError(f"bond_sigma must be positive (Å), got {self.bond_sigma}")
        self.bond_window = (low, high)
        self.spec()  # descriptor settings (widths, lmax, triple) are checked by DescriptorSpec

    def spec(self) -> DescriptorSpec:
        return DescriptorSpec(widths=tuple(self.widths), lmax=self.lmax, triple=self.triple)

    def bond_sampling(self) -> BondSampling:
        return BondSampling(float(self.bond_fraction), self.bond_window, float(self.bond_sigma))


@dataclass(frozen=True)
class BondSampling:
    """Where training points are drawn: ``fraction`` of them near midpoints of pairs ``window`` Å apart.

    Attributes
    ----------
    fraction : float
        Share of a frame's points drawn near pair midpoints (0 = all uniform over the grid).
    window : (float, float)
        Pair distances (Å) whose midpoints are used.
    sigma : float
        Standard deviation (Å) of the isotropic Gaussian offset from the midpoint.
    """

    fraction: float = 0.0
    window: tuple[float, float] = BOND_WINDOW
    sigma: float = BOND_SIGMA

    def bond_points(self, ds, n_points: int, rng: np.random.Generator) -> np.ndarray:
        """Flat grid indices of ``n_points`` points drawn near pair midpoints (with replacement); an empty
        array if the structure has no pair in the window."""
        if n_points <= 0:  # uniform sampling (the recipe): no neighbour list
            return np.zeros(0, dtype=np.int64)
        shape = np.array(ds["elf"].shape)
        positions, cell = ds["positions"].values, ds["cell"].values
        _, midpoints = pair_midpoints(positions, cell, *self.window)
        if len(midpoints) == 0:
            return np.zeros(0, dtype=np.int64)
        chosen = midpoints[rng.integers(0, len(midpoints), n_points)]
        cart = grid.frac_to_cart(chosen, cell) + rng.normal(0.0, self.sigma, (n_points, 3))
        index = np.rint(grid.cart_to_frac(cart, cell) * shape).astype(np.int64) % shape
        return np.ravel_multi_index(tuple(index.T), tuple(int(n) for n in shape))


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


def frame_descriptors(ds, spec: DescriptorSpec, device: torch.device) -> torch.Tensor:
    """Descriptors of every grid point of a reference frame, ``(F, n_grid_points)`` on ``device``."""
    if "elf" not in ds:
        raise FileFormatError(f"frame {ds.attrs.get('frame_id', '?')} has no 'elf' field to train on")
    shape = tuple(int(n) for n in ds["elf"].shape)
    feats = compute_descriptors(ds["positions"].values, ds["cell"].values, shape, spec, device=device)
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
    y = torch.as_tensor(ds["elf"].values.reshape(-1)[pick], dtype=torch.float32)
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
    options = {"device": device, "resume": resume, "force": force, "progress": progress}
    if config.members > 1:
        return _train_ensemble(collection_dir, Path(out), config, **options)
    return train_single(collection_dir, Path(out), config, **options)


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
    pools = member_pools(collection_dir, [members[i] for i in todo], device=device, progress=progress)
    for i, pool in zip(todo, pools, strict=True):
        log.info("training member %d of %d (seed %d) -> %s", i + 1, config.members, members[i].seed, paths[i])
        member_resume = resume and _checkpoint_path(paths[i]).exists()
        train_single(
            collection_dir, paths[i], members[i], device=device, resume=member_resume, force=force,
            progress=progress, pools=pool,
        )
        pool.clear()  # release this member's points before the next member trains
    return join_members(collection_dir, out, paths, config, device=device)


def member_pools(
    collection_dir: str | Path, configs: Sequence[TrainConfig], *, device: str = "auto", progress: bool = False
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


def train_single(
    collection_dir: str | Path, out: Path, config: TrainConfig, *, device: str, resume: bool, force: bool,
    progress: bool, pools: dict[str, Any] | None = None,
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
        pools = member_pools(collection_dir, [config], device=device, progress=progress)[0]
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
