"""Command line of :mod:`elfviz.model.training.top_of_range`: ``python -m elfviz.cli.programs.top_of_range``.

Share of the grid each model puts at the top of the ELF range (≥ 0.9999, where a clipped prediction lies) and its
error in φ*, on whole liquid frames of a split, beside the reference.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from elfviz.errors import ElfvizError

from ...model.bundled import WEIGHTS_HELP


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m elfviz.cli.programs.top_of_range",
        description="The top of the ELF range: share of grid points at ELF ≥ 0.9999 and |Δφ*|, reference and "
        "models, on whole liquid frames of a split.",
        epilog="example: python -m elfviz.cli.programs.top_of_range --weights elfnet-fft@1.6 elfnet-msg@2.0 "
        "elfnet-msg@2.1",
    )
    parser.add_argument("--weights", nargs="+", default=[None], help=WEIGHTS_HELP + "; several to compare")
    parser.add_argument("--data", default=None, help="FrameCollection (default: the bundled dataset)")
    parser.add_argument("--split", default="validation", help="validation (default, to compare) or test")
    parser.add_argument("--json", default=None, help="also write every frame's figures to this JSON file")
    parser.add_argument("--device", default="cpu")
    args = parser.parse_args(argv)
    try:
        from ...data import dataset_path
        from ...io.store import FrameCollection, atomic_write
        from ...model import Predictor
        from ...model.network import same_weights
        from ...model.training.top_of_range import markdown, top_of_range

        coll = FrameCollection(Path(args.data) if args.data else dataset_path())
        predictors = {}
        for weights in args.weights:
            predictor = Predictor(weights, device=args.device)
            if any(same_weights(other.weights_path, predictor.weights_path) for other in predictors.values()):
                raise ElfvizError(f"--weights names {weights} twice; give each model once")
            # two files may carry one version (a retrained model keeps its name): tell them apart by path
            label = predictor.version if predictor.version not in predictors else f"{predictor.version} ({weights})"
            predictors[label] = predictor
        result = top_of_range(coll, predictors, split=args.split)
        if not result["frames"]:
            raise ElfvizError(f"{coll.root} has no liquid frames in split {args.split!r}")
        print(markdown(result))
        if args.json:
            text = json.dumps(result, indent=2)
            atomic_write(Path(args.json), lambda tmp: tmp.write_text(text))
    except ElfvizError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
