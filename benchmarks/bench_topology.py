"""Benchmark: exact one-sweep percolation analysis vs bisection + scipy.ndimage.label, same run.

Fields (float32, periodic, normalised to [0, 1]):
  noise    Gaussian-filtered white noise (correlation length ~ 1/16 of the cell)
  atoms    periodic sum of Gaussians (sigma 0.35 Å) around 128 random 'atoms' in a 6.4 Å cubic cell,
           built exactly with structure factors and an inverse FFT; phi* uses these atoms

Sweep: :func:`elfviz.topology.networking_analysis` (t1, t2, t3, and phi* where there are atoms).
Baseline: for each of t1, t2, t3, a bisection over the sorted distinct grid values (exact to the grid, like
the sweep) that labels {f >= t} with scipy.ndimage.label, merges labels across the periodic faces and
detects wrapping (:func:`elfviz.topology.components_at`). Both must agree exactly.

Also reported: the first-call cost (numba JIT: compiling from scratch in a fresh process with an empty
cache, and loading the on-disk cache). Wall times on a shared machine are noisy; CPU times are printed too.

Run:  python benchmarks/bench_topology.py [--quick] [--sizes 64 128] [--repeat 3] [--no-baseline]
                                          [--json PATH]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import numpy as np
from scipy import ndimage

from elfviz.topology import components_at, networking_analysis, percolation_profile


def noise_field(n: int, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    f = ndimage.gaussian_filter(rng.random((n, n, n)), sigma=n / 40, mode="wrap")
    return ((f - f.min()) / (f.max() - f.min())).astype(np.float32)


def atoms_field(n: int, n_atoms: int = 128, length: float = 6.4, sigma: float = 0.35, seed: int = 1):
    """sum_j exp(-|r - R_j|^2 / 2 sigma^2) on the periodic grid, exact via structure factors."""
    rng = np.random.default_rng(seed)
    frac = rng.random((n_atoms, 3))
    k = np.fft.fftfreq(n, 1.0 / n)
    kz = np.fft.rfftfreq(n, 1.0 / n)
    # separable structure factor: S(G) = sum_j e^{-2 pi i (h x_j + k y_j + l z_j)}
    ex = np.exp(-2j * np.pi * np.outer(frac[:, 0], k))
    ey = np.exp(-2j * np.pi * np.outer(frac[:, 1], k))
    ez = np.exp(-2j * np.pi * np.outer(frac[:, 2], kz))
    s = np.einsum("ja,jb,jc->abc", ex, ey, ez, optimize=True)
    g2 = (2 * np.pi / length) ** 2 * (k[:, None, None] ** 2 + k[None, :, None] ** 2 + kz[None, None, :] ** 2)
    gauss_hat = np.exp(-0.5 * sigma**2 * g2) * (2 * np.pi * sigma**2) ** 1.5 / length**3 * n**3
    f = np.fft.irfftn(s * gauss_hat, s=(n, n, n), axes=(0, 1, 2))
    f = np.clip(f, 0, None)
    f = (f / f.max()).astype(np.float32)
    return f, np.eye(3) * length, frac * length


def bisection_thresholds(f: np.ndarray) -> tuple[list[float], int]:
    """t1, t2, t3 by bisection over the distinct values with periodic scipy labelling; (thresholds, calls)."""
    values = np.unique(f)[::-1]  # descending; dimension(t) grows along this array
    calls = 0
    cache: dict[int, int] = {}

    def dimension(i: int) -> int:
        nonlocal calls
        if i not in cache:
            calls += 1
            cache[i] = components_at(f, float(values[i])).dimension
        return cache[i]

    out = []
    for rank in (1, 2, 3):
        lo, hi = 0, len(values) - 1  # first index with dimension >= rank lies in [lo, hi]
        while lo < hi:
            mid = (lo + hi) // 2
            if dimension(mid) >= rank:
                hi = mid
            else:
                lo = mid + 1
        out.append(float(values[lo]))
    return out, calls


def timed(func, repeat: int):
    walls, cpus, result = [], [], None
    for _ in range(repeat):
        w0, c0 = time.perf_counter(), time.process_time()
        result = func()
        walls.append(time.perf_counter() - w0)
        cpus.append(time.process_time() - c0)
    return float(np.median(walls)), float(np.median(cpus)), result


def first_call_costs() -> list[tuple[float, float]]:
    """(wall, cpu) seconds of importing elfviz.topology and analysing a tiny grid in a fresh process:
    with an empty numba cache (compiling) and with the on-disk cache."""
    code = ("import time, numpy as np; w, c = time.perf_counter(), time.process_time(); "
            "from elfviz.topology import networking_analysis, components_at; "
            "f = np.random.default_rng(0).random((6, 6, 6)).astype(np.float32); "
            "networking_analysis(f, cell=np.eye(3), positions=[[0, 0, 0]]); components_at(f, 0.5); "
            "print(time.perf_counter() - w, time.process_time() - c)")
    results = []
    with tempfile.TemporaryDirectory() as cache_dir:
        for env in ({**os.environ, "NUMBA_CACHE_DIR": cache_dir}, dict(os.environ)):
            out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                                 check=True)
            wall, cpu = out.stdout.strip().splitlines()[-1].split()
            results.append((float(wall), float(cpu)))
    return results


def record(metric: str, value: float, unit: str, note: str = "") -> dict:
    return {"benchmark": "topology", "metric": metric, "value": value, "unit": unit, "note": note}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", type=int, nargs="+", default=[64, 128], help="grid sizes n (n^3 points)")
    parser.add_argument("--repeat", type=int, default=3, help="timed repeats of the sweep (median)")
    parser.add_argument("--no-baseline", action="store_true", help="skip the bisection baseline")
    parser.add_argument("--no-jit", action="store_true", help="skip the fresh-process JIT measurement")
    parser.add_argument("--quick", action="store_true", help="64^3 only, one repeat, no JIT measurement")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as a list of JSON records")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.repeat, args.no_jit = [64], 1, True

    records: list[dict] = []
    print(f"cores: {os.cpu_count()}, load average: {os.getloadavg()[0]:.1f} (wall times include waiting "
          "for a core on a loaded machine; cpu times do not)")
    if not args.no_jit:
        (cold_wall, cold_cpu), (warm_wall, warm_cpu) = first_call_costs()
        print(f"first call in a fresh process (import + tiny float32 grid): {cold_wall:.1f} s wall / "
              f"{cold_cpu:.1f} s cpu compiling with an empty numba cache, {warm_wall:.1f} s wall / "
              f"{warm_cpu:.1f} s cpu with the on-disk cache")
        records += [record("first call, compiling (empty numba cache)", cold_wall, "s",
                           f"cpu {cold_cpu:.2f} s"),
                    record("first call, numba cache on disk", warm_wall, "s", f"cpu {warm_cpu:.2f} s")]
    networking_analysis(noise_field(8))  # load the kernels here so the table shows steady-state times
    percolation_profile(noise_field(8), [0.5])

    header = (f"{'field':6s} {'grid':>5s} {'sweep wall':>11s} {'sweep cpu':>10s} {'phi*':>5s} "
              f"{'bisect wall':>12s} {'bisect cpu':>11s} {'labels':>6s} {'speed-up':>9s} {'agree':>5s}"
              "  t1 / t2 / t3")
    print(header)
    print("-" * len(header))
    all_agree = True
    for n in args.sizes:
        for name in ("noise", "atoms"):
            if name == "noise":
                f, cell, positions = noise_field(n), None, None
            else:
                f, cell, positions = atoms_field(n)

            def sweep(f=f, cell=cell, positions=positions):
                return networking_analysis(f, cell=cell, positions=positions)

            wall, cpu, res = timed(sweep, args.repeat)
            size = f"{name} field {n}^3"
            records.append(record(f"one-sweep analysis ({size})", wall, "s", f"cpu {cpu:.3f} s"))
            with_atoms = "yes" if positions is not None else "no"
            row = f"{name:6s} {n:5d} {wall:10.3f}s {cpu:9.3f}s {with_atoms:>5s} "
            if args.no_baseline:
                row += f"{'-':>12s} {'-':>11s} {'-':>6s} {'-':>9s} {'-':>5s}"
            else:
                bwall, bcpu, (thresholds, calls) = timed(lambda f=f: bisection_thresholds(f), 1)
                agree = thresholds == list(res.thresholds)
                all_agree &= agree
                row += f"{bwall:11.3f}s {bcpu:10.3f}s {calls:6d} {bwall / wall:8.1f}x {str(agree):>5s}"
                records += [record(f"bisection + scipy labelling ({size})", bwall, "s",
                                   f"cpu {bcpu:.3f} s, {calls} labellings"),
                            record(f"speed-up vs bisection ({size})", bwall / wall, "x",
                                   f"cpu ratio {bcpu / max(cpu, 1e-9):.1f}x; agree={agree}")]
            row += f"  {res.t1:.4f} / {res.t2:.4f} / {res.t3:.4f}"
            if res.phi_star is not None:
                row += f"  phi*={res.phi_star:.4f}"
            if not args.no_baseline:
                row += f"  (cpu speed-up {bcpu / max(cpu, 1e-9):.1f}x)"
            print(row, flush=True)
        # worst case for the sweep: no early stop (every grid point processed), as for a profile
        f = noise_field(n)
        wall, cpu, _ = timed(lambda f=f: percolation_profile(f, np.linspace(0, 1, 101)), args.repeat)
        print(f"full sweep of all {n}^3 points (percolation_profile, 101 levels): {wall:.3f} s wall, "
              f"{cpu:.3f} s cpu")
        records.append(record(f"full sweep, profile ({n}^3)", wall, "s", f"cpu {cpu:.3f} s"))
    if args.json:
        with open(args.json, "w") as handle:
            json.dump(records, handle, indent=1)
    if not all_agree:
        print("ERROR: the sweep and the bisection baseline disagree", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
