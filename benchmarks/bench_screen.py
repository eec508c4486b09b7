"""Benchmark: screening throughput (items/s) with 1 and 2 Dask worker processes on the same structures.

Structures: the bundled C2c-24 crystal of dense hydrogen (24 atoms) compressed to ``--n-items`` densities
between rs = 1.33 and 1.55 bohr (elfviz.structures.build_phase), each a separate item. Every item is
predicted (bundled model, or the promolecular baseline when no weights are bundled or with
``--model promolecular``) and analysed (t1, t2, t3, phi, phi*, Tc estimate), exactly as ``elfviz screen``.

For each worker count a LocalCluster (processes, 1 thread each, 127.0.0.1) is started once; one warm-up
item per worker loads the model and the numba caches; then all items are timed (steady-state throughput,
``compute_s``). The cold wall time (cluster start + warm-up + run) is printed too. The in-process
``inline`` run (no Dask) shows the scheduling overhead. Speed-up = items/s(2 workers) / items/s(1 worker);
on a machine with 2 cores shared with other jobs it is bounded by the free cores (the load average is
printed).

Run:  python benchmarks/bench_screen.py [--quick] [--device cpu|cuda] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np


def make_inputs(folder: Path, n_items: int) -> list[str]:
    """Write ``n_items`` compressed C2c-24 cells to one extxyz trajectory; return the input list."""
    import ase.io

    from elfviz.structures import build_phase

    frames = [build_phase("C2c-24", rs=float(rs)) for rs in np.linspace(1.33, 1.55, n_items)]
    path = folder / "c2c24.extxyz"
    ase.io.write(path, frames, format="extxyz")
    return [str(path)]


def choose_model(name: str, device: str):
    """(model argument for screen, label): the bundled Predictor if it loads, else the promolecular ELF."""
    from elfviz.reference.promolecular import promolecular_elf

    if name == "promolecular":
        return promolecular_elf, "promolecular baseline"
    try:
        from elfviz.model import Predictor

        version = Predictor(device=device).version
        return None, f"bundled model {version} on {device}"
    except Exception as exc:
        if name == "bundled":
            raise
        print(f"note: bundled model unavailable ({exc}); timing the promolecular baseline", file=sys.stderr)
        return promolecular_elf, "promolecular baseline (no bundled weights)"


def run_on_cluster(inputs, workers: int, model, spacing: float, device: str) -> dict:
    from distributed import Client, LocalCluster

    from elfviz.screen import screen

    t0 = time.perf_counter()
    with (
        LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address=None
        ) as cluster,
        Client(cluster) as client,
    ):
        started = time.perf_counter() - t0
        # warm-up: one item per worker (model load, numba cache), each worker gets one
        warm = [
            client.submit(_warm, model, spacing, device, pure=False, workers=[w]) for w in client.nthreads()
        ]
        client.gather(warm)
        table = screen(inputs, scheduler=client, model=model, spacing=spacing, device=device)
        cold = time.perf_counter() - t0
    ok = int((table["status"] == "ok").sum())
    return {
        "workers": workers,
        "items": len(table),
        "ok": ok,
        "compute_s": table.attrs["compute_s"],
        "items_per_s": table.attrs["items_per_s"],
        "cluster_start_s": started,
        "cold_wall_s": cold,
    }


def _warm(model, spacing: float, device: str):
    from ase import Atoms

    from elfviz.screen.worker import BundledModel, screen_one

    atoms = Atoms("H2", [[0, 0, 0], [0.74, 0, 0]], cell=[2.0, 2.0, 2.0], pbc=True)
    payload = {
        "key": "warm",
        "cell": atoms.cell.array,
        "positions": atoms.positions,
        "numbers": atoms.numbers,
        "info": {},
    }
    return screen_one(payload, BundledModel(device=device) if model is None else model, spacing=spacing)[
        "row"
    ]


def run_inline(inputs, model, spacing: float, device: str) -> dict:
    from elfviz.screen import screen

    _warm(model, spacing, device)
    table = screen(inputs, scheduler="inline", model=model, spacing=spacing, device=device)
    return {
        "workers": "inline",
        "items": len(table),
        "ok": int((table["status"] == "ok").sum()),
        "compute_s": table.attrs["compute_s"],
        "items_per_s": table.attrs["items_per_s"],
        "cluster_start_s": 0.0,
        "cold_wall_s": table.attrs["wall_s"],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="6 items at 0.25 Å (default 24 items at 0.12 Å)")
    parser.add_argument("--n-items", type=int, help="number of structures")
    parser.add_argument("--spacing", type=float, help="grid spacing, Å")
    parser.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    parser.add_argument("--model", default="auto", choices=("auto", "bundled", "promolecular"))
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON records")
    args = parser.parse_args(argv)
    n_items = args.n_items or (6 if args.quick else 24)
    spacing = args.spacing or (0.25 if args.quick else 0.12)
    model, label = choose_model(args.model, args.device)
    worker_counts = (1,) if args.device == "cuda" else (1, 2)  # one GPU: more processes only share it

    print(f"screening benchmark: {n_items} C2c-24 cells (24 atoms), spacing {spacing} Å, {label}")
    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.1f}")
    with tempfile.TemporaryDirectory() as folder:
        inputs = make_inputs(Path(folder), n_items)
        results = [run_inline(inputs, model, spacing, args.device)]
        results += [run_on_cluster(inputs, w, model, spacing, args.device) for w in worker_counts]
    header = (
        f"{'workers':>8} {'items':>6} {'ok':>4} {'compute s':>10} {'items/s':>9} {'start s':>8} {'cold s':>8}"
    )
    print(header)
    print("-" * len(header))
    for r in results:
        print(
            f"{r['workers']!s:>8} {r['items']:>6} {r['ok']:>4} {r['compute_s']:>10.2f} "
            f"{r['items_per_s']:>9.2f} "
            f"{r['cluster_start_s']:>8.1f} {r['cold_wall_s']:>8.1f}"
        )
    by_workers = {r["workers"]: r for r in results}
    speedup = by_workers[2]["items_per_s"] / by_workers[1]["items_per_s"] if 2 in by_workers else None
    if speedup is not None:
        print(f"speed-up 2 workers / 1 worker: {speedup:.2f}x (load average after: {os.getloadavg()[0]:.1f})")
    if args.json:
        records = [
            {
                "benchmark": "screen",
                "metric": f"throughput, {r['workers']} worker(s)"
                if r["workers"] != "inline"
                else "throughput, inline (no Dask)",
                "value": r["items_per_s"],
                "unit": "items/s",
                "note": f"{r['items']} C2c-24 items at {spacing} Å, {label}; "
                f"cold wall {r['cold_wall_s']:.1f} s",
            }
            for r in results
        ]
        if speedup is not None:
            records.append(
                {
                    "benchmark": "screen",
                    "metric": "speed-up 2 vs 1 workers",
                    "value": speedup,
                    "unit": "x",
                    "note": f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}",
                }
            )
        Path(args.json).write_text(json.dumps(records, indent=1))
    failed = [r for r in results if r["ok"] != r["items"]]
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
