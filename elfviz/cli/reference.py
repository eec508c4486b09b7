"""``elfviz reference``: first-principles ELF of a hydrogen structure (Quantum ESPRESSO or PySCF).

Examples
--------
::

    elfviz reference frame.xyz -o ref.nc                      # QE, reference convention, QE's own FFT grid
    elfviz reference POSCAR -o ref.nc --kmesh 3,3,3 --spacing 0.1
    elfviz reference pred.nc -o ref.nc --like pred.nc         # same grid as a prediction, for comparison
    elfviz reference frame.cif -o ref.nc --engine pyscf       # pip-only backend
"""

from __future__ import annotations

import logging
from argparse import ArgumentParser, Namespace
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ElfvizError, FileFormatError, StructureError
from ..grid import keys
from ._memory import DFT_BYTES_PER_POINT, add_max_memory, check_grid

NAME = "reference"
HELP = "first-principles reference ELF of a hydrogen structure (Quantum ESPRESSO or PySCF)"
DESCRIPTION = (
    HELP
    + """.

Defaults follow the reference convention: PBE, norm-conserving H_HSCV_PBE-1.0 pseudopotential, 60 Ry,
Fermi-Dirac smearing 0.02 Ry, Monkhorst-Pack k-mesh from a k-spacing of 0.8 1/Angstrom (shifted). Without
--spacing/--grid/--like the ELF is delivered on QE's FFT grid for the cutoff (about 0.1 Angstrom at 60 Ry);
both engines use that same grid, so their results compare point by point.
A non-converged SCF is an error unless --allow-unconverged (then scf_converged = 0 in the attrs)."""
)

log = logging.getLogger(__name__)


def add_arguments(parser: ArgumentParser) -> None:
    parser.add_argument(
        "structure",
        help="structure file (any format elfviz reads: .nc, cube, XSF, POSCAR, extxyz, cif, QE input ...)",
    )
    parser.add_argument(
        "-o", "--output", required=True, help="output file (.nc; other field formats via elfviz.io)"
    )
    parser.add_argument(
        "--index", default=None, help="frame of a multi-frame structure file (ASE index, e.g. -1)"
    )
    where = parser.add_mutually_exclusive_group()
    where.add_argument(
        "--spacing", type=float, default=None, help="largest grid spacing of the ELF, Angstrom"
    )
    where.add_argument(
        "--like", metavar="FIELD", default=None, help="deliver on the grid of this file (same cell required)"
    )
    where.add_argument("--grid", metavar="NA,NB,NC", default=None, help="deliver on exactly this grid")
    kpts = parser.add_mutually_exclusive_group()
    kpts.add_argument(
        "--kspacing",
        type=float,
        default=None,
        help="largest k-point spacing, 1/Angstrom with 2 pi (default 0.8: 2x2x2 at 64 atoms)",
    )
    kpts.add_argument(
        "--kmesh", metavar="K1,K2,K3", default=None, help="explicit Monkhorst-Pack mesh, e.g. 2,2,2"
    )
    parser.add_argument(
        "--gamma", action="store_true", help="Gamma point only (not converged below ~100 atoms)"
    )
    parser.add_argument("--no-kshift", action="store_true", help="unshifted mesh (contains Gamma)")
    parser.add_argument(
        "--ecutwfc", type=float, default=None, metavar="RY", help="wave-function cutoff, Ry (QE; default 60)"
    )
    parser.add_argument("--engine", choices=("qe", "pyscf"), default="qe", help="DFT engine (default qe)")
    parser.add_argument(
        "--np",
        type=int,
        default=None,
        dest="n_processes",
        help="MPI processes for QE / OpenMP threads for PySCF (default: all cores, at most 4)",
    )
    parser.add_argument(
        "--allow-unconverged",
        action="store_true",
        help="keep a non-converged SCF (flagged scf_converged = 0) instead of failing",
    )
    parser.add_argument(
        "--keep-files", action="store_true", help="keep QE's working directory (path in attrs)"
    )
    parser.add_argument("--timeout", type=float, default=None, help="wall-time limit per QE program, s")
    parser.add_argument("--force", action="store_true", help="overwrite the output file")
    add_max_memory(parser)


# ----------------------------------------------------------------------------- helpers (also used by tests)
def parse_triple(text: str, what: str) -> tuple[int, int, int]:
    """``"2,2,2"`` -> ``(2, 2, 2)``; a GridError (grids) or ElfvizError naming ``what`` otherwise."""
    parts = str(text).replace("x", ",").split(",")
    try:
        values = tuple(int(p) for p in parts)
    except ValueError:
        raise ElfvizError(f"{what} must be three integers like 2,2,2, got {text!r}") from None
    if len(values) != 3 or any(v < 1 for v in values):
        raise ElfvizError(f"{what} must be three integers >= 1 like 2,2,2, got {text!r}")
    return values  # type: ignore[return-value]


def read_structure(path: str, index: Any = None):
    """The structure of a file as a data-layer Dataset (fields dropped).

    Uses ``elfviz.io.read`` when available (every format elfviz reads); otherwise netCDF via
    :func:`elfviz.io.store.read_netcdf` and anything ASE reads via :func:`elfviz.grid.structure_from_atoms`
    (no grid: the engine chooses it).
    """
    from .. import grid

    file = Path(path)
    if not file.exists():
        raise FileFormatError(f"{path} does not exist")
    try:
        from .. import io as elf_io

        reader = getattr(elf_io, "read", None)
    except ImportError:
        reader = None
    if reader is not None:
        ds = reader(str(file), index=_ase_index(index)) if index is not None else reader(str(file))
        return grid.structure_only(ds)
    if file.suffix == ".nc":
        from ..io.store import read_netcdf

        return grid.structure_only(read_netcdf(file))
    import ase.io

    try:
        atoms = ase.io.read(str(file), index=_ase_index(index) if index is not None else -1)
    except Exception as exc:  # ASE raises many types for unreadable files
        raise FileFormatError(
            f"cannot read a structure from {path} ({type(exc).__name__}: {exc}); give a "
            "format ASE knows (extxyz, POSCAR, cif, pw.x input ...) or an elfviz .nc file"
        ) from None
    return grid.structure_from_atoms(atoms, source=f"file:{file.name}")


def _ase_index(index: Any) -> Any:
    try:
        return int(index)
    except (TypeError, ValueError):
        return index


def settings_from_args(args: Namespace):
    """DFTSettings from the command-line options."""
    from ..reference.settings import DFTSettings

    changes: dict[str, Any] = {}
    if args.ecutwfc is not None:
        changes["ecutwfc_ry"] = args.ecutwfc
    if args.kspacing is not None:
        changes["kspacing"] = args.kspacing
    if args.kmesh is not None:
        changes["kmesh"] = parse_triple(args.kmesh, "--kmesh")
    if args.gamma:
        if args.kmesh is not None or args.kspacing is not None:
            raise ElfvizError("--gamma cannot be combined with --kmesh or --kspacing")
        changes.update(kmesh=(1, 1, 1), kshift=False)
    if args.no_kshift:
        changes["kshift"] = False
    if args.n_processes is not None:
        if args.n_processes < 1:
            raise ElfvizError(f"--np must be at least 1, got {args.n_processes}")
        changes["mpi_processes"] = args.n_processes
    return DFTSettings(**changes)


def target_grid(args: Namespace, structure) -> tuple[float | None, tuple[int, int, int] | None]:
    """(spacing, shape) requested on the command line; ``--like`` takes the shape of another file's grid."""
    from .. import grid

    if args.grid is not None:
        shape = parse_triple(args.grid, "--grid")
        return None, grid.check_shape(shape)
    if args.like is not None:
        like = read_like(args.like)
        if not np.allclose(like[keys.CELL].values, structure[keys.CELL].values, atol=1e-4):
            raise StructureError(
                f"--like {args.like} has a different cell from {args.structure}; its grid would "
                "not describe the same points. Give --grid or --spacing instead"
            )
        return None, grid.grid_shape(like)
    if args.spacing is not None:
        grid.shape_for_spacing(structure[keys.CELL].values, args.spacing)  # validates the spacing
    return args.spacing, None


def read_like(path: str):
    """Dataset of a ``--like`` file (any field format elfviz reads)."""
    file = Path(path)
    if not file.exists():
        raise FileFormatError(f"--like file {path} does not exist")
    try:
        from .. import io as elf_io

        reader = getattr(elf_io, "read", None)
    except ImportError:
        reader = None
    if reader is not None:
        return reader(str(file))
    if file.suffix != ".nc":
        raise FileFormatError(
            f"--like needs an elfviz .nc file here (got {file.name}); elfviz.io is not available"
        )
    from ..io.store import read_netcdf

    return read_netcdf(file)


def write_result(ds, path: str, force: bool) -> Path:
    """Write the reference Dataset; .nc via the store, other formats via ``elfviz.io.write``."""
    out = Path(path)
    if out.suffix == ".nc":
        from ..io.store import write_netcdf

        return write_netcdf(ds, out, force=force)
    try:
        from .. import io as elf_io

        writer = getattr(elf_io, "write", None)
    except ImportError:
        writer = None
    if writer is None:
        raise FileFormatError(f"cannot write {out.name}: only .nc is available without elfviz.io")
    writer(ds, str(out), force=force)
    return out


def check_output(path: str, force: bool) -> None:
    """Fail before the (expensive) calculation if the output cannot be written (see :func:`elfviz.io.check_output`)."""
    from .. import io

    io.check_output(path, force=force)


def run(args: Namespace) -> int:
    from ..reference import reference_elf

    check_output(args.output, args.force)
    structure = read_structure(args.structure, args.index)
    settings = settings_from_args(args)
    spacing, shape = target_grid(args, structure)
    if args.engine == "qe":  # the FFT grid pw.x will use, known before it starts
        from ..reference.qe import choose_fft_shape

        qe_shape, _ = choose_fft_shape(structure[keys.CELL].values, settings, spacing, shape)
        check_grid(qe_shape, DFT_BYTES_PER_POINT, "the DFT reference (pw.x and pp.x)", args.max_memory,
                   advice="use a coarser ELF grid (a larger --spacing or a smaller --grid)")
    options: dict[str, Any] = {"allow_unconverged": args.allow_unconverged}
    if args.engine == "qe":
        options.update(keep_files=args.keep_files, timeout=args.timeout)
    else:
        if args.keep_files or args.timeout:
            log.warning("--keep-files and --timeout apply to Quantum ESPRESSO only; ignored for PySCF")
        if args.n_processes:
            options["threads"] = args.n_processes
    log.info("reference ELF of %s (%d atoms) with %s", args.structure, structure.sizes["atom"], args.engine)
    ds = reference_elf(
        structure, engine=args.engine, settings=settings, spacing=spacing, shape=shape, **options
    )
    out = write_result(ds, args.output, args.force)
    attrs = ds.attrs
    print(
        f"wrote {out}: ELF on a {'x'.join(map(str, ds['elf'].shape))} grid, k-mesh "
        f"{'x'.join(map(str, attrs.get('kmesh', [])))}, "
        f"E = {attrs.get('total_energy_ev', float('nan')):.4f} eV, "
        f"P = {attrs.get('pressure_gpa', float('nan')):.1f} GPa"
        + ("" if attrs.get("scf_converged", 1) else "  (SCF NOT converged)")
    )
    return 0
