"""``elfviz predict STRUCTURE -o OUT``: ELF on a grid from atomic positions with the bundled model."""

from __future__ import annotations

import logging

from ..grid import keys
from ..model.bundled import WEIGHTS_HELP
from ._memory import add_max_memory

NAME = "predict"
HELP = "predict the ELF of a hydrogen structure with the bundled neural-network model"
DESCRIPTION = """Predict the ELF of a periodic hydrogen structure on a grid (milliseconds to seconds).

The grid is either a maximum spacing (default 0.12 Å), an explicit shape, or exactly the grid of an
existing field file (--like: a DFT cube, XSF, ELFCAR or elfviz .nc of the same structure), so the result can
be compared point by point with `elfviz compare`. The output format follows the file name (.nc keeps the
structure and provenance; .cube/.xsf/ELFCAR for other programs).

examples:
  elfviz predict POSCAR -o elf.nc
  elfviz predict frame.xyz -o elf.cube --grid 48,48,48 --device cuda
  elfviz predict ref.nc -o pred.nc --like ref.nc
  elfviz predict ref.nc -o pred.nc --like ref.nc --correction bundled
"""

log = logging.getLogger(__name__)


def parse_grid(text: str) -> tuple[int, int, int]:
    """``"48,48,60"`` -> (48, 48, 60), with a clear error."""
    from ..errors import GridError
    from ..grid import check_shape

    try:
        parts = [int(p) for p in text.replace("x", ",").split(",")]
    except ValueError:
        raise GridError(f"--grid must be three integers like 48,48,48, got {text!r}") from None
    return check_shape(parts)


def add_arguments(parser) -> None:
    parser.add_argument(
        "structure", help="structure or field file (POSCAR, CIF, xyz, pw.x input, cube, .nc ...)"
    )
    parser.add_argument("-o", "--output", required=True, help="output file (.nc, .cube, .xsf, ELFCAR)")
    grid = parser.add_mutually_exclusive_group()
    grid.add_argument("--spacing", type=float, default=None, help="largest grid spacing in Å (default 0.12)")
    grid.add_argument("--grid", default=None, metavar="NA,NB,NC", help="grid shape, e.g. 48,48,48")
    grid.add_argument(
        "--like",
        default=None,
        metavar="FIELD_FILE",
        help="predict on exactly the grid of this field file (same structure)",
    )
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="where to run")
    parser.add_argument(
        "--weights", default=None, help=WEIGHTS_HELP
    )
    parser.add_argument(
        "--correction",
        default="none",
        metavar="none|bundled|FILE",
        help="apply a learned Fourier correction after the network: 'bundled' (shipped for the model's "
        "version), a correction JSON fitted for these weights, or 'none' (default)",
    )
    parser.add_argument(
        "--member-spread",
        action="store_true",
        help="also write elf_member_std, the standard deviation of the ensemble's member networks at every "
        "grid point (high where the structure is unlike the training data; needs .nc or .xsf output), and "
        "print the networking value phi with the range of the members' phi (a lower bound on its uncertainty: "
        "see MODEL_CARD.md)",
    )
    parser.add_argument("--batch-points", type=int, default=None, help="grid points per network batch")
    parser.add_argument("--index", type=int, default=None, help="frame of a multi-frame structure file")
    parser.add_argument("--force", action="store_true", help="overwrite the output file")
    add_max_memory(parser)


def run(args) -> int:
    from .. import io
    from ..errors import ElfvizError
    from ..model import Predictor

    out, _ = io.check_output(args.output, force=args.force)  # format, existing file, folder: before any work
    if args.member_spread and out.suffix.lower() not in (".nc", ".xsf"):
        raise ElfvizError(
            f"--member-spread adds a second field, elf_member_std, which {out.name} cannot hold: write netCDF "
            "(-o NAME.nc) or XSF (-o NAME.xsf); `elfviz convert NAME.nc spread.cube --field elf_member_std` "
            "exports it to a cube afterwards"
        )
    structure = io.read(args.structure, index=args.index)
    like = io.read(args.like) if args.like else None
    shape = parse_grid(args.grid) if args.grid else None
    correction = None if args.correction == "none" else args.correction
    predictor = Predictor(
        weights=args.weights, device=args.device, batch_points=args.batch_points, correction=correction
    )
    ds = predictor.predict(
        structure, shape=shape, spacing=0.12 if args.spacing is None else args.spacing, like=like,
        member_spread=args.member_spread, max_memory=args.max_memory,
    )
    io.write(ds, out, force=args.force)
    elf = ds[keys.ELF].values
    print(
        f"{out}: ELF on {tuple(elf.shape)} grid, {ds.sizes['atom']} atoms, rs {ds.attrs['rs_bohr']:.3f} bohr, "
        f"{predictor.version}{' + ' + ds.attrs['correction'] if 'correction' in ds.attrs else ''} "
        f"on {predictor.device} in {ds.attrs['predict_seconds']:.2f} s "
        f"(min {elf.min():.3f}, mean {elf.mean():.3f}, max {elf.max():.3f})"
    )
    if keys.ELF_MEMBER_STD in ds:
        spread = ds[keys.ELF_MEMBER_STD].values
        print(f"member spread (std of {predictor.n_members} networks): mean {spread.mean():.4f}, "
              f"max {spread.max():.4f}")
        from ..analysis.member_phi import member_networking_values
        from ..topology import networking_analysis

        phi = networking_analysis(ds).phi
        members = member_networking_values(predictor, ds)
        print(f"networking value phi {phi:.3f} (member networks {members.min():.3f}-{members.max():.3f}"
              f"{', without the correction' if 'correction' in ds.attrs else ''})")
    return 0
