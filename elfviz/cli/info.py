"""``elfviz info FILE``: what is in a structure or field file (atoms, cell, rs, density, field statistics)."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import numpy as np
import xarray as xr

from ..grid import keys

NAME = "info"
HELP = "summarise a structure or ELF file: atoms, cell, rs, density, grid and field statistics"
DESCRIPTION = """Summarise a structure or field file.

Reads any format elfviz knows (cube, XSF, ELFCAR/CHGCAR, POSCAR, CIF, extended XYZ, pw.x input,
CASTEP .cell, elfviz .nc) and prints the atoms, the cell, the Wigner-Seitz radius rs (bohr), the
mass density, the pressure if the file records one, and for every field on the grid its shape,
spacing and statistics.

examples:
  elfviz info ELFCAR
  elfviz info c2c.cif --json
  elfviz info CHGCAR --field charge
"""


def add_arguments(parser) -> None:
    parser.add_argument("file", help="structure or field file")
    parser.add_argument("--json", action="store_true", help="print a JSON object instead of text")
    parser.add_argument(
        "--field", default=None, help="name for the file's field (default 'elf'; e.g. 'charge' for a CHGCAR)"
    )
    parser.add_argument("--index", type=int, default=None, help="frame of a multi-frame file (default: last)")


def run(args) -> int:
    from .. import io

    ds = io.read(args.file, index=args.index, field=args.field)
    info = summarize(ds)
    info["file"] = str(args.file)
    if args.json:
        print(json.dumps(info, indent=2))
    else:
        print(format_text(info))
    return 0


def summarize(ds: xr.Dataset) -> dict[str, Any]:
    """A JSON-ready summary of an elfviz Dataset (what ``elfviz info`` prints).

    Returns
    -------
    dict
        ``n_atoms``, ``species`` (counts), ``formula``, ``cell`` (Å), ``cell_lengths`` (Å),
        ``cell_angles`` (degrees), ``volume_A3``, ``rs_bohr``, ``density_g_cm3``, ``pressure_gpa``
        (or None), ``min_distance_A``, ``source``, ``format``, and ``grid`` (None for a structure
        without fields, else shape, spacing in Å and per-field min/max/mean/std).

    Examples
    --------
    >>> from elfviz import grid
    >>> ds = grid.make_dataset(np.eye(3) * 3.0, [[0, 0, 0]], [1], elf=np.full((4, 4, 4), 0.25))
    >>> s = summarize(ds)
    >>> s["n_atoms"], s["grid"]["fields"]["elf"]["mean"]
    (1, 0.25)
    """
    from ase.data import chemical_symbols

    from .. import grid

    cell = ds[keys.CELL].values
    numbers = ds[keys.NUMBERS].values
    lengths = np.linalg.norm(cell, axis=1)

    def angle(u, v):
        return float(
            np.degrees(np.arccos(np.clip(np.dot(u, v) / (np.linalg.norm(u) * np.linalg.norm(v)), -1, 1)))
        )

    counts = Counter(chemical_symbols[int(z)] for z in numbers)
    formula = "".join(f"{sym}{n if n > 1 else ''}" for sym, n in sorted(counts.items()))
    min_distance = None
    if len(numbers) > 1:
        min_distance = round(grid.minimum_image_distance(ds[keys.POSITIONS].values, cell)[0], 6)
    elif len(numbers) == 1:
        min_distance = round(float(lengths.min()), 6)
    pressure = ds.attrs.get("pressure_gpa")
    info: dict[str, Any] = {
        "source": ds.attrs.get("source"),
        "format": ds.attrs.get("file_format", "netcdf"),
        "n_atoms": int(len(numbers)),
        "species": dict(sorted(counts.items())),
        "formula": formula,
        keys.CELL: np.round(cell, 6).tolist(),
        "cell_lengths": np.round(lengths, 6).tolist(),
        "cell_angles": [
            round(angle(cell[1], cell[2]), 4),
            round(angle(cell[0], cell[2]), 4),
            round(angle(cell[0], cell[1]), 4),
        ],
        "volume_A3": round(grid.cell_volume(cell), 6),
        "rs_bohr": _round(ds.attrs.get("rs_bohr")),
        "density_g_cm3": _round(ds.attrs.get("density_g_cm3")),
        "pressure_gpa": None if pressure is None else float(pressure),
        "min_distance_A": min_distance,
        "grid": None,
    }
    names = grid.field_names(ds)
    if names:
        shape = grid.grid_shape(ds)
        fields = {}
        for name in names:
            values = ds[name].values
            fields[name] = {
                "min": _round(values.min()),
                "max": _round(values.max()),
                "mean": _round(values.mean(dtype=np.float64)),
                "std": _round(values.std(dtype=np.float64)),
            }
        info["grid"] = {
            "shape": list(shape),
            "points": int(np.prod(shape)),
            "spacing_A": [round(float(length / n), 6) for length, n in zip(lengths, shape, strict=True)],
            "fields": fields,
        }
    for key in ("phase", "elf_spin_combination", "grid_origin_angstrom", "n_frames_in_file"):
        if key in ds.attrs:
            info[key] = ds.attrs[key]
    return info


def _round(value, digits: int = 6):
    if value is None:
        return None
    return round(float(value), digits)


def format_text(info: dict[str, Any]) -> str:
    """Human-readable lines for a :func:`summarize` dictionary."""
    lines = [
        f"file        {info.get('file', '')}  ({info['format']})",
        f"atoms       {info['n_atoms']}  {info['formula']}",
        "cell (Å)    " + "\n            ".join("  ".join(f"{v:10.5f}" for v in row) for row in info[keys.CELL]),
        "lengths     "
        + "  ".join(f"{v:.5f}" for v in info["cell_lengths"])
        + " Å   angles "
        + "  ".join(f"{v:.3f}" for v in info["cell_angles"])
        + "°",
        f"volume      {info['volume_A3']:.5f} Å^3",
    ]
    if info["rs_bohr"] is not None:
        lines.append(f"rs          {info['rs_bohr']:.4f} bohr")
    if info["density_g_cm3"] is not None:
        lines.append(f"density     {info['density_g_cm3']:.4f} g/cm^3")
    if info["pressure_gpa"] is not None:
        lines.append(f"pressure    {info['pressure_gpa']:g} GPa")
    if info["min_distance_A"] is not None:
        lines.append(f"closest     {info['min_distance_A']:.4f} Å (atom pair or image)")
    if info.get("phase"):
        lines.append(f"phase       {info['phase']}")
    grid_info = info["grid"]
    if grid_info is None:
        lines.append("grid        none (structure only)")
    else:
        shape = "x".join(str(n) for n in grid_info["shape"])
        spacing = ", ".join(f"{v:.4f}" for v in grid_info["spacing_A"])
        lines.append(f"grid        {shape} = {grid_info['points']} points, spacing {spacing} Å")
        for name, stats in grid_info["fields"].items():
            lines.append(
                f"  {name:<14} min {stats['min']:.5g}  max {stats['max']:.5g}  mean {stats['mean']:.5g}"
                f"  std {stats['std']:.5g}"
            )
    return "\n".join(lines)
