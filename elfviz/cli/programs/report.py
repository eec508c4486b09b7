"""Command line of :mod:`elfviz.model.training.report`: ``python -m elfviz.cli.programs.report``.

Residual report on a dataset: ``python -m elfviz.cli.programs.report DATASET_DIR``.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from elfviz.analysis.spectra import K_BOND
from elfviz.errors import ElfvizError
from elfviz.model.training import report as _library
from elfviz.model.training.report import RESULT_FILES, evaluation_json, log, report_text, run_report, write_results

from ...model.bundled import WEIGHTS_HELP


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m elfviz.cli.programs.report",
        description=_library.__doc__.split("\n\n")[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("dataset", help="dataset directory (FrameCollection with index.csv)")
    add_dataset_options(parser)
    return parser


def add_dataset_options(parser: argparse.ArgumentParser) -> None:
    """Options shared with ``elfviz spectra --dataset``."""
    parser.add_argument(
        "--split", default="test", help="frames to evaluate: train, validation, test or all (default test)"
    )
    parser.add_argument("--phase", default="liquid", help="liquid (default), crystal, a phase name, or all")
    parser.add_argument(
        "--max-frames",
        type=int,
        default=None,
        metavar="N",
        help="at most N frames per trajectory, evenly spaced (default all)",
    )
    parser.add_argument(
        "--correction",
        default=None,
        metavar="JSON",
        help="a transferable Fourier correction: JSON from --save-correction, or 'bundled' for the one "
        "shipped for the model's version",
    )
    parser.add_argument(
        "--fit-correction",
        action="store_true",
        help="fit the transferable correction on the dataset's train frames (ridge strength on "
        "validation frames) before evaluating; runs the model on those frames",
    )
    parser.add_argument("--save-correction", default=None, metavar="JSON", help="write the fitted correction")
    parser.add_argument(
        "--max-train-frames",
        type=int,
        default=None,
        metavar="N",
        help="fit the correction on at most N frames per train/validation trajectory (default all)",
    )
    parser.add_argument("--no-baseline", action="store_true", help="skip the promolecular baseline")
    parser.add_argument("--device", default="auto", help="model device: auto, cpu or cuda")
    parser.add_argument("--weights", default=None, help=WEIGHTS_HELP)
    parser.add_argument(
        "--model",
        default="bundled",
        choices=("bundled", "promolecular"),
        help="what to analyse: the trained model (default) or the promolecular baseline itself",
    )
    parser.add_argument(
        "--cache", default=None, metavar="DIR", help="cache predictions here (netCDF per frame)"
    )
    parser.add_argument(
        "--k-cut",
        type=float,
        default=K_BOND,
        metavar="K",
        help=f"low-|G| cut in 1/Å (default 2π/0.74 Å = {K_BOND:.3f})",
    )
    parser.add_argument(
        "--group-by",
        default="rs_bohr",
        help="frame coordinate of the table rows (default rs_bohr; "
        "also pressure_gpa, trajectory, phase, frame)",
    )
    parser.add_argument(
        "--output-dir",
        default=None,
        metavar="DIR",
        help="also write metrics.nc, spectra.nc and kcut_curves.nc there",
    )
    parser.add_argument("--force", action="store_true", help="overwrite existing output files")
    parser.add_argument("--json", action="store_true", help="print JSON instead of the Markdown table")


def run_from_args(args: argparse.Namespace, dataset: str) -> int:
    try:
        from tqdm import tqdm

        progress = (
            None if getattr(args, "json", False) else (lambda it, **kw: tqdm(it, file=sys.stderr, **kw))
        )
    except ImportError:  # pragma: no cover - tqdm is a dependency
        progress = None
    if args.k_cut is not None and not args.k_cut > 0:
        raise ElfvizError(f"--k-cut must be a positive |G| in 1/Å, got {args.k_cut}")
    if args.output_dir:  # refuse before the (long) evaluation, not after it
        from ...io.store import check_writable

        for name in RESULT_FILES:
            check_writable(Path(args.output_dir) / name, args.force)
    evaluation, corr = run_report(
        dataset,
        split=args.split,
        phase=args.phase,
        max_per_trajectory=args.max_frames,
        correction=args.correction,
        fit_correction=args.fit_correction,
        save_correction=args.save_correction,
        device=args.device,
        weights=args.weights,
        cache_dir=args.cache,
        baseline=not args.no_baseline,
        k_cut=args.k_cut,
        progress=progress,
        model=args.model,
        force=args.force,
        max_train_frames=args.max_train_frames,
    )
    if args.output_dir:
        for path in write_results(evaluation, args.output_dir, force=args.force):
            log.info("wrote %s", path)
    if args.json:
        print(json.dumps(evaluation_json(evaluation, by=args.group_by), indent=1))
    else:
        print(report_text(evaluation, corr, by=args.group_by))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return run_from_args(args, args.dataset)
    except ElfvizError as exc:
        print(f"elfviz report: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
