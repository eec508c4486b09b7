"""Command line of :mod:`elfviz.model.training.bond_midpoints`: ``python -m elfviz.cli.programs.bond_midpoints``.

ELF at the midpoints of atom pairs: reference against prediction, by pair distance.
"""

from __future__ import annotations

import argparse
import fnmatch
import sys
from collections.abc import Sequence

import xarray as xr

from elfviz.errors import ElfvizError
from elfviz.model.training.bond_midpoints import bond_midpoint_values, summarize

from ...model.bundled import WEIGHTS_HELP


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m elfviz.cli.programs.bond_midpoints",
        description="ELF at bond midpoints of a given length: reference against a model, per group of frames, "
        "or between two field files of one structure.",
        epilog="examples: python -m elfviz.cli.programs.bond_midpoints --group 'I41amd-rs1.45' "
        "--group 'rs1.47-test*' --d-min 1.12 --d-max 1.22;  "
        "python -m elfviz.cli.programs.bond_midpoints --files k333.nc label.nc --d-min 1.0 --d-max 1.7",
    )
    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--group", action="append",
                        help="frame-id pattern (fnmatch) of one group of frames; repeatable")
    source.add_argument("--files", nargs=2, metavar=("REFERENCE", "OTHER"),
                        help="two field files of the same structure on the same grid (OTHER minus REFERENCE)")
    parser.add_argument("--d-min", type=float, default=1.12, help="shortest pair distance, Å (default 1.12)")
    parser.add_argument("--d-max", type=float, default=1.22, help="longest pair distance, Å (default 1.22)")
    parser.add_argument("--max-frames", type=int, default=8, help="frames per group (default 8)")
    parser.add_argument("--data", default=None, help="FrameCollection (default: bundled dataset)")
    parser.add_argument("--weights", default=None, help=WEIGHTS_HELP)
    args = parser.parse_args(argv)
    header = f"{'group':<28} {'frames':>6} {'pairs':>6} {'ELF ref':>8} {'bias':>8} {'mean |err|':>10} {'p90 |err|':>9}"

    def row(label: str, frames: int, stats: dict[str, float]) -> str:
        return (f"{label:<28} {frames:>6} {stats['pairs']:>6} {stats['elf_reference']:>8.3f} "
                f"{stats['bias']:>+8.4f} {stats['mae']:>10.4f} {stats['p90']:>9.4f}")

    if args.files:
        from ... import io

        try:
            reference, other = (io.read(path) for path in args.files)
            stats = summarize(bond_midpoint_values(reference, other, args.d_min, args.d_max))
        except ElfvizError as exc:
            print(f"error: {exc}", file=sys.stderr)
            return 2
        print(f"{args.files[1]} against {args.files[0]}; pairs {args.d_min}-{args.d_max} Å; ELF at their "
              "midpoints (cubic spline)")
        print(header)
        print(row("files", 1, stats))
        return 0

    from ...data import dataset_path
    from ...io.store import FrameCollection
    from ...model import Predictor

    collection = FrameCollection(args.data or dataset_path())
    predictor = Predictor(args.weights)
    print(f"{predictor.version}; pairs {args.d_min}-{args.d_max} Å; ELF at their midpoints (cubic spline)")
    print(header)
    status = 0
    for pattern in args.group:
        ids = sorted(fnmatch.filter(collection.frame_ids(), pattern))[: args.max_frames]
        if not ids:
            print(f"no frame id matches {pattern!r}", file=sys.stderr)
            status = 1
            continue
        parts = []
        for frame_id in ids:
            reference = collection.read(frame_id)
            prediction = predictor.predict(reference, like=reference)
            parts.append(bond_midpoint_values(reference, prediction, args.d_min, args.d_max))
        print(row(pattern, len(ids), summarize(xr.concat(parts, dim="pair"))))
    return status


if __name__ == "__main__":
    sys.exit(main())
