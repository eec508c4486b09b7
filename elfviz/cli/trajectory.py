"""``elfviz trajectory TRAJ -o OUT.nc``: the ELF of every frame of an MD trajectory, phi(t), H2 fraction(t)."""

from __future__ import annotations

import argparse
import logging
import math
from pathlib import Path

from ..model.bundled import WEIGHTS_HELP
from ._memory import add_max_memory

NAME = "trajectory"
HELP = "predict the ELF of every frame of an MD trajectory: phi, phi*, components and H2 molecules over time"
DESCRIPTION = """\
Predict the ELF of every (or every N-th) frame of a hydrogen MD trajectory with the bundled model and write
one netCDF file over `frame`, with a `time` coordinate in fs where the trajectory records times (else the
frame index; --timestep FS gives the time between MD steps):

  t1, t2, t3, phi      1-, 2-, 3-D percolation thresholds; phi = t3 is the networking value
  phi_star             molecularity index
  n_components         connected components of {ELF >= isovalue} (and their percolation dimension)
  molecular_fraction   fraction of the atoms in two-atom components at the isovalue (H2 molecules)
  member_std_mean      mean spread of the 4 member networks (high: unlike the training data)
  elf                  the fields (uint16, zlib), unless --no-fields; they need one grid for every frame

Formats: extended XYZ (.xyz), ASE .traj, VASP XDATCAR, Quantum ESPRESSO pw.x MD output (.pwo), LAMMPS text
dump (.lammpstrj; type 1 = H), elfviz MD records (.npz). Hydrogen only, one atom count; the cell may change.

Finished frames are kept in OUT.nc.partial/ until the end: after an interruption the same command continues
where it stopped (another command line on that run is refused unless --force starts it again).

examples:
  elfviz trajectory md.xyz -o md-elf.nc
  elfviz trajectory XDATCAR -o elf.nc --every 10 --no-fields --isovalue 0.6
  elfviz trajectory dump.lammpstrj -o elf.nc --timestep 0.5 --grid 48,48,48 --device cuda
"""

log = logging.getLogger(__name__)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from ..trajectory import DEFAULT_ISOVALUE, TRAJECTORY_FORMATS

    parser.add_argument("trajectory", metavar="TRAJ",
                        help="MD trajectory (.xyz, .traj, XDATCAR, .pwo, .lammpstrj, .npz)")
    parser.add_argument("-o", "--output", required=True, metavar="OUT.nc", help="output netCDF file")
    parser.add_argument("--every", type=int, default=1, metavar="N", help="analyse every N-th frame (default 1)")
    grid = parser.add_mutually_exclusive_group()
    grid.add_argument("--spacing", type=float, default=None, help="largest grid spacing in Å (default 0.12)")
    grid.add_argument("--grid", default=None, metavar="NA,NB,NC", help="one grid shape for every frame, e.g. 48,48,48")
    parser.add_argument("--device", default="auto", choices=("auto", "cpu", "cuda"), help="where to run the model")
    parser.add_argument("--isovalue", type=float, default=DEFAULT_ISOVALUE, metavar="T",
                        help=f"ELF at which components and H2 molecules are counted (default {DEFAULT_ISOVALUE})")
    parser.add_argument("--no-fields", action="store_true",
                        help="store the numbers only, not the ELF fields (smaller; allows changing grids)")
    parser.add_argument("--timestep", type=float, default=None, metavar="FS",
                        help="MD time step in fs, for trajectories without times (LAMMPS steps x FS, else frame "
                             "index x FS)")
    parser.add_argument("--format", default=None, choices=sorted(TRAJECTORY_FORMATS),
                        help="trajectory format (default: from the file name)")
    parser.add_argument("--weights", default=None, help=WEIGHTS_HELP)
    parser.add_argument("--connectivity", type=int, choices=(6, 18, 26), default=6,
                        help="grid neighbours for the percolation analysis (default 6)")
    parser.add_argument("--movie", default=None, metavar="MOVIE.gif",
                        help="also write a movie of the isosurface at --isovalue (.gif, or .mp4 with ffmpeg)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.add_argument("--force", action="store_true",
                        help="overwrite the output and discard an unfinished run of it with other settings")
    add_max_memory(parser)


def run(args: argparse.Namespace) -> int:
    from ..errors import GridError, OutputError
    from ..grid import check_shape
    from ..io.store import check_writable
    from ..resources import check_fits
    from ..trajectory import analyse_trajectory, read_trajectory, scan_trajectory
    from ..trajectory.analyse import ANALYSIS_BYTES_PER_POINT
    from .predict import parse_grid

    out = Path(args.output)
    if out.suffix.lower() not in (".nc", ".nc4"):
        raise OutputError(f"{out.name}: a trajectory is written as netCDF; give an output ending in .nc")
    check_writable(out, args.force)  # before any work
    if args.movie:
        from ..viz.movie import movie_format

        movie_format(args.movie)
        if args.no_fields:
            raise GridError("--movie needs the fields: drop --no-fields")
        check_writable(args.movie, args.force)
    if args.spacing is not None and not (math.isfinite(args.spacing) and args.spacing > 0):
        raise GridError(f"--spacing must be a positive length in Å, got {args.spacing}")
    if not 0.0 <= args.isovalue <= 1.0:
        raise GridError(f"--isovalue must be an ELF value in [0, 1], got {args.isovalue}")
    shape = check_shape(parse_grid(args.grid)) if args.grid else None
    spacing = 0.12 if args.spacing is None else args.spacing
    fields = not args.no_fields
    scan = scan_trajectory(args.trajectory, args.every, format=args.format, timestep_fs=args.timestep)
    shapes = scan.grid_shapes(shape=shape, spacing=spacing)
    if fields and len(set(shapes)) > 1:
        distinct = sorted(set(shapes))
        listed = ", ".join("x".join(map(str, s)) for s in distinct[:3]) + (" ..." if len(distinct) > 3 else "")
        raise GridError(
            f"the cell changes along {Path(args.trajectory).name}, so a {spacing:g} Å spacing gives {len(distinct)} "
            f"different grids ({listed}) "
            "and the fields cannot share one array: give a fixed grid (--grid NA,NB,NC) or --no-fields")

    from ..model import Predictor

    predictor = Predictor(weights=args.weights, device=args.device)
    member_spread = predictor.n_members > 1
    largest = max(range(scan.n_frames), key=lambda k: math.prod(shapes[k]))
    check_fits(max(predictor.estimate_bytes(scan.cells[largest], shapes[largest], member_spread=member_spread),
                   math.prod(shapes[largest]) * ANALYSIS_BYTES_PER_POINT),
               f"predicting and analysing the ELF on a {'x'.join(map(str, shapes[largest]))} grid",
               max_memory=args.max_memory, advice="use a coarser grid (a larger --spacing or a smaller --grid)")
    source = Path(args.trajectory)
    settings = {"trajectory": str(source.resolve()), "trajectory_bytes": source.stat().st_size,
                "format": scan.format, "every": int(args.every), "timestep_fs": args.timestep}
    table = analyse_trajectory(
        read_trajectory(source, args.every, format=scan.format, timestep_fs=args.timestep), predictor,
        isovalue=args.isovalue, out=out, shape=shape, spacing=spacing, fields=fields, member_spread=member_spread,
        connectivity=args.connectivity, max_memory=args.max_memory, force=args.force,
        progress=not args.no_progress, total=scan.n_frames, settings=settings)
    phi, mol = table["phi"].values, table["molecular_fraction"].values
    grids = sorted({tuple(s) for s in table["grid_shape"].values.tolist()})
    time = table["time"]
    span = (f"t = {float(time[0]):g}-{float(time[-1]):g} fs" if time.attrs.get("units") == "fs"
            else "no times in the file")
    print(f"{out}: {table.sizes['frame']} of {scan.n_frames_in_file} frames ({span}), {scan.n_atoms} atoms, "
          f"grid {', '.join('x'.join(map(str, g)) for g in grids[:2])}{' ...' if len(grids) > 2 else ''}, "
          f"{predictor.version} on {predictor.device}{', fields stored' if fields else ''}")
    print(f"  phi {phi.min():.3f}-{phi.max():.3f} (mean {phi.mean():.3f}); H2 fraction at ELF >= {args.isovalue:g}: "
          f"{mol.min():.2f}-{mol.max():.2f} (mean {mol.mean():.2f}); mean member spread "
          f"{float(table['member_std_mean'].mean()):.4f}")
    if args.movie:
        from ..viz.movie import write_movie

        movie = write_movie(out, args.movie, isovalue=args.isovalue, force=args.force)
        print(f"{movie}: {table.sizes['frame']} frames of the isosurface at ELF = {args.isovalue:g}")
    return 0
