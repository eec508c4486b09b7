"""Throughput of the ELF model: time per frame and grid points per second, CPU and CUDA.

Cases (atoms, grid): 64 atoms at 64^3 (CPU target <= 1 s on 2 cores) and 1000 atoms at 128^3 (CUDA target
>= 1e8 points/s). Each case is timed after a warm-up, split into descriptors (FFT) and network, best of
``--repeats``. ``--qe`` also runs the Quantum ESPRESSO reference on the 64-atom structure and grid and prints
the speed-up measured in the same run.

    python benchmarks/bench_model.py                       # CPU (or CUDA if present: --device auto)
    python benchmarks/bench_model.py --device cuda --cases 64:64,1000:128,1000:192
    python benchmarks/bench_model.py --device cpu --qe
    python benchmarks/bench_model.py --atom-channels       # + the atom-channel candidate, side by side
    python benchmarks/bench_model.py --messages            # + the message-passing candidate, side by side
    python benchmarks/bench_model.py --compare elfnet-fft@1.6   # + only this shipped model (default: all others)
"""

from __future__ import annotations

import argparse
import json
import math
import time

import numpy as np
import torch

from elfviz.grid import cell_for_rs
from elfviz.model.bundled import bundled_models
from elfviz.model.descriptors import DescriptorSpec, compute_descriptors
from elfviz.model.network import ElfEnsemble, ElfNet
from elfviz.model.predictor import BUNDLED_WEIGHTS, DEFAULT_BATCH_POINTS, Predictor, resolve_device


def liquid_like(n_atoms: int, rs: float = 1.4, seed: int = 0, gap: float = 1.0):
    """Randomly oriented H2 molecules (0.74 Å) filling the cell evenly at the density of ``rs`` (bohr).

    Molecules are placed one at a time at random positions and orientations, rejecting any with an atom
    closer than ``gap`` (Å) to an atom of another molecule (periodic): a stand-in liquid snapshot.
    """
    from ase import Atoms

    rng = np.random.default_rng(seed)
    n_mol = n_atoms // 2
    cell = cell_for_rs(rs, 2 * n_mol)
    inverse = np.linalg.inv(cell)
    placed = np.empty((0, 3))
    attempts = 0
    while len(placed) < 2 * n_mol:
        attempts += 1
        if attempts > 10_000 * n_mol:
            raise RuntimeError(f"could not place {n_mol} molecules {gap} Å apart at rs {rs}")
        centre = rng.random(3) @ cell
        axis = rng.normal(size=3)
        pair = centre + np.outer([1, -1], 0.37 * axis / np.linalg.norm(axis))
        delta = (placed[None] - pair[:, None]) @ inverse
        delta -= np.round(delta)
        if len(placed) == 0 or np.min(np.linalg.norm(delta @ cell, axis=-1)) > gap:
            placed = np.vstack([placed, pair])
    return Atoms(f"H{len(placed)}", placed, cell=cell, pbc=True)


def sync(device):
    if device.type == "cuda":
        torch.cuda.synchronize()


def time_case(predictor: Predictor, n_atoms: int, n: int, repeats: int) -> dict:
    """Best time per frame (``predict_values``) of one case; for the descriptor-network family (1.x) also the
    descriptors and the network alone (None for the message-passing family, which computes its densities per
    member)."""
    atoms = liquid_like(n_atoms)
    shape = (n, n, n)
    dev = predictor.device_obj
    predictor.predict_values(atoms.positions, atoms.cell.array, shape)  # warm-up (FFT plans, kernels)
    parts = {"descriptors": float("inf"), "network": float("inf")} if predictor.per_point else None
    total = float("inf")
    for _ in range(repeats):
        if parts is not None:
            sync(dev)
            t0 = time.perf_counter()
            with torch.inference_mode():
                feats = compute_descriptors(atoms.positions, atoms.cell.array, shape, predictor.spec, device=dev)
                sync(dev)
                t1 = time.perf_counter()
                flat = feats.reshape(feats.shape[0], -1)
                predictor.evaluate_network(flat)
                sync(dev)
                t2 = time.perf_counter()
            del feats, flat
            parts = {"descriptors": min(parts["descriptors"], t1 - t0), "network": min(parts["network"], t2 - t1)}
        sync(dev)
        t3 = time.perf_counter()
        predictor.predict_values(atoms.positions, atoms.cell.array, shape)
        sync(dev)
        total = min(total, time.perf_counter() - t3)
    spacing = float(np.linalg.norm(atoms.cell.array[0]) / n)
    return {
        "atoms": n_atoms,
        "grid": n,
        "spacing_A": round(spacing, 4),
        **(parts or {"descriptors": None, "network": None}),
        "total": total,
        "points_per_s": n**3 / total,
    }


def time_atom_channels(n_atoms: int, n: int, repeats: int, device, members: int = 4) -> dict:
    """The atom-channel candidate (elfviz.model.atom_network, untrained: speed does not depend on the weights)
    on the same structure and grid: 1.6's descriptors, the atom-weighted densities and ``members`` networks."""
    from elfviz.model.atom_channels import AtomChannelSpec, basis_channels
    from elfviz.model.atom_network import AtomMixNet

    atoms = liquid_like(n_atoms)
    shape = (n, n, n)
    fixed_spec, spec = DescriptorSpec(), AtomChannelSpec()
    nets = [AtomMixNet(fixed_spec.n_features, spec).to(device).eval() for _ in range(members)]
    batch = DEFAULT_BATCH_POINTS.get(device.type, DEFAULT_BATCH_POINTS["cpu"])
    best = {"descriptors": math.inf, "atom_densities": math.inf, "network": math.inf}
    for _ in range(repeats + 1):  # the first is the warm-up
        with torch.inference_mode():
            sync(device)
            t0 = time.perf_counter()
            fixed = compute_descriptors(atoms.positions, atoms.cell.array, shape, fixed_spec, device=device)
            sync(device)
            t1 = time.perf_counter()
            channels = basis_channels(atoms.positions, atoms.cell.array, shape, spec, device=device)
            sync(device)
            t2 = time.perf_counter()
            fixed, channels = fixed.reshape(fixed.shape[0], -1), channels.reshape(channels.shape[0], -1)
            for start in range(0, fixed.shape[1], batch):
                x, c = fixed[:, start:start + batch].T, channels[:, start:start + batch].T
                sum(net(x, c) for net in nets)
            sync(device)
            t3 = time.perf_counter()
        best = {"descriptors": min(best["descriptors"], t1 - t0),
                "atom_densities": min(best["atom_densities"], t2 - t1), "network": min(best["network"], t3 - t2)}
        del fixed, channels
    total = sum(best.values())
    return {"atoms": n_atoms, "grid": n, "members": members, **best, "total": total, "points_per_s": n**3 / total}


def time_messages(n_atoms: int, n: int, repeats: int, device, members: int = 4) -> dict:
    """The message-passing candidate with its long-wavelength head (elfviz.model.atom_network.LowKNet over
    MessageAtomNet, untrained: speed does not depend on the weights) on the same structure and grid: 1.6's
    descriptors, each member's atom channels and their densities by FFT, the member's network, and the head (the
    member on a coarse grid, the low-|G| features, one inverse FFT)."""
    from elfviz.model.atom_messages import MessageSpec, atom_graph, learned_densities
    from elfviz.model.atom_network import LowKNet, MessageAtomNet, predict_grid_messages
    from elfviz.model.lowk_head import LowKSpec, coarse_shape, head_field, mode_design

    atoms = liquid_like(n_atoms)
    shape = (n, n, n)
    fixed_spec, spec = DescriptorSpec(), MessageSpec()
    nets = [LowKNet(MessageAtomNet(fixed_spec.n_features, spec), LowKSpec()).to(device).eval()
            for _ in range(members)]
    batch = DEFAULT_BATCH_POINTS.get(device.type, DEFAULT_BATCH_POINTS["cpu"])
    nl = (spec.lmax + 1) ** 2
    cell, numbers = atoms.cell.array, atoms.numbers
    best = {"descriptors": math.inf, "atom_densities": math.inf, "network": math.inf, "head": math.inf}
    for _ in range(repeats + 1):  # the first is the warm-up
        with torch.inference_mode():
            sync(device)
            t0 = time.perf_counter()
            fixed = compute_descriptors(atoms.positions, cell, shape, fixed_spec, device=device)
            fixed = fixed.reshape(fixed.shape[0], -1)
            sync(device)
            t1 = time.perf_counter()
            densities, network, head = 0.0, 0.0, 0.0
            graph = [t.to(device) for t in atom_graph(atoms.positions, cell)]
            for net in nets:
                ta = time.perf_counter()
                rho = learned_densities(net.base.messages(*graph), atoms.positions, cell, shape, spec,
                                        device=device).reshape(net.base.channels * len(spec.widths), nl, -1)
                sync(device)
                tb = time.perf_counter()
                for start in range(0, fixed.shape[1], batch):
                    net.base.from_densities(fixed[:, start:start + batch].T,
                                            rho[:, :, start:start + batch].permute(2, 0, 1).contiguous())
                sync(device)
                tc = time.perf_counter()
                coarse = predict_grid_messages(net.base, atoms.positions, cell, coarse_shape(cell, net.spec.spacing),
                                               fixed_spec, device=device).double().numpy()
                modes, hkl = mode_design(coarse, atoms.positions, numbers, cell, net.spec)
                head_field(net.head.detach().cpu().double().numpy(), modes, hkl, shape)
                td = time.perf_counter()
                densities, network, head = densities + tb - ta, network + tc - tb, head + td - tc
        best = {"descriptors": min(best["descriptors"], t1 - t0),
                "atom_densities": min(best["atom_densities"], densities),
                "network": min(best["network"], network), "head": min(best["head"], head)}
        del fixed, rho
    total = sum(best.values())
    return {"atoms": n_atoms, "grid": n, "members": members, **best, "total": total, "points_per_s": n**3 / total}


def time_candidate(title: str, timer, rows: list[dict], label: str, repeats: int, device) -> list[dict]:
    """Time a candidate model family (``timer``: :func:`time_atom_channels` or :func:`time_messages`) on every
    case of ``rows``, printing each beside the bundled model's time of the same case."""
    print(f"{title} candidate (4 untrained members), same cases:\n{'atoms':>6} {'grid':>6} {'descr s':>9} "
          f"{'atom dens s':>12} {'network s':>10} {'head s':>7} {'total s':>9} {'vs ' + label:>12}")
    out = []
    for row in rows:
        other = timer(row["atoms"], row["grid"], repeats, device)
        out.append(other)
        print(f"{other['atoms']:>6} {other['grid']:>5}^3 {other['descriptors']:>9.3f} "
              f"{other['atom_densities']:>12.3f} {other['network']:>10.3f} "
              f"{(format(other['head'], '.3f') if 'head' in other else '-'):>7} {other['total']:>9.3f} "
              f"{other['total'] / row['total']:>11.2f}x")
    return out


def case_line(row: dict) -> str:
    """One printed row of a timed case (``-`` where the descriptors and network are not timed apart)."""
    split = " ".join(f"{'-' if row[key] is None else format(row[key], '.3f'):>{width}}"
                     for key, width in (("descriptors", 9), ("network", 10)))
    return (f"{row['atoms']:>6} {row['grid']:>5}^3 {row['spacing_A']:>7.3f} {split} {row['total']:>9.3f} "
            f"{row['points_per_s']:>10.3g}")


def compared_models(spec: str, bundled: str) -> list[str]:
    """The shipped models to time beside the bundled one: ``"others"`` (every other shipped model, the default),
    ``"none"``, or versions separated by commas (checked; the bundled one left out)."""
    shipped = bundled_models()
    if spec == "none":
        return []
    if spec in ("others", "other"):
        return [v for v in shipped if v != bundled]
    versions = [v.strip() for v in spec.split(",") if v.strip()]
    unknown = [v for v in versions if v not in shipped]
    if unknown:
        raise SystemExit(f"--compare {', '.join(unknown)}: not a shipped model; one or more of {', '.join(shipped)}, "
                         "others or none")
    return [v for v in versions if v != bundled]


def time_compared(version: str, rows: list[dict], label: str, repeats: int, device) -> dict:
    """Time shipped model ``version`` on every case of ``rows`` (same structures, grids and run), printing the
    bundled model's time over its time."""
    other = Predictor(version, device=str(device))
    print(f"{version}, same cases:")
    cases = []
    for row in rows:
        case = time_case(other, row["atoms"], row["grid"], repeats)
        cases.append(case)
        print(f"{case_line(case)}   {label} / {version}: {row['total'] / case['total']:.2f}x")
    return {"model": version, "cases": cases}


def eval_power(text: str) -> int:
    """``"2**14"`` or ``"16384"`` -> 16384 (no eval)."""
    base, _, exponent = text.strip().partition("**")
    return int(base) ** int(exponent) if exponent else int(base)


def case_features(predictor: Predictor, case: dict) -> torch.Tensor:
    """Feature-major descriptors ``(n_features, P)`` of one benchmark case's structure and grid."""
    atoms = liquid_like(case["atoms"])
    shape = (case["grid"],) * 3
    feats = compute_descriptors(atoms.positions, atoms.cell.array, shape, predictor.spec, device=predictor.device_obj)
    return feats.reshape(feats.shape[0], -1)


def best_network_time(predictor: Predictor, flat: torch.Tensor, repeats: int, batch: int | None = None) -> float:
    """Best wall time (s) of ``predictor.evaluate_network`` on ``flat`` over ``repeats + 1`` calls."""
    best = math.inf
    for _ in range(repeats + 1):
        sync(predictor.device_obj)
        t0 = time.perf_counter()
        predictor.evaluate_network(flat, batch)
        sync(predictor.device_obj)
        best = min(best, time.perf_counter() - t0)
    return best


def batch_sweep(predictor: Predictor, case: dict, sizes: list[int], repeats: int) -> list[dict]:
    """Network time of one case at several batch sizes, side by side in one run (same descriptors)."""
    flat = case_features(predictor, case)
    out = []
    print(f"network time of the {case['atoms']}-atom {case['grid']}^3 case by batch size (best of {repeats}):")
    for size in sizes:
        best = best_network_time(predictor, flat, repeats, size)
        default = " (default)" if size == predictor.batch_points else ""
        print(f"  batch {size:>8}: {best:.3f} s{default}")
        out.append({"batch_points": size, "network_s": best})
    return out


def member_versus_ensemble(predictor: Predictor, case: dict, repeats: int) -> dict:
    """Network time of one member alone and of the whole ensemble on the same descriptors (one run)."""
    flat = case_features(predictor, case)
    ensemble = predictor.network
    try:
        predictor.network = ensemble.members[0]
        t_one = best_network_time(predictor, flat, repeats)
    finally:
        predictor.network = ensemble
    t_many = best_network_time(predictor, flat, repeats)
    print(
        f"network time of the {case['atoms']}-atom {case['grid']}^3 case: one member {t_one:.3f} s, ensemble of "
        f"{ensemble.n_members} {t_many:.3f} s ({t_many / t_one:.1f}x)"
    )
    return {"member_network_s": t_one, "ensemble_network_s": t_many, "members": ensemble.n_members}


def member_phi_reuse(predictor: Predictor, case: dict, repeats: int) -> dict:
    """Members' φ right after an ensemble prediction (its member fields reused) and with them evaluated
    again, as before the predictor kept them (one run, same structure and grid)."""
    from elfviz.analysis.member_phi import member_networking_values

    atoms = liquid_like(case["atoms"])
    shape = (case["grid"],) * 3
    pred = predictor.predict(atoms, shape=shape, member_spread=True)
    reused = again = float("inf")
    for _ in range(repeats):
        t0 = time.perf_counter()
        member_networking_values(predictor, pred)
        reused = min(reused, time.perf_counter() - t0)
    for _ in range(repeats):
        predictor._last_members = None  # forget the prediction's members: evaluated once more
        t0 = time.perf_counter()
        member_networking_values(predictor, pred)
        again = min(again, time.perf_counter() - t0)
    print(
        f"members' phi of the {case['atoms']}-atom {case['grid']}^3 case after predict(member_spread=True): "
        f"{reused:.3f} s reusing the prediction's member fields, {again:.3f} s evaluating them again "
        f"({again / reused:.1f}x)"
    )
    return {"reused_s": reused, "evaluated_again_s": again}


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--device", default="auto")
    parser.add_argument("--cases", default="64:64,1000:128", help="atoms:grid,... (cubic grids)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument(
        "--weights", default=None, help="weights stem (default: bundled; untrained if absent)"
    )
    parser.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    parser.add_argument("--qe", action="store_true", help="also time the QE reference on the first case")
    parser.add_argument("--atom-channels", action="store_true",
                        help="also time the atom-channel candidate (4 members) on every case, side by side")
    parser.add_argument("--messages", action="store_true",
                        help="also time the message-passing candidate with its long-wavelength head (4 members) on "
                             "every case, side by side")
    parser.add_argument("--compare", default="others",
                        help="also time these shipped models on every case, side by side: versions separated by "
                             "commas (e.g. elfnet-fft@1.6), 'others' (default: every shipped model that is not the "
                             "bundled one) or 'none'")
    parser.add_argument("--json", default=None, help="write the results to this file")
    parser.add_argument(
        "--batch-sweep",
        default=None,
        help="also time the network of the first case at these batch sizes, e.g. 2**12,2**14,2**17",
    )
    args = parser.parse_args(argv)
    if args.threads:
        torch.set_num_threads(args.threads)
    device = resolve_device(args.device)
    weights = args.weights or BUNDLED_WEIGHTS
    try:
        predictor = Predictor(weights, device=str(device))
        label = predictor.version
    except Exception as exc:  # no bundled weights yet: time an untrained network of the default architecture
        print(f"(no usable weights: {exc}; timing an untrained network of the default architecture)")
        predictor = Predictor.__new__(Predictor)
        predictor.device_obj = device
        predictor.spec = DescriptorSpec()
        predictor.network = ElfNet(predictor.spec.n_features).to(device).eval()
        predictor.batch_points = DEFAULT_BATCH_POINTS.get(device.type, DEFAULT_BATCH_POINTS["cpu"])
        label = "untrained"
    name = (
        torch.cuda.get_device_name(device)
        if device.type == "cuda"
        else f"CPU, {torch.get_num_threads()} threads"
    )
    print(f"model {label}; {predictor.spec.n_features} descriptors; device {name}; torch {torch.__version__}")
    rows = []
    header = f"{'atoms':>6} {'grid':>6} {'step Å':>7} {'descr s':>9} {'network s':>10} {'total s':>9} {'points/s':>10}"
    print(header)
    for case in args.cases.split(","):
        n_atoms, n = (int(v) for v in case.split(":"))
        row = time_case(predictor, n_atoms, n, args.repeats)
        rows.append(row)
        print(case_line(row))
    result = {"device": name, "model": label, "cases": rows}
    others = compared_models(args.compare, label)
    if others:
        result["compare"] = [time_compared(other, rows, label, args.repeats, device) for other in others]
    candidates = [("atom_channels", "atom-channel", time_atom_channels), ("messages", "message-passing", time_messages)]
    for key, title, timer in candidates:
        if getattr(args, key):
            result[key] = time_candidate(title, timer, rows, label, args.repeats, device)
    if isinstance(predictor.network, ElfEnsemble):
        result["member_versus_ensemble"] = member_versus_ensemble(predictor, rows[0], args.repeats)
        result["member_phi_reuse"] = member_phi_reuse(predictor, rows[0], args.repeats)
    if args.batch_sweep:
        sizes = [eval_power(b) for b in args.batch_sweep.split(",")]
        result["batch_sweep"] = batch_sweep(predictor, rows[0], sizes, args.repeats)
    if args.qe:
        from elfviz.reference import reference_elf

        first = rows[0]
        atoms = liquid_like(first["atoms"])
        t0 = time.perf_counter()
        reference_elf(atoms, shape=(first["grid"],) * 3)
        t_qe = time.perf_counter() - t0
        result["qe_seconds"] = t_qe
        result["speedup_vs_qe"] = t_qe / first["total"]
        print(
            f"QE reference on the same structure and grid: {t_qe:.1f} s -> model is "
            f"{t_qe / first['total']:.0f}x faster"
        )
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(result, fh, indent=2)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
