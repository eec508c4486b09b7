"""Command line of :mod:`elfviz.model.training.ablation`: ``python -m elfviz.cli.programs.ablation``.

Short training runs side by side: does a training setting help where the networking value is decided?
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from pathlib import Path

from elfviz.errors import ElfvizError
from elfviz.io.store import atomic_write
from elfviz.model.training import TrainConfig
from elfviz.model.training import ablation as _library
from elfviz.model.training.ablation import DEFAULT_VARIANTS, Variant, format_table, run_variants


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m elfviz.cli.programs.ablation",
                                     description=_library.__doc__.split("\n")[0])
    parser.add_argument("--data", default=None, help="FrameCollection (default: the bundled dataset)")
    parser.add_argument(
        "--variant", action="append", default=None,
        help="NAME:BOND_FRACTION[:W1,W2,...][:triple], repeatable (default: uniform:0 and bond:0.35)",
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1], help="runs per variant (default 0 1)")
    parser.add_argument("--points", type=int, default=4000, help="points per training frame (default 4000)")
    parser.add_argument("--epochs", type=int, default=20, help="epochs per run (default 20)")
    parser.add_argument("--max-frames", type=int, default=None, help="at most this many frames per split")
    parser.add_argument("--test-per-density", type=int, default=2, help="liquid test frames per density (default 2)")
    parser.add_argument("--pairs", type=float, nargs=2, default=[1.0, 1.6], metavar=("D_MIN", "D_MAX"),
                        help="pair distances (Å) whose midpoints are scored (default 1.0 1.6)")
    parser.add_argument("--lmax", type=int, default=None, help="descriptor lmax (default: the recipe's)")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"))
    parser.add_argument("--json", default=None, help="also write the full result to this JSON file")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    from ...data import dataset_path

    try:
        texts = args.variant or list(DEFAULT_VARIANTS)
        variants = [Variant.parse(t) for t in texts]
        base = TrainConfig() if args.lmax is None else TrainConfig(lmax=args.lmax)
        result = run_variants(
            args.data or dataset_path(), variants, seeds=args.seeds, points_per_frame=args.points,
            epochs=args.epochs, max_frames=args.max_frames, test_per_density=args.test_per_density,
            pairs=tuple(args.pairs), device=args.device, base=base,
        )
    except (ElfvizError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(format_table(result))
    if args.json:
        text = json.dumps(result, indent=1, default=float)
        atomic_write(Path(args.json), lambda tmp: tmp.write_text(text))
    return 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
