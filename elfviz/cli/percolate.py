"""``elfviz percolate``: percolation thresholds, networking value phi and molecularity index phi*."""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path
from typing import Any

from ..errors import FileFormatError, GridError
from ..grid import keys
from ._memory import ANALYSIS_BYTES_PER_POINT, add_max_memory, check_grid

NAME = "percolate"
HELP = "networking value phi, molecularity index phi*, 1-/2-/3-D percolation thresholds of an ELF field"
DESCRIPTION = """\
Exact percolation analysis of a periodic ELF field (one sweep over the grid, no bisection):

  t1 >= t2 >= t3   highest ELF values at which {ELF >= t} wraps around the cell in 1, 2, 3 directions
  phi = t3         networking value (Belli et al., Nat. Commun. 12, 5381 (2021))
  phi*             molecularity index: highest value at which two atoms (or an atom and its own image)
                   are linked through {ELF >= t}

With --threshold T the connected components at T are listed with their sizes, wrap ranks and atoms.

The empirical Tc estimate (Tc ~ 750 K phi - 85 K for pure hydrogen, +/- 60 K) is printed only inside its
domain: withheld for a liquid frame, for a molecular structure (no percolating bonding network: phi* - phi
> 0.1) unless --metallic says a band-structure calculation shows it is a metal, and for non-hydrogen
structures; flagged when the file names no crystal phase (see elfviz.topology.tc_verdict).

examples:
  elfviz percolate frame.nc
  elfviz percolate ELFCAR --threshold 0.5 0.7 --json
  elfviz percolate density.cube --field density --any-field
"""

log = logging.getLogger(__name__)

MAX_LISTED_COMPONENTS = 10


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", metavar="FIELD",
                        help="file with a volumetric field (.nc, .cube, .xsf, ELFCAR ...)")
    parser.add_argument("--field", default=keys.ELF, help="field to analyse (default: elf)")
    parser.add_argument("--threshold", "-t", type=float, nargs="+", metavar="T",
                        help="also list the connected components of {field >= T}")
    parser.add_argument("--connectivity", type=int, choices=(6, 18, 26), default=6,
                        help="grid neighbours: 6 faces (default), 18 + edges, 26 + corners")
    parser.add_argument("--any-field", action="store_true",
                        help="allow values outside [0, 1] (any scalar field; no Tc estimate)")
    metal = parser.add_mutually_exclusive_group()
    metal.add_argument("--metallic", dest="metallic", action="store_const", const=True, default=None,
                       help="the structure is known to be a metal (e.g. from a band structure): give the Tc "
                            "estimate even for a molecular structure")
    metal.add_argument("--insulator", dest="metallic", action="store_const", const=False,
                       help="the structure is known to be an insulator: no Tc estimate")
    parser.add_argument("--json", action="store_true", help="print one JSON document instead of text")
    add_max_memory(parser)


def read_field_file(path: str | Path, field: str) -> Any:
    """Read a field file with :func:`elfviz.io.read` (any supported format), netCDF as a fallback.

    Single-field formats (cube, XSF, ELFCAR) store no field name: a ``field`` other than ``elf`` names the
    file's field, so that e.g. a density cube loads as ``density`` instead of failing the ELF range check.
    """
    path = Path(path)
    if not path.exists():
        raise FileFormatError(f"{path} does not exist")
    try:
        from ..io import read  # all formats elfviz reads
    except ImportError:
        read = None
    if read is not None:
        return read(path, field=None if field == keys.ELF else field)
    if path.suffix.lower() in (".nc", ".nc4", ".netcdf"):
        from ..io.store import read_netcdf

        return read_netcdf(path)
    raise FileFormatError(f"cannot read {path.name}: only netCDF (.nc) is readable in this installation")


def run(args: argparse.Namespace) -> int:
    from ..topology import TcVerdict, components_at, networking_analysis

    ds = read_field_file(args.path, args.field)
    if args.field not in ds.data_vars:
        fields = [n for n, v in ds.data_vars.items() if v.ndim == 3]
        raise GridError(f"{args.path} has no field '{args.field}'" +
                        (f"; it has {fields}: choose one with --field" if fields else
                         "; it holds a structure only (no volumetric data)"))
    check_grid(ds[args.field].shape, ANALYSIS_BYTES_PER_POINT * (1 + len(args.threshold or [])),
               "the percolation analysis", args.max_memory, advice="analyse a coarser copy of the field")
    analysis = networking_analysis(ds, field=args.field, connectivity=args.connectivity,
                                   any_field=args.any_field)
    verdict = (TcVerdict("withheld", None, "not given for --any-field (the correlation is defined for the ELF)")
               if args.any_field else analysis.tc_verdict(ds, metallic=args.metallic))
    reports = [components_at(ds, t, field=args.field, connectivity=args.connectivity,
                             any_field=args.any_field) for t in (args.threshold or [])]
    if args.json:
        doc = {"file": str(args.path), "analysis": analysis.to_dict(),
               "tc_estimate": None if verdict.estimate is None else verdict.estimate.to_dict(),
               "tc_status": verdict.status, "tc_note": verdict.reason or None,
               "components": [rep.to_dict() for rep in reports]}
        print(json.dumps(doc, indent=2, allow_nan=False))
        return 0
    print(f"{args.path}:")
    print(analysis.summary())
    if verdict.estimate is not None:
        print(f"  {verdict.estimate}")
        if verdict.status == "flagged":
            print(f"  flagged: {verdict.reason}")
        print(f"  note: {verdict.estimate.caveat}")
    else:
        print(f"  Tc estimate withheld: {verdict.reason}")
    for rep in reports:
        print(_format_report(rep))
    return 0


def _format_report(rep) -> str:
    lines = [f"at {rep.field} >= {rep.threshold:g}: {rep.n_components} component(s), "
             f"{100 * rep.volume_fraction:.1f}% of the cell, dimension {rep.dimension}"]
    if rep.n_components:
        lines.append("    id      size  rank  translations          atoms")
    for k in range(min(rep.n_components, MAX_LISTED_COMPONENTS)):
        atoms = rep.atoms_in(k)
        atom_text = ",".join(map(str, atoms[:8])) + (",..." if len(atoms) > 8 else "")
        trans = ";".join(",".join(map(str, t)) for t in rep.translations[k].tolist()) or "-"
        lines.append(f"  {k:4d} {rep.sizes[k]:9d} {rep.wrap_rank[k]:5d}  {trans:20s}  "
                     f"{len(atoms)}{' (' + atom_text + ')' if len(atoms) else ''}")
    if rep.n_components > MAX_LISTED_COMPONENTS:
        rest = rep.n_components - MAX_LISTED_COMPONENTS
        rest_points = int(rep.sizes[MAX_LISTED_COMPONENTS:].sum())
        lines.append(f"  ... {rest} smaller component(s), {rest_points} points")
    n_atoms = len(rep.atom_component)
    if n_atoms:
        free = int((rep.atom_component < 0).sum())
        lines.append(f"  atoms: {n_atoms - free} of {n_atoms} inside; {len(rep.bonds)} linked pair(s)")
    return "\n".join(lines)
