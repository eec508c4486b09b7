"""Gaussian cube files: one scalar field on a (possibly skewed) periodic grid, lengths in bohr.

Layout (Gaussian's ``cubegen`` definition)::

    comment line 1
    comment line 2
    NATOMS  ox oy oz            origin of the grid (bohr)
    N1  v1x v1y v1z             N1 points along voxel vector v1 (bohr); N < 0 means the file is in Å
    N2  v2x v2y v2z
    N3  v3x v3y v3z
    Z  charge  x y z            NATOMS lines, positions in bohr
    values                      N1*N2*N3 numbers, the third index fastest, a new line after each run

elfviz reads a cube as a periodic field whose cell is ``(N1 v1, N2 v2, N3 v3)``, the convention of
Quantum ESPRESSO's ``pp.x`` (``output_format=6``), ASE and VESTA. A non-zero origin is kept in the
``grid_origin_angstrom`` attribute and the atoms are shifted by it, so grid point (0, 0, 0) sits at
the cell origin as the elfviz schema requires; :func:`write_cube` shifts them back.
"""

from __future__ import annotations

import numpy as np

from ..errors import FileFormatError
from ..grid import BOHR_ANGSTROM
from ._text import (
    VolumetricData,
    check_value_count,
    format_rows,
    format_vector,
    ints_in,
    iter_lines,
    numbers_in,
    parse_floats,
)


def looks_like_cube(text: str) -> bool:
    """Cheap content test: lines 3-6 are ``int float float float``."""
    lines = []
    for line, _ in iter_lines(text):
        lines.append(line)
        if len(lines) == 6:
            break
    if len(lines) < 6:
        return False
    for line in lines[2:6]:
        values = numbers_in(line)
        if values is None or len(values) < 4 or not float(values[0]).is_integer():
            return False
    return True


def read_cube(text: str, name: str = "cube file") -> VolumetricData:
    """Parse the text of a cube file.

    Parameters
    ----------
    text : str
        The whole file.
    name : str
        File name for error messages.

    Returns
    -------
    VolumetricData
        Cell, atoms (Å), one grid, origin (Å).

    Raises
    ------
    FileFormatError
        Truncated header, bad numbers, or a value count that does not match ``N1*N2*N3``.
    """
    lines = iter_lines(text)
    header: list[str] = []
    end = 0
    try:
        for _ in range(6):
            line, end = next(lines)
            header.append(line)
    except StopIteration:
        raise FileFormatError(f"{name}: the cube header is truncated (fewer than 6 lines)") from None
    first = numbers_in(header[2])
    if not first or len(first) < 4 or not float(first[0]).is_integer():
        raise FileFormatError(f"{name}: line 3 of a cube file must be 'NATOMS ox oy oz', got {header[2]!r}")
    n_atoms_signed = int(first[0])
    n_values_per_point = int(first[4]) if len(first) > 4 else 1
    if n_values_per_point != 1:
        raise FileFormatError(
            f"{name}: {n_values_per_point} values per grid point; elfviz reads cube files "
            "with one scalar per point"
        )
    origin = np.array(first[1:4], dtype=float)
    shape: list[int] = []
    voxels = []
    angstrom = False
    for i, line in enumerate(header[3:6]):
        values = numbers_in(line)
        if not values or len(values) != 4 or not float(values[0]).is_integer():
            raise FileFormatError(
                f"{name}: line {i + 4} must be 'N vx vy vz' (grid points, voxel vector), got {line!r}"
            )
        n = int(values[0])
        if n == 0:
            raise FileFormatError(f"{name}: zero grid points along axis {i + 1}")
        angstrom = angstrom or n < 0
        shape.append(abs(n))
        voxels.append(values[1:])
    to_angstrom = 1.0 if angstrom else BOHR_ANGSTROM
    voxels_arr = np.array(voxels, dtype=float) * to_angstrom
    cell = voxels_arr * np.array(shape, dtype=float)[:, None]

    n_atoms = abs(n_atoms_signed)
    atom_rows = []
    try:
        for k in range(n_atoms):
            line, end = next(lines)
            values = numbers_in(line)
            if values is None or len(values) < 5:
                raise FileFormatError(f"{name}: atom line {k + 1} must be 'Z charge x y z', got {line!r}")
            atom_rows.append(values[:5])
        if n_atoms_signed < 0:  # orbital cube: one more line 'M id1 ... idM'
            line, end = next(lines)
            ids = ints_in(line)
            if not ids or ids[0] != 1:
                raise FileFormatError(
                    f"{name}: a cube with {ids[0] if ids else '?'} data sets per point; "
                    "elfviz reads cube files with a single field"
                )
    except StopIteration:
        raise FileFormatError(
            f"{name}: the file ends inside the atom list (header says {n_atoms} atoms)"
        ) from None
    atoms = np.array(atom_rows, dtype=float).reshape(-1, 5)
    numbers = atoms[:, 0].astype(np.int64)
    positions = atoms[:, 2:5] * to_angstrom

    values = parse_floats(text[end:], f"{name} (grid values)")
    check_value_count(values.size, shape, name)
    comment = " | ".join(h.strip() for h in header[:2] if h.strip())
    return VolumetricData(
        cell=cell,
        positions=positions,
        numbers=numbers,
        grids=[(None, values.reshape(shape))],
        origin=origin * to_angstrom,
        attrs={"file_comment": comment} if comment else {},
    )


def write_cube(cell, positions, numbers, values, *, origin=None, comment: str = "") -> str:
    """Text of a cube file for one periodic field (Gaussian layout, bohr units, 6 values a line).

    Parameters
    ----------
    cell : array (3, 3)
        Lattice vectors as rows, Å.
    positions : array (N, 3)
        Cartesian positions in the elfviz frame (grid point 0 at the cell origin), Å.
    numbers : array (N,)
        Atomic numbers.
    values : array (na, nb, nc)
        The field; the voxel vectors are ``cell[i] / n_i``.
    origin : array (3,), optional
        Grid origin in Å to write (atoms are shifted by it, undoing the shift made on reading).
    comment : str
        Free text for the first line.

    Examples
    --------
    >>> text = write_cube(np.eye(3) * 2.0, [[0, 0, 0]], [1], np.zeros((2, 2, 2)))
    >>> text.splitlines()[3].split()[0]
    '2'
    """
    cell = np.asarray(cell, dtype=float)
    values = np.asarray(values, dtype=np.float64)
    origin_a = np.zeros(3) if origin is None else np.asarray(origin, dtype=float)
    positions = np.asarray(positions, dtype=float).reshape(-1, 3) + origin_a
    numbers = np.asarray(numbers).reshape(-1)
    shape = values.shape
    bohr = 1.0 / BOHR_ANGSTROM
    first = (comment.replace("\n", " ").strip() or "elfviz field") + "\n"
    parts = [
        first,
        "OUTER LOOP: X, MIDDLE LOOP: Y, INNER LOOP: Z\n",  # exactly this: ASE parses the axis order from it
        f"{len(numbers):5d}{format_vector(origin_a * bohr, '%14.8f')}\n",
    ]
    for i in range(3):
        parts.append(f"{shape[i]:5d}{format_vector(cell[i] / shape[i] * bohr, '%14.8f')}\n")
    for z, pos in zip(numbers, positions * bohr, strict=True):
        parts.append(f"{int(z):5d}{float(z):14.8f}{format_vector(pos, '%14.8f')}\n")
    parts.append(format_rows(values.reshape(-1, shape[2]), 6, " %13.6E"))
    return "".join(parts)
