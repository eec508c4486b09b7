"""The atom-channel family against the 1.6 network, side by side: same frames, points, seeds and budget.

Variants of :class:`elfviz.model.atom_network.AtomMixNet` (``VARIANTS``):

=============  ==================================================================================
``1.6``        the 1.6 network: fixed descriptors only (learned atom channels and wide path off)
``atoms``      + learned atom channels (invariants of ``Σ_k W_ck b_k``, :mod:`elfviz.model.atom_channels`)
``wide``       + the long-wavelength path (linear response to wide atom-weighted densities)
``atoms+wide`` both
``messages``   + message-passing atom channels (:mod:`elfviz.model.atom_messages`): linear in the fixed atom
               features plus learned messages over neighbours within 2.5 Å, trained end to end through
               direct sums at the sampled points (:func:`~elfviz.model.atom_messages.atom_terms`)
=============  ==================================================================================

Any of them with ``+lowk`` adds the long-wavelength head of :mod:`elfviz.model.lowk_head` (the Fourier
correction's features of the network's own coarse-grid ELF, weights trained with the network) to the network's
ELF (elfnet-msg@2.0); ``+lowk-logit`` adds it to the network's logit, so the ELF cannot pass 1. The head joins
for the last ``lowk_epochs`` epochs, once the network's ELF means something; its features are refreshed from
the network every ``lowk_refresh`` of those epochs, and on the validation frames every epoch. (Joining from the
start diverged: features of an untrained network's ELF, refreshed every 4 epochs, took the validation R² from
0.85 to 0.62 in three epochs.)

Every variant is trained with the production recipe's loop (Adam, cosine learning rate 2e-3 -> 5e-5, mean
squared error, batches of 2048, the epoch with the best validation RMSE kept) on one pool of random grid points
of the liquid training frames, shared by all variants of a seed. **The choice uses validation frames only**:
validation R² (uniform points) and the ELF error at the grid points nearest to midpoints of atom pairs
``pairs`` Å apart (where networking saddles sit). :func:`score_test_split` then scores the chosen variant and the
``1.6`` baseline once on the held-out liquid test frames (whole grids) and, test-only, on the crystals.

Run ``python -m elfviz.cli.programs.atom_ablation --help``.
"""

from __future__ import annotations

import json
import logging
import math
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from ...grid import keys, nearest_grid_index
from ...grid.pairs import pair_midpoints
from ...io.store import FrameCollection, atomic_write
from ..atom_channels import AtomChannelSpec, basis_channels
from ..atom_messages import MessageSpec, atom_graph, atom_terms
from ..atom_network import AtomMixNet, LowKNet, MessageAtomNet, predict_any
from ..descriptors import DescriptorSpec
from ..lowk_head import LowKSpec, coarse_shape, features_at, mode_design
from ..predictor import Predictor, resolve_device
from .loop import _lr_at, regression_metrics  # the recipe's cosine schedule (reads epochs and rates)
from .pools import frame_descriptors, split_frames

log = logging.getLogger(__name__)

VARIANTS = {"1.6": (False, False), "atoms": (True, False), "wide": (False, True), "atoms+wide": (True, True),
            "messages": None}
"""Variant name -> (learned atom channels, long-wavelength path) of an AtomMixNet; None: a MessageAtomNet."""
LOWK = {"+lowk": "sum", "+lowk-logit": "logit"}
"""Suffixes of a variant with the long-wavelength head (:class:`elfviz.model.atom_network.LowKNet`) and how the
head joins the network's ELF: added to it, or to its logit."""


def variant_names() -> list[str]:
    """Every variant name the ablation knows: :data:`VARIANTS` and each with a suffix of :data:`LOWK`."""
    return [*VARIANTS, *(name + suffix for suffix in LOWK for name in VARIANTS)]


def variant_parts(name: str) -> tuple[str, str | None]:
    """``"messages+lowk"`` -> ``("messages", "sum")``, ``"messages+lowk-logit"`` -> ``("messages", "logit")``,
    ``"messages"`` -> ``("messages", None)``."""
    for suffix, mode in LOWK.items():
        if name.endswith(suffix) and name[: -len(suffix)] in VARIANTS:
            return name[: -len(suffix)], mode
    if name not in VARIANTS:
        raise ValueError(f"unknown variant {name!r}; choose from {variant_names()}")
    return name, None


FRAME_CHUNK = 128
"""Points of one frame that stay together in a ``messages`` batch (a batch then spans ~16 frames, so each step
passes messages over ~16 structures, not all)."""


@dataclass
class AblationBudget:
    """The budget every variant gets (the same for all)."""

    points_per_frame: int = 3000
    val_points_per_frame: int = 6000
    epochs: int = 20
    batch_size: int = 2048
    learning_rate: float = 2e-3
    final_learning_rate: float = 5e-5
    hidden: tuple[int, ...] = (128, 128, 64)
    channels: int = 4
    seeds: tuple[int, ...] = (0,)
    max_frames: int | None = None
    pairs: tuple[float, float] = (1.0, 1.7)
    device: str = "cpu"
    fixed: dict = field(default_factory=lambda: DescriptorSpec().to_dict())
    atom: dict = field(default_factory=lambda: AtomChannelSpec().to_dict())
    message: dict = field(default_factory=lambda: MessageSpec().to_dict())
    message_hidden: int = 32
    message_layers: int = 2
    lowk: dict = field(default_factory=lambda: LowKSpec().to_dict())
    lowk_epochs: int = 6
    lowk_refresh: int = 1

    def lowk_spec(self) -> LowKSpec:
        return LowKSpec.from_dict(self.lowk)

    def message_spec(self) -> MessageSpec:
        return MessageSpec.from_dict(self.message)

    def fixed_spec(self) -> DescriptorSpec:
        return DescriptorSpec.from_dict(self.fixed)

    def atom_spec(self) -> AtomChannelSpec:
        return AtomChannelSpec.from_dict(self.atom)


# ----------------------------------------------------------------------------- pools
def frame_arrays(ds, fixed_spec: DescriptorSpec, atom_spec: AtomChannelSpec, device: str | torch.device = "cpu"):
    """Fixed descriptors ``(F, P)`` (:func:`~elfviz.model.training.pools.frame_descriptors`), atom-weighted
    densities ``(C, P)`` (both on ``device``) and the reference ELF ``(P,)`` (CPU) of a frame."""
    fixed = frame_descriptors(ds, fixed_spec, torch.device(device))
    shape = tuple(int(n) for n in ds[keys.ELF].shape)
    channels = basis_channels(ds[keys.POSITIONS].values, ds[keys.CELL].values, shape, atom_spec, device=device)
    return fixed, channels.reshape(atom_spec.n_channels, -1), torch.as_tensor(ds[keys.ELF].values.reshape(-1),
                                                                              dtype=torch.float32)


def midpoint_indices(ds, pairs: tuple[float, float]) -> np.ndarray:
    """Flat indices of the grid points nearest to the midpoints of atom pairs ``pairs`` Å apart."""
    _, midpoints = pair_midpoints(ds[keys.POSITIONS].values, ds[keys.CELL].values, *pairs)
    return nearest_grid_index(midpoints, ds[keys.ELF].shape)


def build_pool(collection: FrameCollection, frame_ids: Sequence[str], budget: AblationBudget, n_points: int,
               seed: int, *, pairs: tuple[float, float] | None = None, messages: bool = False) -> dict[str, Any]:
    """Uniform random grid points of each frame (and, with ``pairs``, the points nearest to pair midpoints,
    flagged ``bond``): ``fixed``, ``channels``, ``y``, ``rs`` and ``bond`` per point.

    With ``messages``, also each point's per-atom terms ``terms`` ``(P, N_max, n_terms)`` (zero for the padding
    of smaller frames), its frame ``frame`` (index into ``graphs``) and every frame's atom graph ``graphs``
    (:func:`~elfviz.model.atom_messages.atom_graph`), for the ``messages`` variant.
    """
    rng = np.random.default_rng(seed)
    fixed_spec, atom_spec, device = budget.fixed_spec(), budget.atom_spec(), resolve_device(budget.device)
    parts: dict[str, list] = {"fixed": [], "channels": [], "y": [], "rs": [], "bond": [], "terms": [], "frame": [],
                              "index": []}
    graphs, structures = [], []
    for number, frame_id in enumerate(frame_ids):
        ds = collection.read(frame_id)
        fixed, channels, y = frame_arrays(ds, fixed_spec, atom_spec, device)
        pick = rng.choice(y.shape[0], size=min(n_points, y.shape[0]), replace=False)
        bond = midpoint_indices(ds, pairs) if pairs else np.zeros(0, dtype=np.int64)
        pick = np.concatenate([pick, bond])
        idx = torch.as_tensor(pick)
        parts["fixed"].append(fixed[:, idx.to(fixed.device)].T.contiguous().cpu())
        parts["channels"].append(channels[:, idx.to(channels.device)].T.contiguous().cpu())
        parts["y"].append(y[idx])
        parts["rs"].append(torch.full((len(pick),), round(float(ds.attrs.get(keys.RS_BOHR, np.nan)), 2)))
        flag = torch.zeros(len(pick), dtype=torch.bool)
        flag[len(pick) - len(bond):] = True
        parts["bond"].append(flag)
        if number % 50 == 49:
            log.info("pool: %d of %d frames", number + 1, len(frame_ids))
        positions, cell = ds[keys.POSITIONS].values, ds[keys.CELL].values
        structures.append((positions, cell, ds[keys.NUMBERS].values, tuple(int(n) for n in ds[keys.ELF].shape)))
        parts["frame"].append(torch.full((len(pick),), number, dtype=torch.int64))
        parts["index"].append(torch.as_tensor(pick, dtype=torch.int64))
        if messages:
            points = _fractional(pick, structures[-1][3]) @ cell
            parts["terms"].append(atom_terms(points, positions, cell, budget.message_spec()))
            graphs.append(atom_graph(positions, cell))
    pool = {key: torch.cat(value) for key, value in parts.items() if value and key != "terms"}
    if messages:  # one tensor filled frame by frame, each frame's part freed once copied (no second copy)
        chunks = parts.pop("terms")[::-1]  # the only references left: popping one frees it
        terms = torch.zeros((sum(len(t) for t in chunks), max(t.shape[1] for t in chunks), chunks[0].shape[2]))
        start = 0
        while chunks:
            chunk = chunks.pop()
            terms[start:start + len(chunk), :chunk.shape[1]] = chunk
            start += len(chunk)
        pool["terms"], pool["graphs"] = terms, graphs
    pool["structures"] = structures
    return pool


def frame_channels(net: MessageAtomNet, graphs: Sequence[tuple], frames: torch.Tensor, n_max: int) -> torch.Tensor:
    """Atom channels of the given frames, ``(len(frames), n_max, C)`` (zero rows pad smaller frames): one
    message pass over the frames' graphs joined into one."""
    parts = [graphs[int(f)] for f in frames]
    device = net.feature_mean.device
    sizes = [g[0].shape[0] for g in parts]
    offsets = np.concatenate([[0], np.cumsum(sizes)[:-1]])
    h = torch.cat([g[0] for g in parts]).to(device)
    source = torch.cat([g[1] + int(o) for g, o in zip(parts, offsets, strict=True)]).to(device)
    target = torch.cat([g[2] + int(o) for g, o in zip(parts, offsets, strict=True)]).to(device)
    distance = torch.cat([g[3] for g in parts]).to(device)
    flat = net.messages(h, source, target, distance)
    out = flat.new_zeros((len(parts), n_max, flat.shape[1]))
    slot = torch.cat([torch.arange(n) + i * n_max for i, n in enumerate(sizes)]).to(device)
    return out.view(-1, flat.shape[1]).index_copy(0, slot, flat).view(len(parts), n_max, -1)


def _fractional(index, shape: Sequence[int]) -> np.ndarray:
    """Fractional coordinates ``(P, 3)`` of flat grid indices on a grid of ``shape``."""
    return np.stack(np.unravel_index(np.asarray(index), shape), axis=1) / np.array(shape)


def _message_densities(net: MessageAtomNet, pool: dict[str, Any], idx: torch.Tensor) -> torch.Tensor:
    """The learned atom densities at the pool's points ``idx`` (one message pass over their frames)."""
    frames, inverse = torch.unique(pool["frame"][idx], return_inverse=True)
    terms = pool["terms"][idx]
    return net.densities(terms, frame_channels(net, pool["graphs"], frames, terms.shape[1])[inverse])


def _forward(net, pool: dict[str, Any], idx: torch.Tensor) -> torch.Tensor:
    """The network's ELF at the pool's points ``idx``."""
    if isinstance(net, LowKNet):  # before the head joins, the pool has no features and the head is zero
        base = _forward(net.base, pool, idx)
        return net.combine(base, pool["phi"][idx] @ net.head) if "phi" in pool else base
    if isinstance(net, AtomMixNet):
        return net(pool["fixed"][idx], pool["channels"][idx])
    return net.from_densities(pool["fixed"][idx], _message_densities(net, pool, idx))


def frame_grouped_order(frame: torch.Tensor, generator: torch.Generator, chunk: int = FRAME_CHUNK) -> torch.Tensor:
    """A random order of the points in which runs of ``chunk`` points share a frame (random chunks, random
    points in each)."""
    order = torch.randperm(len(frame), generator=generator)
    order = order[torch.argsort(frame[order], stable=True)]  # by frame, random within
    starts = torch.nonzero(torch.diff(frame[order], prepend=torch.tensor([-1]))).squeeze(1).tolist()
    bounds = starts + [len(order)]
    chunks = [order[i:min(i + chunk, stop)] for start, stop in zip(bounds[:-1], bounds[1:], strict=True)
              for i in range(start, stop, chunk)]
    return torch.cat([chunks[i] for i in torch.randperm(len(chunks), generator=generator).tolist()])


# ----------------------------------------------------------------------------- training
@torch.no_grad()
def refresh_lowk(net: LowKNet, pool: dict[str, Any], budget: AblationBudget) -> None:
    """The head's features at the pool's points from the network as it is now (``pool["phi"]``)."""
    spec, fixed_spec = net.spec, budget.fixed_spec()
    device = net.head.device
    phi = torch.zeros((len(pool["y"]), spec.n_features))
    frame, index = pool["frame"].cpu(), pool["index"].cpu()
    for number, (positions, cell, numbers, shape) in enumerate(pool["structures"]):
        rows = torch.nonzero(frame == number).squeeze(1)
        coarse = predict_any(net.base, positions, cell, numbers, coarse_shape(cell, spec.spacing), fixed_spec,
                             device=device).double().numpy()
        modes, hkl = mode_design(coarse, positions, numbers, cell, spec)
        fractional = _fractional(index[rows].numpy(), shape)
        phi[rows] = torch.as_tensor(features_at(modes, hkl, fractional), dtype=torch.float32)
    pool["phi"] = phi.to(device)


def new_network(name: str, budget: AblationBudget) -> AtomMixNet | MessageAtomNet | LowKNet:
    """An untrained network of a variant (:func:`variant_names`) with the budget's sizes."""
    name, lowk = variant_parts(name)
    if lowk:
        return LowKNet(new_network(name, budget), budget.lowk_spec(), mode=lowk)
    if VARIANTS[name] is None:
        return MessageAtomNet(budget.fixed_spec().n_features, budget.message_spec(), channels=budget.channels,
                              hidden=budget.hidden, message_hidden=budget.message_hidden,
                              layers=budget.message_layers)
    atoms, wide = VARIANTS[name]
    return AtomMixNet(budget.fixed_spec().n_features, budget.atom_spec(), channels=budget.channels,
                      hidden=budget.hidden, atoms=atoms, wide=wide)


@torch.no_grad()
def pool_predictions(net, pool: dict[str, Any], batch: int = 16384) -> torch.Tensor:
    net.eval()
    n = len(pool["y"])
    return torch.cat([_forward(net, pool, torch.arange(i, min(i + batch, n))) for i in range(0, n, batch)])


@torch.no_grad()
def _fit_standardisation(net, pool: dict[str, Any], n: int = 200000) -> None:
    if isinstance(net, LowKNet):
        _fit_standardisation(net.base, pool, n)
        return
    if isinstance(net, AtomMixNet):
        net.fit_standardisation(pool["fixed"][:n], pool["channels"][:n])
        return
    idx = torch.randperm(len(pool["y"]), generator=torch.Generator().manual_seed(0))[:n]
    mixed = [_message_densities(net, pool, idx[i:i + 16384]) for i in range(0, len(idx), 16384)]
    net.fit_standardisation(pool["fixed"][idx], torch.cat(mixed))


def validation_scores(net: AtomMixNet, pool: dict[str, Any]) -> dict[str, Any]:
    """R², MAE per density on the uniform points; MAE at the pair-midpoint points."""
    pred = pool_predictions(net, pool).cpu()
    uniform, bond = ~pool["bond"], pool["bond"]
    out = regression_metrics(pool["y"][uniform], pred[uniform])
    out["per_rs"] = {f"{float(v):.2f}": regression_metrics(pool["y"][uniform & (pool["rs"] == v)],
                                                           pred[uniform & (pool["rs"] == v)])["r2"]
                     for v in torch.unique(pool["rs"])}
    out["midpoint_mae"] = float((pred[bond] - pool["y"][bond]).abs().mean()) if bond.any() else float("nan")
    return out


def train_variant(name: str, train_pool: dict[str, Any], val_pool: dict[str, Any], budget: AblationBudget,
                  seed: int, checkpoint: Path | None = None) -> tuple[AtomMixNet | MessageAtomNet, dict[str, Any]]:
    """One run of a variant; returns the network at its best validation epoch and its record.

    With ``checkpoint``, the run's state (network, optimiser, best epoch so far, history) is written there after
    every epoch (tensors and plain values only), and a run that finds one continues after its last epoch: the
    same pools (seeded) and per-epoch orders give the same network as a run that was never stopped."""
    torch.manual_seed(seed)
    net = new_network(name, budget)
    lowk = isinstance(net, LowKNet)
    messages = isinstance(net.base if lowk else net, MessageAtomNet)
    _fit_standardisation(net, train_pool)
    device = resolve_device(budget.device)  # the pools go to the device once; validation reads back on CPU
    net.to(device)
    moved = ("fixed", "terms", "y") if messages else ("fixed", "channels", "y")
    frame = train_pool.get("frame")
    train_pool = {**train_pool, **{key: train_pool[key].to(device) for key in moved}}
    val_pool = {**val_pool, **{key: val_pool[key].to(device) for key in moved if key != "y"}}
    optimiser = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=budget.learning_rate)
    n = len(train_pool["y"])
    best, best_state, history, start, seconds = {"rmse": math.inf}, None, [], 0, 0.0
    if checkpoint is not None and checkpoint.is_file():
        saved = torch.load(checkpoint, map_location=device, weights_only=True)
        net.load_state_dict(saved["state"])
        optimiser.load_state_dict(saved["optimiser"])
        best, best_state, history = saved["best"], saved["best_state"], saved["history"]
        start, seconds = saved["epoch"] + 1, saved["seconds"]
        log.info("%s seed %d: continuing after epoch %d (%s)", name, seed, saved["epoch"], checkpoint)
    t_start = time.perf_counter() - seconds
    for epoch in range(start, budget.epochs):
        for group in optimiser.param_groups:
            group["lr"] = _lr_at(budget, epoch)
        head_on = lowk and epoch >= budget.epochs - budget.lowk_epochs
        if head_on and (epoch == start or (epoch - budget.epochs + budget.lowk_epochs) % budget.lowk_refresh == 0):
            refresh_lowk(net, train_pool, budget)
        if lowk:
            net.head.requires_grad_(head_on)  # zero, and left alone by Adam, until it joins
        generator = torch.Generator().manual_seed(seed * 100003 + epoch)
        order = (frame_grouped_order(frame, generator) if messages else torch.randperm(n, generator=generator))
        order = order.to(device)
        net.train()
        for i in range(0, n, budget.batch_size):
            idx = order[i:i + budget.batch_size]
            pred = _forward(net, train_pool, idx)
            loss = torch.mean((pred - train_pool["y"][idx]) ** 2)
            optimiser.zero_grad(set_to_none=True)
            loss.backward()
            optimiser.step()
        if head_on:
            refresh_lowk(net, val_pool, budget)
        scores = validation_scores(net, val_pool)
        history.append({"epoch": epoch, "val_r2": scores["r2"], "val_rmse": scores["rmse"],
                        "midpoint_mae": scores["midpoint_mae"]})
        log.info("%s seed %d epoch %d: val R2 %.4f MAE %.4f midpoint MAE %.4f", name, seed, epoch,
                 scores["r2"], scores["mae"], scores["midpoint_mae"])
        if scores["rmse"] < best["rmse"]:
            best = {**scores, "epoch": epoch}
            best_state = {k: v.detach().clone() for k, v in net.state_dict().items()}
        if checkpoint is not None:
            save_checkpoint(checkpoint, {"epoch": epoch, "state": net.state_dict(), "optimiser": optimiser.state_dict(),
                                         "best": best, "best_state": best_state, "history": history,
                                         "seconds": time.perf_counter() - t_start})
    net.load_state_dict(best_state)
    net.cpu()
    return net, {"best": best, "history": history, "seconds": time.perf_counter() - t_start,
                 "parameters": net.n_parameters()}


def save_checkpoint(path: Path, state: dict[str, Any]) -> None:
    """Write a run's state to ``path`` through a temporary file (a stop mid-write leaves the last one whole)."""
    tmp = path.with_name(path.name + ".part")
    torch.save(state, tmp)
    tmp.replace(path)


def budget_split(collection: FrameCollection, budget: AblationBudget) -> dict[str, Any]:
    """The training and validation frame ids of a run: :func:`~.pools.split_frames`, thinned to
    ``budget.max_frames`` by an even stride through the ordered lists (every density keeps frames)."""
    split = split_frames(collection)
    if budget.max_frames is not None:
        for key in ("train", "validation"):
            ids = split[key]
            split[key] = [ids[i] for i in np.linspace(0, len(ids) - 1, min(budget.max_frames, len(ids))).round()
                          .astype(int)]
    return split


def run(collection_dir: str | Path, budget: AblationBudget, variants: Sequence[str] = tuple(VARIANTS),
        out: str | Path | None = None) -> dict[str, Any]:
    """Train every variant once per seed on shared pools; score them on validation frames; save the networks
    (``OUT/<variant>-s<seed>.pt``, tensors only) and the record (``OUT/ablation.json``).

    With ``out``, every run keeps a checkpoint (``OUT/<variant>-s<seed>.ckpt.pt``) until the record is written,
    so calling ``run`` again with the same budget and ``out`` after a stop continues where it stopped (the pools
    are built again, from the same seeds)."""
    for name in variants:
        variant_parts(name)  # an unknown name is refused before any work
    collection = FrameCollection(collection_dir)
    split = budget_split(collection, budget)
    out = Path(out) if out is not None else None
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        _check_budget_of_folder(out, budget)
    result: dict[str, Any] = {"budget": asdict(budget), "split": {k: len(v) for k, v in split.items() if k != "scheme"},
                              "variants": {v: {"runs": []} for v in variants}}
    messages = any(VARIANTS[variant_parts(v)[0]] is None for v in variants)
    for seed in budget.seeds:
        t0 = time.perf_counter()
        train_pool = build_pool(collection, split["train"], budget, budget.points_per_frame, seed,
                                messages=messages)
        val_pool = build_pool(collection, split["validation"], budget, budget.val_points_per_frame, seed + 1,
                              pairs=budget.pairs, messages=messages)
        result.setdefault("pool_seconds", []).append(time.perf_counter() - t0)
        log.info("pools of seed %d: %d training, %d validation points (%.0f s)", seed, len(train_pool["y"]),
                 len(val_pool["y"]), time.perf_counter() - t0)
        for name in variants:
            checkpoint = out / f"{name}-s{seed}.ckpt.pt" if out is not None else None
            net, record = train_variant(name, train_pool, val_pool, budget, seed, checkpoint=checkpoint)
            result["variants"][name]["runs"].append({"seed": seed, **record})
            if out is not None:
                torch.save(net.state_dict(), out / f"{name}-s{seed}.pt")
    for name in variants:
        runs = [r["best"] for r in result["variants"][name]["runs"]]
        result["variants"][name]["validation"] = {
            key: float(np.mean([r[key] for r in runs])) for key in ("r2", "mae", "midpoint_mae")}
        result["variants"][name]["validation"]["per_rs"] = {
            rs: float(np.mean([r["per_rs"][rs] for r in runs])) for rs in runs[0]["per_rs"]}
    result["chosen"] = choose(result)
    if out is not None:
        atomic_write(out / "ablation.json", lambda tmp: Path(tmp).write_text(json.dumps(result, indent=1)))
        for seed in budget.seeds:
            for name in variants:
                (out / f"{name}-s{seed}.ckpt.pt").unlink(missing_ok=True)
    return result


def _check_budget_of_folder(out: Path, budget: AblationBudget) -> None:
    """Record the budget in ``OUT/budget.json``, or check that a stopped run there had the same one."""
    path, wanted = out / "budget.json", json.dumps(asdict(budget), sort_keys=True)
    if path.is_file() and json.dumps(json.loads(path.read_text()), sort_keys=True) != wanted:
        raise ValueError(f"{out} holds a stopped run with another budget ({path}); continue it with the same "
                         "options, or give --out a new folder")
    if not path.is_file():
        atomic_write(path, lambda tmp: Path(tmp).write_text(wanted))


def choose(result: dict[str, Any]) -> str:
    """The variant with the best validation R² (validation frames only; midpoint MAE breaks ties)."""
    scores = result["variants"]
    return max(scores, key=lambda v: (round(scores[v]["validation"]["r2"], 4),
                                      -scores[v]["validation"]["midpoint_mae"]))


def load_variant(path: str | Path, name: str, budget: AblationBudget) -> AtomMixNet | MessageAtomNet | LowKNet:
    """A network saved by :func:`run` (``OUT/<variant>-s<seed>.pt``; tensors only)."""
    net = new_network(name, budget)
    net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    return net.eval()


def budget_from_record(record: dict[str, Any]) -> AblationBudget:
    """The :class:`AblationBudget` saved in an ``ablation.json`` record (lists back to tuples)."""
    saved = dict(record["budget"])
    for key in ("hidden", "seeds", "pairs"):
        saved[key] = tuple(saved[key])
    return AblationBudget(**saved)


# ----------------------------------------------------------------------------- whole grids; the test split once
def score_test_split(collection_dir: str | Path, nets: dict[str, AtomMixNet | MessageAtomNet | LowKNet | Predictor],
                     budget: AblationBudget, split: str = "test") -> dict[str, Any]:
    """Whole-grid scores of each network on every frame of ``split``: R², MAE, the ELF error at pair midpoints
    (interpolated), the fraction of the residual's variance at ``|G| < 2π/0.74 Å`` (``lowk_fraction``) and, for
    crystals, Δφ. The default split is the held-out test frames with the crystals (test-only: score once, for
    the chosen network); ``split="validation"`` may inform the next choice."""
    from ...analysis import field_metrics
    from ...analysis.spectra import lowk_variance_fraction
    from ...topology import networking_analysis
    from .bond_midpoints import bond_midpoint_values, summarize

    collection = FrameCollection(collection_dir)
    index = collection.index
    frames = index[(index["split"].astype(str) == split)]
    out: dict[str, Any] = {name: {} for name in nets}
    for _, row in frames.iterrows():
        ref = collection.read(str(row["frame_id"]))
        for name, net in nets.items():
            field_ = _whole_grid(net, ref, budget)
            pred = ref.copy()
            pred[keys.ELF] = (ref[keys.ELF].dims, field_)
            mid = summarize(bond_midpoint_values(ref, pred, *budget.pairs))
            residual = field_ - ref[keys.ELF].values
            record = {"phase": str(row["phase"]), "rs": round(float(row["rs_bohr"]), 2),
                      **field_metrics(ref[keys.ELF].values, field_), "midpoint_mae": mid["mae"],
                      "lowk_fraction": lowk_variance_fraction(residual, cell=ref[keys.CELL].values)}
            if record["phase"] != "liquid":
                record["phi_reference"] = float(networking_analysis(ref).phi)
                record["phi_model"] = float(networking_analysis(pred).phi)
            out[name][str(row["frame_id"])] = record
    return out


def _whole_grid(net: AtomMixNet | MessageAtomNet | LowKNet | Predictor, ref, budget: AblationBudget) -> np.ndarray:
    """ELF of ``net`` on the grid of frame ``ref`` (float64): a research network through :func:`predict_any`, a
    :class:`~elfviz.model.predictor.Predictor` (the shipped model) exactly as users get it."""
    if isinstance(net, Predictor):
        return net.predict(ref, like=ref)[keys.ELF].values.astype(float)
    device = resolve_device(budget.device)
    return predict_any(net.to(device), ref[keys.POSITIONS].values, ref[keys.CELL].values, ref[keys.NUMBERS].values,
                       ref[keys.ELF].shape, budget.fixed_spec(), device=device).numpy().astype(float)


def _mean_or_nan(values: Sequence[float]) -> float:
    values = [v for v in values if np.isfinite(v)]
    return float(np.mean(values)) if values else float("nan")


def summarise_test_split(report: dict[str, Any]) -> dict[str, Any]:
    """Per network: liquid R² per density (mean over frames), liquid MAE and midpoint MAE, and every crystal's
    φ (reference, model) and |Δφ| with their mean."""
    out = {}
    for name, frames in report.items():
        liquid = [r for r in frames.values() if r["phase"] == "liquid"]
        crystals = {f: r for f, r in frames.items() if r["phase"] != "liquid"}
        densities = sorted({r["rs"] for r in liquid})
        out[name] = {
            "liquid_r2_per_rs": {f"{rs:.2f}": float(np.mean([r["r2"] for r in liquid if r["rs"] == rs]))
                                 for rs in densities},
            "liquid_mae": float(np.mean([r["mae"] for r in liquid])) if liquid else float("nan"),
            "liquid_midpoint_mae": float(np.nanmean([r["midpoint_mae"] for r in liquid])) if liquid else float("nan"),
            "liquid_lowk_fraction": _mean_or_nan([r["lowk_fraction"] for r in liquid if "lowk_fraction" in r]),
            "crystals": {f: {"phi_reference": r["phi_reference"], "phi_model": r["phi_model"],
                             "abs_dphi": abs(r["phi_model"] - r["phi_reference"])} for f, r in crystals.items()},
        }
        if crystals:
            out[name]["crystal_mean_abs_dphi"] = float(np.mean([c["abs_dphi"] for c in out[name]["crystals"].values()]))
    return out
