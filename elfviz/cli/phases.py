"""``elfviz phases``: the dense-hydrogen crystal phases elfviz knows."""

from __future__ import annotations

import json

NAME = "phases"
HELP = "list the dense-hydrogen crystal phases (space group, atoms, rs range, source)"


def add_arguments(parser) -> None:
    parser.add_argument("--json", action="store_true", help="print JSON instead of a table")


def phase_table() -> list[dict]:
    """One dict per phase: name, space group, atoms, molecular, available, rs and pressure ranges, source."""
    from ..structures import PHASES

    rows = []
    for phase in PHASES.values():
        rs_range = phase.rs_range
        p_range = phase.pressure_range_gpa
        rows.append(
            {
                "name": phase.name,
                "space_group": phase.space_group,
                "space_group_number": phase.space_group_number,
                "n_atoms": phase.n_atoms,
                "kind": "molecular" if phase.molecular else "atomic",
                "available": phase.available,
                "rs_range_bohr": None if rs_range is None else [round(rs_range[0], 3), round(rs_range[1], 3)],
                "pressure_range_gpa": None if p_range is None else list(p_range),
                "reference_pressure_gpa": phase.pressure_gpa,
                "rs_reference_bohr": None if phase.rs_reference is None else round(phase.rs_reference, 4),
                "source": phase.source,
            }
        )
    return rows


def run(args) -> int:
    rows = phase_table()
    if args.json:
        print(json.dumps(rows, indent=2))
        return 0
    print(
        f"{'name':<9} {'space group':<14} {'Z':>3}  {'kind':<9} "
        f"{'rs range (bohr)':<16} {'P range (GPa)':<14} "
        "data     source"
    )
    for row in rows:
        sg = f"{row['space_group']} ({row['space_group_number']})"
        rs = "-" if row["rs_range_bohr"] is None else "{:.2f}-{:.2f}".format(*row["rs_range_bohr"])
        p = "-" if row["pressure_range_gpa"] is None else "{:g}-{:g}".format(*row["pressure_range_gpa"])
        data = "bundled" if row["available"] else "missing"
        print(
            f"{row['name']:<9} {sg:<14} {row['n_atoms']:>3}  {row['kind']:<9} {rs:<16} {p:<14} {data:<8} "
            f"{row['source'].split(';')[0]}"
        )
    print(
        "\nZ: atoms in the cell built by `elfviz phase`. Ranges: where the source finds the phase stable "
        "(informative).\n'missing': the Wyckoff data are not bundled; build such a phase from a CIF instead."
    )
    return 0
