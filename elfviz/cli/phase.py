"""``elfviz phase NAME --rs RS -o OUT``: build a dense-hydrogen crystal at a given density."""

from __future__ import annotations

NAME = "phase"
HELP = "build a dense-hydrogen phase at a density (--rs bohr or --pressure GPa) and write it"
DESCRIPTION = """Build a dense-hydrogen crystal phase (see `elfviz phases`) at a Wigner-Seitz radius rs
(bohr) or a pressure (GPa), optionally as a supercell, and write it (format from the file name:
.cif, .xyz, POSCAR, .pwi, .cell, .nc). Molecular phases keep their H2 bond length: only the
distances between molecules change. The output is never overwritten unless --force is given.

examples:
  elfviz phase C2c-24 --rs 1.38 -o c2c.cif
  elfviz phase C2c-24 --pressure 250 --supercell 2,2,1 -o POSCAR
  elfviz phase I41amd --rs 1.2 --cell conventional -o i41amd.xsf
"""


def add_arguments(parser) -> None:
    parser.add_argument("name", help="phase name, e.g. C2c-24 (see `elfviz phases`)")
    density = parser.add_mutually_exclusive_group()
    density.add_argument("--rs", type=float, default=None, help="Wigner-Seitz radius in bohr")
    density.add_argument("--pressure", type=float, default=None, help="pressure in GPa (converted to rs)")
    parser.add_argument(
        "--supercell", default="1,1,1", help="repetitions along a,b,c, e.g. 2,2,2 (default 1,1,1)"
    )
    parser.add_argument(
        "--cell",
        choices=("primitive", "conventional"),
        default="primitive",
        help="primitive cell (default; as many atoms as the name says) or the conventional centred cell",
    )
    parser.add_argument("-o", "--output", required=True, help="output file")
    parser.add_argument("-f", "--force", action="store_true", help="overwrite the output if it exists")


def parse_supercell(text: str) -> tuple[int, int, int]:
    """Parse ``"2,2,2"``, ``"2x2x2"`` or ``"2"`` into three positive integers."""
    from ..errors import StructureError

    text = str(text).strip()
    parts = text.split("x") if "x" in text else text.split(",")
    try:
        values = [int(p) for p in parts]
    except ValueError:
        raise StructureError(
            f"--supercell must be three positive integers like 2,2,2, got {text!r}"
        ) from None
    if len(values) == 1:
        values *= 3
    if len(values) != 3 or min(values) < 1:
        raise StructureError(f"--supercell must be three positive integers like 2,2,2, got {text!r}")
    return tuple(values)  # type: ignore[return-value]


def run(args) -> int:

    from .. import grid, io
    from ..structures import build_phase

    output, _ = io.check_output(args.output, force=args.force)
    atoms = build_phase(
        args.name,
        rs=args.rs,
        pressure_gpa=args.pressure,
        supercell=parse_supercell(args.supercell),
        cell=args.cell,
    )
    ds = grid.from_atoms(atoms, spacing=io.DEFAULT_SPACING, source=f"phase:{atoms.info['phase']}")
    io.write(ds, output, force=args.force)
    extra = f", P = {args.pressure:g} GPa" if args.pressure is not None else ""
    print(
        f"wrote {output}: {atoms.info['phase']}, {len(atoms)} atoms ({args.cell} cell), "
        f"rs = {atoms.info['rs_bohr']:.4f} bohr{extra}"
    )
    return 0
