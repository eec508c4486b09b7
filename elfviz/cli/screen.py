"""``elfviz screen``: predict the ELF of many structures on Dask and tabulate phi, phi*, t1-t3 and Tc."""

from __future__ import annotations

import argparse
import logging
import math
import sys

from ._memory import add_max_memory

NAME = "screen"
HELP = "screen many structures: predicted ELF -> phi, phi*, t1/t2/t3, rs, density, Tc estimate (Dask)"
DESCRIPTION = """\
Predict the ELF of many structures with the bundled model and compute, for each, the percolation
thresholds t1 >= t2 >= t3, the networking value phi (= t3), the molecularity index phi*, rs, the density
and the Belli et al. (2021) Tc estimate (an empirical correlation with ~60 K scatter, not a prediction).

INPUTS are structure files (every frame of a trajectory is an item), globs (quote them), ASE databases
(.db, every row), elfviz netCDF files, frame-collection folders, @dataset (the bundled dataset) or
phase:NAME (a crystal phase of elfviz.structures).

Results are appended to the CSV as each item finishes. Re-running the same command resumes: finished
items are skipped, and an interrupted run loses only the items that were still being computed. A failing
item is recorded with its error and the batch goes on. Exit status: 0 when every item succeeded, 1 when
some failed (see the error column), 2 for bad arguments or inputs.

examples:
  elfviz screen 'frames/*.extxyz' -o results.csv
  elfviz screen @dataset phase:C2c-24 --select split=test -o results.csv --netcdf results.nc
  dask scheduler --port 8786 &  dask worker tcp://127.0.0.1:8786 --nworkers 4 --nthreads 1 &
  elfviz screen md.traj -o results.csv --scheduler tcp://127.0.0.1:8786
"""

log = logging.getLogger(__name__)


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}")
    return value


def _spacing(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a grid spacing in Å, got {text!r}") from None
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"the grid spacing must be a positive number of Å, got {text!r}")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "inputs",
        nargs="+",
        metavar="INPUTS",
        help="structure files, quoted globs, .db, .nc, collection folders, @dataset, phase:NAME",
    )
    parser.add_argument(
        "-o",
        "--output",
        required=True,
        metavar="CSV",
        help="results table (CSV); re-running with the same file resumes",
    )
    parser.add_argument(
        "--netcdf", metavar="NC", help="also write the results as a netCDF Dataset over items"
    )
    parser.add_argument(
        "--fields", metavar="DIR", help="also store every predicted ELF field in this frame-collection folder"
    )
    parser.add_argument(
        "--scheduler",
        metavar="ADDRESS",
        help="Dask scheduler address (tcp://host:port) of an existing cluster; 'inline' runs "
        "in this process; default: a local cluster",
    )
    add_max_memory(parser)
    parser.add_argument(
        "--workers",
        type=_positive_int,
        metavar="N",
        help="worker processes of the local cluster (default: CPU cores; 1 with --device cuda)",
    )
    parser.add_argument(
        "--spacing",
        type=_spacing,
        default=0.12,
        metavar="Å",
        help="largest grid spacing along each lattice vector, Å (default 0.12)",
    )
    parser.add_argument(
        "--device",
        default="cpu",
        choices=("cpu", "cuda", "auto"),
        help="device of the model on the workers (default cpu)",
    )
    parser.add_argument(
        "--model",
        metavar="WEIGHTS|promolecular|MODULE:FUNCTION",
        help="a shipped model by version (e.g. elfnet-fft@1.6) or a weights file (default: the bundled "
        "model), 'promolecular' for the "
        "training-free baseline, or an importable function f(structure, *, shape) -> "
        "Dataset with 'elf' (e.g. mypackage.models:predict_elf)",
    )
    parser.add_argument(
        "--connectivity",
        type=int,
        choices=(6, 18, 26),
        default=6,
        help="voxel neighbours in the percolation analysis (default 6)",
    )
    parser.add_argument(
        "--select",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="only frames of collection folders whose index matches, e.g. split=test "
        "(repeatable; VALUE may be a comma-separated list)",
    )
    parser.add_argument(
        "--retry-errors",
        action="store_true",
        help="recompute items recorded as failed in the CSV (default: skip them)",
    )
    parser.add_argument(
        "--force",
        action="store_true",
        help="start over: replace an existing CSV (and --netcdf file) instead of resuming",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def _model(name: str | None):
    """None (bundled model), a shipped model's version, a weights path, ``promolecular`` or an importable
    ``module:function``."""
    import importlib
    import os

    if name is None:
        return None
    if name.lower() == "promolecular":
        from ..reference.promolecular import promolecular_elf

        return promolecular_elf
    from ..model.bundled import bundled_models

    if name in bundled_models():
        return os.fspath(bundled_models()[name])
    module_name, sep, function_name = name.partition(":")
    if sep and not os.path.exists(name):
        from ..errors import ModelError

        try:
            function = getattr(importlib.import_module(module_name), function_name)
        except (ImportError, AttributeError) as exc:
            raise ModelError(
                f"cannot import the model function {name!r} ({exc}); give MODULE:FUNCTION of an "
                "importable module (on PYTHONPATH, also on remote Dask workers)"
            ) from None
        if not callable(function):
            raise ModelError(f"{name!r} is not a function")
        return function
    if not os.path.exists(name):
        from ..errors import ModelError

        raise ModelError(
            f"the weights file {name} does not exist; omit --model for the bundled model or name a shipped "
            f"one ({', '.join(bundled_models())})"
        )
    return name


def _tc_text(row) -> str:
    """``Tc±scatter``, ``...*`` when flagged, ``-`` when withheld (the domain rule of tc_verdict)."""
    tc = row.get("tc_k")
    if tc is None or (isinstance(tc, float) and math.isnan(tc)):
        return "-"
    flag = "*" if row.get("tc_status") == "flagged" else ""
    return f"{tc:.0f}±{row['tc_scatter_k']:.0f}{flag}"


def summary_lines(table, limit: int = 20) -> list[str]:
    """A short fixed-width view of the results (first ``limit`` rows) for the terminal."""
    import os

    lines = [f"{'item':<34} {'status':<6} {'n':>4} {'rs':>6} {'phi':>7} {'phi*':>7} {'Tc/K':>9}"]
    for _, row in table.head(limit).iterrows():
        name = f"{os.path.basename(str(row['source']))}#{row['frame']}"
        name = name if len(name) <= 34 else "..." + name[-31:]
        if row["status"] == "ok":
            star = "-" if row["phi_star"] is None or math.isnan(row["phi_star"]) else f"{row['phi_star']:.3f}"
            lines.append(
                f"{name:<34} {'ok':<6} {int(row['n_atoms']):>4} {row['rs_bohr']:>6.3f} "
                f"{row['phi']:>7.3f} {star:>7} {_tc_text(row):>9}"
            )
        else:
            lines.append(f"{name:<34} {'error':<6} {str(row['error'])[:60]}")
    if len(table) > limit:
        lines.append(f"... {len(table) - limit} more rows")
    return lines


def run(args: argparse.Namespace) -> int:
    import os

    from ..resources import MAX_MEMORY_ENV, memory_limit

    # every local worker predicts against its share of the limit (workers inherit the environment)
    limit, _ = memory_limit(args.max_memory)
    previous = os.environ.get(MAX_MEMORY_ENV)
    if limit is not None and args.scheduler is None:
        workers = args.workers or (1 if args.device == "cuda" else (os.cpu_count() or 1))
        os.environ[MAX_MEMORY_ENV] = str(limit // workers)
    try:
        return _run(args)
    finally:
        if previous is None:
            os.environ.pop(MAX_MEMORY_ENV, None)
        else:
            os.environ[MAX_MEMORY_ENV] = previous


def _run(args: argparse.Namespace) -> int:
    from ..screen import screen
    from ..screen.inputs import parse_select

    select = parse_select(args.select) if args.select else None
    try:
        table = screen(
            args.inputs,
            out_csv=args.output,
            out_netcdf=args.netcdf,
            fields_dir=args.fields,
            scheduler=args.scheduler,
            workers=args.workers,
            spacing=args.spacing,
            device=args.device,
            force=args.force,
            model=_model(args.model),
            connectivity=args.connectivity,
            select=select,
            retry_errors=args.retry_errors,
            progress=not args.no_progress and sys.stderr.isatty(),
        )
    except KeyboardInterrupt:
        print(
            f"elfviz screen: stopped; the finished items are saved in {args.output}. Run the same command "
            "again (without --force) to resume.",
            file=sys.stderr,
        )
        raise
    figures = table.attrs
    n_ok = int((table["status"] == "ok").sum())
    for line in summary_lines(table):
        print(line)
    rate = figures.get("items_per_s", float("nan"))
    rate_text = "" if rate != rate else f", {rate:.2f} items/s on {figures.get('workers', 0)} worker(s)"
    print(
        f"{len(table)} item(s): {n_ok} ok, {len(table) - n_ok} failed; "
        f"computed {figures.get('n_computed', 0)}, "
        f"skipped {figures.get('n_skipped', 0)} already in {args.output}{rate_text}"
    )
    if n_ok:
        print(
            "Tc: empirical correlation Tc ~ 750 phi - 85 K (Belli et al. 2021, pure H), ~60 K scatter; "
            "not a model prediction. '-': withheld outside its domain (fluids, molecular structures; "
            "tc_note says why); '*': flagged (no crystal-phase provenance)."
        )
    print(
        f"results: {args.output}"
        + (f", {args.netcdf}" if args.netcdf else "")
        + (f", fields in {args.fields}" if args.fields else "")
    )
    return 0 if n_ok == len(table) else 1
