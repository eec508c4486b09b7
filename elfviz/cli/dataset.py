"""``elfviz dataset``: build (or resume) the dense-hydrogen ELF dataset, and summarise one.

Examples
--------
::

    elfviz dataset build data/dataset.toml -o my-dataset --workers 2
    elfviz dataset build my.toml -o my-dataset --only rs1.20-train --only rs1.20-test
    elfviz dataset info my-dataset
"""

from __future__ import annotations

import logging
import sys
from argparse import ArgumentParser, Namespace
from pathlib import Path

from ..errors import ElfvizError

NAME = "dataset"
HELP = "build (resumable, parallel) or summarise a dense-hydrogen ELF dataset"
DESCRIPTION = (
    HELP
    + """.

`build` runs the Born-Oppenheimer MD trajectories and the Quantum ESPRESSO ELF labels described by a TOML
config (see data/dataset.toml). It resumes: finished trajectories (md/*.npz) and labelled frames
(index.csv) are skipped, and an interrupted run loses at most the frames in progress. With --workers N,
N QE runs go side by side, each with cores/N MPI processes (--cores: the cores to use in all, default all).
`info` prints frames per split, phase and density, pressures, MD settings, wall times and size on disk."""
)

log = logging.getLogger(__name__)


def add_arguments(parser: ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", metavar="ACTION")
    build = sub.add_parser("build", help="build or resume a dataset from a TOML config")
    build.add_argument("config", help="TOML build config (e.g. data/dataset.toml)")
    build.add_argument(
        "-o", "--output", required=True, help="dataset directory (created; resumed if it exists)"
    )
    build.add_argument(
        "--only",
        action="append",
        metavar="NAME",
        default=None,
        help="build only this trajectory (repeatable; no crystals)",
    )
    build.add_argument("--crystals-only", action="store_true", help="label only the crystal phases")
    build.add_argument("--skip-crystals", action="store_true", help="leave out the crystal phases")
    build.add_argument("--workers", type=int, default=1, help="QE runs side by side (default 1)")
    build.add_argument(
        "--cores",
        type=int,
        default=None,
        help="cores to use in all (default: all); each QE run gets cores/workers MPI processes",
    )
    build.add_argument(
        "--work-dir", default=None, help="scratch folder for QE runs (default DIR/../.dataset-work)"
    )
    build.add_argument(
        "--deadline",
        type=float,
        default=None,
        metavar="SECONDS",
        help="start no new QE run after this many seconds (rerun to resume)",
    )
    info = sub.add_parser("info", help="summarise a dataset directory")
    info.add_argument("directory", help="dataset directory (with index.csv)")
    info.add_argument("--config", default=None, help="its build config (for the equilibration length)")
    info.add_argument("--markdown", action="store_true", help="Markdown tables (as in DATASHEET.md)")
    info.add_argument(
        "--no-elf", action="store_true", help="skip reading the ELF fields (faster, no median ELF)"
    )


def run_build(args: Namespace) -> int:
    from ..io.store import FrameCollection
    from ..reference.dataset import DatasetConfig, build
    from ..reference.datasheet import expected_frame_ids

    if args.workers < 1:
        raise ElfvizError(f"--workers must be at least 1, got {args.workers}")
    if args.cores is not None and args.cores < 1:
        raise ElfvizError(f"--cores must be at least 1, got {args.cores}")
    if args.crystals_only and (args.only or args.skip_crystals):
        raise ElfvizError("--crystals-only cannot be combined with --only or --skip-crystals")
    config = DatasetConfig.from_toml(args.config)
    if args.only:
        unknown = sorted(set(args.only) - {t["name"] for t in config.trajectories})
        if unknown:
            raise ElfvizError(
                f"--only names unknown trajectories {unknown}; the config has "
                f"{[t['name'] for t in config.trajectories]}"
            )
    out = Path(args.output)
    if out.exists() and not out.is_dir():
        raise ElfvizError(f"{out} exists and is not a directory; give a dataset directory")
    selection = {"only": args.only, "crystals_only": args.crystals_only, "skip_crystals": args.skip_crystals}
    planned = expected_frame_ids(config, **selection)
    expected = expected_frame_ids(config, **selection, out_dir=out)
    done = set(FrameCollection(out).frame_ids()) & set(expected) if out.exists() else set()
    log.info(
        "dataset %s: %d of %d frames already built; %d to go with %d worker(s)",
        out,
        len(done),
        len(expected),
        len(expected) - len(done),
        args.workers,
    )
    from tqdm import tqdm

    with tqdm(
        total=len(expected),
        initial=len(done),
        unit="frame",
        desc="elfviz dataset",
        file=sys.stderr,
        disable=None,
        dynamic_ncols=True,
    ) as bar:

        def on_frame(frame_id: str) -> None:
            bar.set_postfix_str(frame_id, refresh=False)
            bar.update(1)

        collection = build(
            config,
            out,
            work_dir=args.work_dir,
            only=args.only,
            skip_crystals=args.skip_crystals,
            crystals_only=args.crystals_only,
            workers=args.workers,
            cores=args.cores,
            deadline_s=args.deadline,
            on_frame=on_frame,
        )
    expected = expected_frame_ids(config, **selection, out_dir=out)
    finished = set(collection.frame_ids()) & set(expected)
    print(f"{out}: {len(finished)} of {len(expected)} frames built ({len(collection)} in the collection)")
    if len(finished) < len(expected):
        print(f"{len(expected) - len(finished)} frames left: run the same command again to resume")
    if len(expected) < len(planned):
        print(
            f"{len(planned) - len(expected)} planned frames lie beyond the end of trajectories that were stopped "
            "early (truncated md/*.npz) and cannot be built from them; delete such a trajectory file to rerun "
            "its dynamics, or lower its n_frames"
        )
    return 0


def run_info(args: Namespace) -> int:
    from ..reference.datasheet import dataset_summary, summary_markdown, summary_text

    summary = dataset_summary(args.directory, with_elf=not args.no_elf, config=args.config)
    print(summary_markdown(summary) if args.markdown else summary_text(summary))
    return 0


def run(args: Namespace) -> int:
    if args.action == "build":
        return run_build(args)
    if args.action == "info":
        return run_info(args)
    raise ElfvizError("give an action: `elfviz dataset build CONFIG -o DIR` or `elfviz dataset info DIR`")
