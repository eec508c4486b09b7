"""``elfviz convert IN OUT``: convert between structure and field formats."""

from __future__ import annotations

from ..grid import keys

NAME = "convert"
HELP = (
    "convert a structure or field file to another format (.nc, .cube, .xsf, ELFCAR, .cif, .xyz, POSCAR ...)"
)
DESCRIPTION = """Convert a structure or field file; the formats follow from the file names.

The output is never overwritten unless --force is given. Field formats (.cube, ELFCAR) take the
field named by --field (default 'elf'); .xsf and .nc take all fields; structure formats (.cif,
.xyz, POSCAR, .pwi, .cell) take the structure only.

examples:
  elfviz convert ELFCAR elf.cube
  elfviz convert c2c.cube c2c.xsf
  elfviz convert CHGCAR chg.nc --field charge
"""


def add_arguments(parser) -> None:
    parser.add_argument("input", help="file to read")
    parser.add_argument("output", help="file to write (format from its name)")
    parser.add_argument(
        "--field",
        default=None,
        help="field name to read the input's field under and to write (default 'elf')",
    )
    parser.add_argument(
        "--index", type=int, default=None, help="frame of a multi-frame input (default: last)"
    )
    parser.add_argument("-f", "--force", action="store_true", help="overwrite the output if it exists")


def run(args) -> int:
    import logging

    from .. import grid, io

    output, _ = io.check_output(args.output, force=args.force)  # fail before the (possibly slow) read
    ds = io.read(args.input, index=args.index, field=args.field)
    fields = grid.field_names(ds)
    field = args.field or (keys.ELF if keys.ELF in fields else (fields[0] if fields else keys.ELF))
    if output.suffix.lower() == ".xsf" and args.field is None:
        field = None  # every field as its own datagrid
    path = io.write(ds, output, force=args.force, field=field)
    logging.getLogger(__name__).info("converted %s -> %s", args.input, path)
    print(f"wrote {path}")
    return 0
