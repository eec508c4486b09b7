"""XCrySDen XSF files with ``DATAGRID_3D`` blocks (Å units).

An XSF datagrid is a *general* grid: ``N1 N2 N3`` points spanning ``origin .. origin + span_i``
inclusive, so a periodic field is stored with its end point repeated (``N = n + 1``, span = cell).
On reading, elfviz drops the repeated end point; on writing it adds it back. Two other layouts are
recognised: ``N = n`` points with span = cell * N / (N - 1) (no end point), and ASE's
``write_xsf`` layout (span = cell * (N + 1) / N, no end point), which ASE's own reader accepts.
Anything else (a sub-box of the cell) is refused, because it is not a periodic field.

Data order: the first index runs fastest (Fortran order).
"""

from __future__ import annotations

import logging
import re

import numpy as np

from ..errors import FileFormatError, StructureError
from ._text import (
    VolumetricData,
    check_value_count,
    format_block,
    format_vector,
    iter_lines,
    numbers_in,
    parse_floats,
)

log = logging.getLogger(__name__)

_BEGIN_GRID = re.compile(r"^\s*(BEGIN_)?DATAGRID_?3D_?(\S*)\s*$", re.IGNORECASE)
_END_GRID = re.compile(r"^\s*END_DATAGRID_?3D", re.IGNORECASE | re.MULTILINE)


def looks_like_xsf(text: str) -> bool:
    """Content test: the XSF keywords CRYSTAL/PRIMVEC/DATAGRID appear near the top."""
    head = text[:4096].upper()
    return "PRIMVEC" in head or "BEGIN_BLOCK_DATAGRID" in head or "PRIMCOORD" in head


def _atomic_number(token: str, name: str) -> int:
    try:
        return int(token)
    except ValueError:
        from ase.data import atomic_numbers

        symbol = token.strip().capitalize()
        if symbol not in atomic_numbers:
            raise FileFormatError(f"{name}: unknown element {token!r} in the atom list") from None
        return int(atomic_numbers[symbol])


def read_xsf(text: str, name: str = "XSF file", *, index: int | None = None) -> VolumetricData:
    """Parse an XSF file: periodic structure (``CRYSTAL``/``PRIMVEC``/``PRIMCOORD``) and 3-D datagrids.

    Parameters
    ----------
    text : str
        The whole file.
    name : str
        File name for messages.
    index : int, optional
        Which ``PRIMCOORD`` block of an animated file (``ANIMSTEPS``) to use; default the last.

    Raises
    ------
    StructureError
        No ``PRIMVEC`` (a molecule or slab is not periodic in 3-D).
    FileFormatError
        Malformed blocks or a value count inconsistent with the grid header.
    """
    cell = None
    coord_blocks: list[tuple[np.ndarray, np.ndarray]] = []
    grids: list[tuple[str | None, np.ndarray]] = []
    origins: list[np.ndarray] = []
    periodic_kind = None
    lines = iter_lines(text)

    def next_data_line(what: str) -> tuple[str, int]:
        for line, pos in lines:
            stripped = line.split("#", 1)[0].strip()
            if stripped:
                return stripped, pos
        raise FileFormatError(f"{name}: the file ends while reading {what}")

    for raw, _ in lines:
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        key = line.split()[0].upper()
        if key in ("CRYSTAL", "SLAB", "POLYMER", "MOLECULE", "ATOMS"):
            periodic_kind = key if key != "ATOMS" else (periodic_kind or "MOLECULE")
            if key == "ATOMS":
                raise StructureError(
                    f"{name}: the structure is given as ATOMS (a molecule without a periodic "
                    "cell); elfviz needs CRYSTAL with PRIMVEC and PRIMCOORD"
                )
        elif key == "PRIMVEC":
            rows = []
            for i in range(3):
                vec_line, _ = next_data_line("PRIMVEC")
                values = numbers_in(vec_line)
                if values is None or len(values) != 3:
                    raise FileFormatError(
                        f"{name}: PRIMVEC line {i + 1} must hold 3 numbers, got {vec_line!r}"
                    )
                rows.append(values)
            cell = np.array(rows, dtype=float)
        elif key in ("CONVVEC",):
            for _ in range(3):
                next_data_line("CONVVEC")
        elif key == "PRIMCOORD" or key == "CONVCOORD":
            count_line, _ = next_data_line(key)
            try:
                n_atoms = int(count_line.split()[0])
            except (ValueError, IndexError):
                raise FileFormatError(
                    f"{name}: {key} must be followed by 'NATOMS 1', got {count_line!r}"
                ) from None
            numbers, positions = [], []
            for k in range(n_atoms):
                atom_line, _ = next_data_line(f"atom {k + 1} of {key}")
                tokens = atom_line.split()
                if len(tokens) < 4:
                    raise FileFormatError(f"{name}: atom line {k + 1} must be 'Z x y z', got {atom_line!r}")
                numbers.append(_atomic_number(tokens[0], name))
                xyz = numbers_in(" ".join(tokens[1:4]))
                if xyz is None:
                    raise FileFormatError(f"{name}: bad coordinates on atom line {k + 1}: {atom_line!r}")
                positions.append(xyz)
            if key == "PRIMCOORD":
                coord_blocks.append((np.array(numbers, dtype=np.int64), np.array(positions, dtype=float)))
        elif _BEGIN_GRID.match(line) and "BLOCK" not in key:
            label = _BEGIN_GRID.match(line).group(2) or None
            data, grid_origin = _read_grid(text, lines, name, cell, next_data_line)
            grids.append((label, data))
            origins.append(grid_origin)
        # everything else (BEGIN_BLOCK_DATAGRID_3D, its title line, END_BLOCK..., ANIMSTEPS) is skipped

    if cell is None:
        raise StructureError(
            f"{name}: no PRIMVEC block, so no periodic cell; elfviz needs a 3-D periodic "
            "structure (CRYSTAL + PRIMVEC + PRIMCOORD)"
        )
    if periodic_kind not in (None, "CRYSTAL"):
        raise StructureError(
            f"{name}: the structure is a {periodic_kind}, periodic in fewer than three "
            "directions; elfviz needs a 3-D periodic CRYSTAL"
        )
    if not coord_blocks:
        raise FileFormatError(f"{name}: no PRIMCOORD block with atom positions")
    if index is None:
        index = -1
    try:
        numbers, positions = coord_blocks[index]
    except IndexError:
        raise FileFormatError(
            f"{name}: asked for frame {index} but the file holds {len(coord_blocks)}"
        ) from None
    if origins and any(not np.allclose(o, origins[0]) for o in origins):
        raise FileFormatError(
            f"{name}: the datagrids have different origins; elfviz keeps all fields of a "
            "structure on one grid"
        )
    return VolumetricData(
        cell=cell,
        positions=positions,
        numbers=numbers,
        grids=grids,
        origin=origins[0] if origins else np.zeros(3),
    )


def _read_grid(text, lines, name, cell, next_data_line) -> tuple[np.ndarray, np.ndarray]:
    shape_line, _ = next_data_line("the datagrid shape")
    try:
        shape = [int(v) for v in shape_line.split()]
    except ValueError:
        raise FileFormatError(f"{name}: datagrid shape must be three integers, got {shape_line!r}") from None
    if len(shape) != 3 or min(shape) < 2:
        raise FileFormatError(f"{name}: datagrid shape must be three integers >= 2, got {shape_line!r}")
    vectors = []
    for what in ("origin", "span vector 1", "span vector 2", "span vector 3"):
        vec_line, pos = next_data_line(f"the datagrid {what}")
        values = numbers_in(vec_line)
        if values is None or len(values) != 3:
            raise FileFormatError(f"{name}: datagrid {what} must hold 3 numbers, got {vec_line!r}")
        vectors.append(values)
    origin = np.array(vectors[0], dtype=float)
    span = np.array(vectors[1:], dtype=float)
    match = _END_GRID.search(text, pos)
    if match is None:
        raise FileFormatError(f"{name}: datagrid without END_DATAGRID_3D; the file is truncated")
    values = parse_floats(text[pos : match.start()], f"{name} (datagrid values)")
    check_value_count(values.size, shape, name, header="the datagrid header", where="the block")
    lines.pos = match.end()  # skip the data block in the shared line cursor
    data = values.reshape(shape[::-1]).transpose()  # Fortran order: first index fastest
    if cell is None:
        raise StructureError(
            f"{name}: a datagrid before (or without) PRIMVEC; elfviz needs the periodic cell"
        )
    return _periodic_part(data, span, np.asarray(cell, float), name), origin


def _periodic_part(data: np.ndarray, span: np.ndarray, cell: np.ndarray, name: str) -> np.ndarray:
    """Cut a general XSF grid down to the periodic grid without end points."""
    out = data
    tol = 1e-4 * max(1.0, float(np.abs(cell).max()))
    for axis in range(3):
        n = data.shape[axis]
        if np.allclose(span[axis], cell[axis], atol=tol):
            first = np.take(out, [0], axis=axis)
            last = np.take(out, [n - 1], axis=axis)
            scale = max(1e-12, float(np.abs(first).max()))
            if not np.allclose(first, last, rtol=1e-4, atol=1e-5 * scale):
                log.warning(
                    "%s: the end point of axis %d differs from the first point (general grid that is "
                    "not periodic?); dropping it as for a periodic grid",
                    name,
                    axis + 1,
                )
            out = np.take(out, np.arange(n - 1), axis=axis)
        elif np.allclose(span[axis] * n / (n - 1), cell[axis], atol=tol):
            continue  # n points, no end point
        elif np.allclose(span[axis] * n / (n + 1), cell[axis], atol=tol):
            continue  # ASE's write_xsf layout: n points, span = cell (n + 1) / n
        else:
            raise FileFormatError(
                f"{name}: datagrid span vector {axis + 1} {span[axis].round(5).tolist()} "
                "does not match the cell "
                f"vector {cell[axis].round(5).tolist()}; elfviz reads datagrids that cover the periodic cell"
            )
    return np.ascontiguousarray(out)


def write_xsf(cell, positions, numbers, fields: dict, *, origin=None, comment: str = "") -> str:
    """Text of an XSF file: the crystal plus one ``DATAGRID_3D_<name>`` per field, end points added.

    Parameters
    ----------
    cell : array (3, 3)
        Lattice vectors as rows, Å.
    positions : array (N, 3)
        Cartesian positions in the elfviz frame, Å.
    numbers : array (N,)
        Atomic numbers.
    fields : dict of name -> array (na, nb, nc)
        Periodic fields without end points.
    origin : array (3,), optional
        Grid origin (Å) to write; atoms are shifted by it.
    comment : str
        Text for the block title.

    Examples
    --------
    >>> text = write_xsf(np.eye(3) * 2, [[0, 0, 0]], [1], {"elf": np.zeros((2, 2, 2))})
    >>> "DATAGRID_3D_elf" in text
    True
    """
    cell = np.asarray(cell, dtype=float)
    origin_a = np.zeros(3) if origin is None else np.asarray(origin, dtype=float)
    positions = np.asarray(positions, dtype=float).reshape(-1, 3) + origin_a
    parts = [
        "# written by elfviz; periodic grids with the end point repeated (XSF general grid)\n",
        "CRYSTAL\nPRIMVEC\n",
    ]
    parts += [format_vector(row) + "\n" for row in cell]
    parts.append(f"PRIMCOORD\n{len(positions)} 1\n")
    numbers = np.asarray(numbers).ravel()
    parts += [f"{int(z):3d}" + format_vector(p) + "\n" for z, p in zip(numbers, positions, strict=True)]
    title = comment.replace("\n", " ").strip() or "elfviz"
    parts.append(f"BEGIN_BLOCK_DATAGRID_3D\n {title}\n")
    for field_name, values in fields.items():
        values = np.asarray(values, dtype=np.float64)
        wrapped = np.pad(values, [(0, 1)] * 3, mode="wrap")
        parts.append(f" BEGIN_DATAGRID_3D_{field_name}\n  %d %d %d\n" % wrapped.shape)
        parts.append(" " + format_vector(origin_a) + "\n")
        parts += [" " + format_vector(row) + "\n" for row in cell]
        parts.append(format_block(wrapped.ravel(order="F"), 6, " %13.6E"))
        parts.append(" END_DATAGRID_3D\n")
    parts.append("END_BLOCK_DATAGRID_3D\n")
    return "".join(parts)
