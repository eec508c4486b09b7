"""``elfviz spectra``: residual metrics, Fourier spectra, low-|G| fraction and correlation length."""

from __future__ import annotations

import argparse
import json
import logging
import math
from pathlib import Path

from ..grid import keys

NAME = "spectra"
HELP = "residual spectra of reference/prediction pairs or of the model on a dataset"
DESCRIPTION = """\
Residual analysis (residual = reference - prediction).

  elfviz spectra REF PRED [REF PRED ...] [--json] [--k-cut K]
      metrics (R², MAE, RMSE, max error), the share of residual variance in modes |G| < K
      (default 2π/0.74 Å: wavelengths longer than the H-H bond), the correlation length (e-folding of the
      radially averaged autocorrelation), and R² after restoring the residual's |G| < K modes, per pair.
      Files: anything elfviz.io reads (.nc, .cube, .xsf, ELFCAR); each pair must be the same structure
      on the same grid. --output FILE.nc writes the spectra (dims frame, k).

  elfviz spectra --dataset DIR [--split test] [--max-frames N] [--fit-correction | --correction JSON]
      runs the bundled model and the promolecular baseline on a dataset's frames and prints the
      per-density table (the same as `python -m elfviz.cli.programs.report DIR`).
"""

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from .programs.report import add_dataset_options

    parser.add_argument(
        "files", nargs="*", metavar="REF PRED", help="reference and prediction files, in pairs"
    )
    parser.add_argument(
        "--dataset", default=None, metavar="DIR", help="evaluate the model on a dataset directory"
    )
    parser.add_argument("--ref-field", default=keys.ELF, help="field of the reference files (default elf)")
    parser.add_argument("--pred-field", default=keys.ELF, help="field of the prediction files (default elf)")
    parser.add_argument(
        "--shell-width",
        type=float,
        default=None,
        metavar="W",
        help="|G| shell width in 1/Å (default: the largest reciprocal lattice vector length)",
    )
    parser.add_argument("--output", default=None, metavar="FILE.nc", help="write the spectra (pairs mode)")
    add_dataset_options(parser)


def _read(path: str):
    from ..errors import FileFormatError

    try:
        from .. import io
    except ImportError:  # pragma: no cover - io ships with elfviz
        io = None
    if io is not None:
        return io.read(path)
    if Path(path).suffix == ".nc":
        from ..io.store import read_netcdf

        return read_netcdf(path)
    raise FileFormatError(f"cannot read {path}: only .nc files without elfviz.io")


def _pairs_report(args: argparse.Namespace) -> int:
    from ..analysis import lowpass_correction, residual_dataset, spectra_over_frames
    from ..analysis.metrics import frame_metrics
    from ..errors import ElfvizError
    from ..io.store import atomic_write, check_writable

    if len(args.files) % 2:
        raise ElfvizError(f"give files in REF PRED pairs; got {len(args.files)} file(s): {args.files}")
    if args.output:
        output = check_writable(args.output, args.force)
    residuals, lowpass = [], []
    for ref_path, pred_path in zip(args.files[::2], args.files[1::2], strict=True):
        ref, pred = _read(ref_path), _read(pred_path)
        try:
            res = residual_dataset(ref, pred, ref_field=args.ref_field, pred_field=args.pred_field)
        except ElfvizError as exc:
            raise type(exc)(f"{ref_path} vs {pred_path}: {exc}") from None
        res.attrs["frame_id"] = f"{Path(ref_path).name}|{Path(pred_path).name}"
        residuals.append(res)
        lowpass.append(lowpass_correction(res, k_cut=args.k_cut).attrs["r2_after"])
    spectra = spectra_over_frames(residuals, shell_width=args.shell_width, k_cut=args.k_cut)
    metrics = frame_metrics(residuals)
    rows = []
    for i, res in enumerate(residuals):
        rows.append(
            {
                "reference": args.files[2 * i],
                "prediction": args.files[2 * i + 1],
                "rs_bohr": res.attrs.get("rs_bohr"),
                "pressure_gpa": res.attrs.get("pressure_gpa"),
                **{name: float(metrics[name][i]) for name in ("r2", "mae", "rmse", "max_abs_error")},
                "residual_variance": float(spectra["variance"][i]),
                "lowk_fraction": float(spectra["lowk_fraction"][i]),
                "correlation_length": float(spectra["correlation_length"][i]),
                "k_centroid": float(spectra["k_centroid"][i]),
                "median_k": float(spectra["median_k"][i]),
                "bias": float(spectra["mean"][i]),
                "r2_lowpass": float(lowpass[i]),
            }
        )
    if args.output:
        out = spectra.copy()
        for coord in ("phase", "trajectory", "split", "frame"):
            if coord in out.coords:
                out[coord] = out[coord].astype(str)
        atomic_write(output, lambda tmp: out.to_netcdf(tmp, engine="h5netcdf"))
        log.info("wrote %s", output)
    if args.json:
        clean = [
            {k: (None if isinstance(v, float) and not math.isfinite(v) else v) for k, v in row.items()}
            for row in rows
        ]
        print(
            json.dumps(
                {
                    "k_cut": args.k_cut,
                    "shell_width": spectra.attrs["shell_width"],
                    "pairs": clean,
                    "k": spectra["k"].values.tolist(),
                    "power": spectra["power"].values.tolist(),
                },
                indent=1,
            )
        )
        return 0
    print(
        f"residual = reference - prediction; low-|G| cut k < {args.k_cut:.3f} 1/Å; "
        f"shells of {spectra.attrs['shell_width']:.3f} 1/Å"
    )
    header = (
        f"{'pair':<40} {'R2':>8} {'MAE':>8} {'RMSE':>8} {'max':>7} {'bias':>8} {'var.frac<k':>10} "
        f"{'xi (Å)':>7} {'k̄ (1/Å)':>8} {'λ½ (Å)':>7} {'R2 lowpass':>10}"
    )
    print(header)
    for row in rows:
        label = f"{Path(row['reference']).name} vs {Path(row['prediction']).name}"
        print(
            f"{label[:40]:<40} {row['r2']:8.4f} {row['mae']:8.4f} {row['rmse']:8.4f} "
            f"{row['max_abs_error']:7.3f} {row['bias']:+8.4f} "
            f"{row['lowk_fraction']:10.3f} {row['correlation_length']:7.3f} {row['k_centroid']:8.2f} "
            f"{2 * math.pi / row['median_k']:7.2f} {row['r2_lowpass']:10.4f}"
        )
    return 0


def run(args: argparse.Namespace) -> int:
    from ..errors import ElfvizError

    if args.k_cut is None or not args.k_cut > 0:
        raise ElfvizError(f"--k-cut must be a positive |G| in 1/Å, got {args.k_cut}")
    if args.dataset and args.files:
        raise ElfvizError("give either REF PRED file pairs or --dataset DIR, not both")
    if args.dataset:
        from .programs.report import run_from_args

        return run_from_args(args, args.dataset)
    if not args.files:
        raise ElfvizError(
            "nothing to analyse: give REF PRED file pairs or --dataset DIR (see elfviz spectra -h)"
        )
    return _pairs_report(args)
