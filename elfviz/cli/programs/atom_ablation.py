"""Command line of :mod:`elfviz.model.training.atom_ablation`: ``python -m elfviz.cli.programs.atom_ablation``.

The atom-channel family against the 1.6 network, side by side (same frames, points, seeds, budget); the choice
by validation frames only; ``--test`` then scores the chosen variant and the 1.6 baseline once on the held-out
test frames and the crystals.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from elfviz.model.training import atom_ablation as _library


def format_validation(result: dict) -> str:
    """Markdown table: one row per variant, validation frames only."""
    variants = result["variants"]
    densities = list(next(iter(variants.values()))["validation"]["per_rs"])
    head = ["variant", "val R²", *[f"R² rs {rs}" for rs in densities], "val MAE", "midpoint MAE", "train s"]
    rows = [head, ["---"] * len(head)]
    for name, v in variants.items():
        val = v["validation"]
        seconds = sum(r["seconds"] for r in v["runs"])
        rows.append([name + (" (chosen)" if name == result["chosen"] else ""), f"{val['r2']:.4f}",
                     *[f"{val['per_rs'][rs]:.4f}" for rs in densities], f"{val['mae']:.4f}",
                     f"{val['midpoint_mae']:.4f}", f"{seconds:.0f}"])
    return "\n".join("| " + " | ".join(r) + " |" for r in rows)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m elfviz.cli.programs.atom_ablation",
                                     description=_library.__doc__.split("\n")[0])
    parser.add_argument("--data", default=None, help="dataset folder (default: the repository's data/dataset)")
    parser.add_argument("--out", required=True, help="folder for the networks and ablation.json")
    parser.add_argument("--variants", nargs="+", default=list(_library.VARIANTS), choices=list(_library.VARIANTS))
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("--epochs", type=int, default=20)
    parser.add_argument("--points-per-frame", type=int, default=3000)
    parser.add_argument("--channels", type=int, default=4, help="learned atom channels C (default 4)")
    parser.add_argument("--max-frames", type=int, default=None, help="training frames (an even stride)")
    parser.add_argument("--device", default="auto", help="cpu, cuda or auto (CUDA when present)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (1 beside a running pw.x)")
    parser.add_argument("--test", action="store_true",
                        help="after the choice: score it and 1.6 once on the test frames and crystals")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    import torch

    from elfviz.data import dataset_path
    from elfviz.errors import ElfvizError
    from elfviz.io.store import atomic_write

    if args.threads:
        torch.set_num_threads(args.threads)
    try:
        out = Path(args.out)
        earlier = sorted(p.name for p in (*out.glob("ablation.json"), *out.glob("test.json"), *out.glob("*.pt")))
        if earlier:
            raise ValueError(f"{out} already holds an ablation ({', '.join(earlier[:3])}"
                             f"{', ...' if len(earlier) > 3 else ''}); give --out a new folder or move those away")
        data = Path(args.data) if args.data else dataset_path()
        budget = _library.AblationBudget(points_per_frame=args.points_per_frame, epochs=args.epochs,
                                         seeds=tuple(args.seeds), max_frames=args.max_frames,
                                         device=args.device, channels=args.channels)
        result = _library.run(data, budget, args.variants, out=args.out)
        print(format_validation(result))
        if args.test:
            chosen = result["chosen"]
            names = ["1.6", chosen] if chosen != "1.6" and "1.6" in args.variants else [chosen]
            nets = {name: _library.load_variant(Path(args.out) / f"{name}-s{args.seeds[0]}.pt", name, budget)
                    for name in names}
            report = _library.score_test_split(data, nets, budget)
            text = json.dumps(report, indent=1)
            atomic_write(Path(args.out) / "test.json", lambda tmp: tmp.write_text(text))
            print(json.dumps(_library.summarise_test_split(report), indent=1))
    except (ElfvizError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
