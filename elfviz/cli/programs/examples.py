"""Command line of :mod:`elfviz.data.examples`: ``python -m elfviz.cli.programs.examples``.

Build the bundled example set from the full dataset (the rule lives here, the files in ``examples/``).
"""

from __future__ import annotations

import argparse

from elfviz.data import examples as _library
from elfviz.data.examples import build_example_trajectory, build_examples


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=_library.__doc__.splitlines()[0])
    parser.add_argument("dataset", help="full dataset folder (index.csv, frames/)")
    parser.add_argument("out", help="example folder to write (elfviz/data/examples)")
    args = parser.parse_args(argv)
    chosen = build_examples(args.dataset, args.out)
    trajectory = build_example_trajectory(args.dataset, args.out)
    print(f"{len(chosen)} frames -> {args.out}; trajectory -> {trajectory}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
