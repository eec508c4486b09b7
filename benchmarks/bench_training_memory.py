"""Benchmark: time and peak memory of building the training pools, shared by ensemble members or per member.

``elfviz train`` computes the descriptors of every training frame once for all ensemble members
(:func:`elfviz.model.training.member_pools`); each member draws its own points from them. This script
measures, each in a fresh subprocess (so that the peak resident memory is its own):

* ``shared``: the pools of ``--members`` members from one descriptor pass, then the first member's feature
  standardisation (the memory peak of a training run comes here, before the first epoch);
* ``single``: the pools of one member alone, then its standardisation (what every member cost before).

Figures: seconds, peak RSS (GB) of each, and the time ratio ``members x single / shared``. Settings are
the bundled recipe's (``TrainConfig()``) on the bundled dataset; ``--max-frames`` limits the frames,
``--quick`` uses 40.

Run:  python benchmarks/bench_training_memory.py [--quick] [--members 4] [--max-frames N] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time


def measure(mode: str, members: int, max_frames: int | None) -> dict:
    """Build the pools in this process; seconds and peak resident memory (GB)."""
    from dataclasses import replace

    from elfviz.data import dataset_path
    from elfviz.model.network import ElfNet
    from elfviz.model.training import TrainConfig, member_pools

    config = replace(TrainConfig(), members=1, max_frames=max_frames)
    configs = [replace(config, seed=i) for i in range(members if mode == "shared" else 1)]
    t0 = time.perf_counter()
    pools = member_pools(dataset_path(), configs, device="cpu")
    seconds = time.perf_counter() - t0
    net = ElfNet(config.spec().n_features, hidden=config.hidden, transform=config.transform)
    net.fit_standardisation(pools[0]["train"]["x"])
    return {
        "mode": mode,
        "pools": len(pools),
        "points_per_pool": int(len(pools[0]["train"]["y"])),
        "seconds": seconds,
        "peak_rss_gb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1e6,  # kB on Linux
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="40 frames per split")
    parser.add_argument("--members", type=int, default=4, help="ensemble members (default 4, the recipe)")
    parser.add_argument("--max-frames", type=int, default=None, help="frames per split (default: all)")
    parser.add_argument("--json", metavar="PATH", help="also write the figures as JSON records")
    parser.add_argument("--measure", choices=("shared", "single"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    max_frames = args.max_frames or (40 if args.quick else None)
    if args.measure:  # child process
        print(json.dumps(measure(args.measure, args.members, max_frames)))
        return 0

    print(f"cores: {os.cpu_count()}, load average before: {os.getloadavg()[0]:.1f}")
    results = {}
    for mode in ("shared", "single"):
        cmd = [sys.executable, __file__, "--measure", mode, "--members", str(args.members)]
        if max_frames:
            cmd += ["--max-frames", str(max_frames)]
        done = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if done.returncode != 0:
            print(done.stderr, file=sys.stderr)
            return 1
        results[mode] = json.loads(done.stdout.strip().splitlines()[-1])
    shared, single = results["shared"], results["single"]
    if shared["points_per_pool"] != single["points_per_pool"]:
        print("error: the shared and single pools differ in size", file=sys.stderr)
        return 1
    ratio = args.members * single["seconds"] / shared["seconds"]
    frames = f"{max_frames} frames per split" if max_frames else "all frames"
    print(f"training pools, recipe settings, {frames}, {shared['points_per_pool']} points per pool")
    print(f"{'mode':<8} {'pools':>5} {'seconds':>8} {'peak RSS GB':>12}")
    for row in (shared, single):
        print(f"{row['mode']:<8} {row['pools']:>5} {row['seconds']:>8.1f} {row['peak_rss_gb']:>12.1f}")
    print(
        f"descriptor time, {args.members} members: one shared pass {shared['seconds']:.0f} s against "
        f"{args.members} x {single['seconds']:.0f} s per member: {ratio:.2f}x less "
        f"(load average after: {os.getloadavg()[0]:.1f})"
    )
    if args.json:
        note = f"{frames}; {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f}"
        records = [
            {"benchmark": "training_pools", "metric": f"{row['mode']}_seconds", "value": row["seconds"],
             "unit": "s", "note": note}
            for row in (shared, single)
        ] + [
            {"benchmark": "training_pools", "metric": f"{row['mode']}_peak_rss", "value": row["peak_rss_gb"],
             "unit": "GB", "note": note}
            for row in (shared, single)
        ] + [{"benchmark": "training_pools", "metric": "time_ratio", "value": ratio, "unit": "x", "note": note}]
        with open(args.json, "w") as fh:
            json.dump(records, fh, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
