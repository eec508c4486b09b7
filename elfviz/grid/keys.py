"""Names of the elfviz Dataset's variables, dimensions and attributes, in one place (as schnetpack's properties).

Use ``ds[keys.ELF]`` rather than ``ds["elf"]``: a typo is then an ``AttributeError`` at import time, and a
reader sees at once that the string is part of the schema (:mod:`elfviz.grid`).

Examples
--------
>>> from elfviz.grid import keys
>>> keys.ELF, keys.GRID_DIMS
('elf', ('a', 'b', 'c'))
"""

from __future__ import annotations

from typing import Final

# variables
ELF: Final = "elf"
"""The ELF field shown and analysed (float32 in [0, 1])."""
ELF_REF: Final = "elf_ref"
"""A reference ELF beside a prediction (residual Datasets)."""
ELF_MEMBER_STD: Final = "elf_member_std"
"""Standard deviation of the ensemble's member networks per grid point."""
CELL: Final = "cell"
"""Lattice vectors as rows, Å, dims (vector, xyz)."""
POSITIONS: Final = "positions"
"""Cartesian positions, Å, dims (atom, xyz)."""
NUMBERS: Final = "numbers"
"""Atomic numbers, dim (atom)."""

# dimensions
GRID_DIMS: Final = ("a", "b", "c")
"""Grid dimensions along the three lattice vectors."""
ATOM: Final = "atom"
VECTOR: Final = "vector"
XYZ: Final = "xyz"

# attributes
SOURCE: Final = "source"
"""Where the fields come from: ``model:...``, ``dft:...``, ``file:...``, ``promolecular``."""
RS_BOHR: Final = "rs_bohr"
DENSITY_G_CM3: Final = "density_g_cm3"
N_ATOMS: Final = "n_atoms"
PRESSURE_GPA: Final = "pressure_gpa"
PROVENANCE: Final = "provenance"
