"""VASP POSCAR/CONTCAR structures and the CHGCAR/ELFCAR volumetric layout.

Layout::

    comment
    scale                       > 0: factor on the lattice; < 0: target volume (Å^3)
    a1 / a2 / a3                lattice vectors (Å, times scale)
    H                           species names (VASP 5; absent in VASP 4 files)
    24                          atoms per species
    [Selective dynamics]
    Direct | Cartesian
    positions                   one line per atom
    <blank>
    NGX NGY NGZ                 grid (volumetric files only)
    values                      NGX*NGY*NGZ numbers, the first index fastest
    [augmentation occupancies ...]          (CHGCAR only)
    [NGX NGY NGZ + a second block]          (spin-polarised files)

Values are returned **exactly as stored**. For an ELFCAR that is the ELF itself. For a CHGCAR it is
the density times the cell volume (VASP's convention): divide by the volume yourself if you need
e/Å^3. (ASE's ``VaspChargeDensity`` always divides by the volume, which is wrong for an ELFCAR.)
Spin-polarised files hold two blocks: ELFCAR the ELF of the spin-up and spin-down channels, CHGCAR
the total density and the magnetisation density; naming them is left to :mod:`elfviz.io`.
"""

from __future__ import annotations

import re

import numpy as np

from ..errors import FileFormatError
from ._text import (
    VolumetricData,
    check_value_count,
    format_block,
    format_vector,
    ints_in,
    iter_lines,
    numbers_in,
    parse_floats,
)


def looks_like_vasp(text: str) -> bool:
    """Content test: line 2 one number (or three), lines 3-5 three numbers each, line 6/7 counts."""
    lines = []
    for line, _ in iter_lines(text):
        lines.append(line)
        if len(lines) == 7:
            break
    if len(lines) < 7:
        return False
    scale = numbers_in(lines[1])
    if scale is None or len(scale) not in (1, 3):
        return False
    for line in lines[2:5]:
        values = numbers_in(line)
        if values is None or len(values) != 3:
            return False
    return ints_in(lines[5]) is not None or ints_in(lines[6]) is not None


def _species_from_comment(comment: str, n_species: int) -> list[str] | None:
    from ase.data import atomic_numbers

    tokens = re.findall(r"[A-Z][a-z]?", comment)
    if len(tokens) >= n_species and all(t in atomic_numbers for t in tokens[:n_species]):
        return tokens[:n_species]
    return None


def read_vasp(text: str, name: str = "VASP file") -> VolumetricData:
    """Parse a POSCAR/CONTCAR or a CHGCAR/ELFCAR-layout file.

    Returns
    -------
    VolumetricData
        Structure and zero, one or more grids (values as stored), labels ``None``.

    Raises
    ------
    FileFormatError
        Malformed header, missing species names in a VASP 4 file, or a grid with fewer values than
        its header declares.
    """
    from ase.data import atomic_numbers

    lines = iter_lines(text)

    def need(what: str) -> str:
        try:
            return next(lines)[0]
        except StopIteration:
            raise FileFormatError(f"{name}: the file ends while reading {what}") from None

    comment = need("the comment line").strip()
    scale_values = numbers_in(need("the scale factor"))
    if not scale_values or len(scale_values) not in (1, 3):
        raise FileFormatError(f"{name}: line 2 must be the scale factor (one number), as in a POSCAR")
    rows = []
    for i in range(3):
        values = numbers_in(need(f"lattice vector {i + 1}"))
        if values is None or len(values) != 3:
            raise FileFormatError(f"{name}: line {i + 3} must be a lattice vector (3 numbers)")
        rows.append(values)
    cell = np.array(rows, dtype=float)
    if len(scale_values) == 3:
        cell *= np.array(scale_values)[None, :]
    elif scale_values[0] < 0:
        volume = abs(np.linalg.det(cell))
        if volume <= 0:
            raise FileFormatError(f"{name}: the lattice has zero volume")
        cell *= (abs(scale_values[0]) / volume) ** (1.0 / 3.0)
    else:
        cell *= scale_values[0]

    line = need("the species or counts line")
    counts = ints_in(line)
    if counts is None:
        species = line.split()
        counts = ints_in(need("the atom counts"))
        if counts is None or len(counts) != len(species):
            raise FileFormatError(f"{name}: the atom counts line must hold one integer per species {species}")
    else:
        species = _species_from_comment(comment, len(counts))
        if species is None:
            raise FileFormatError(
                f"{name}: a VASP 4 file without species names (and none in the comment line); "
                "add the species line (e.g. 'H') above the atom counts"
            )
    species = [s.split("_")[0].split("/")[0] for s in species]  # 'H_GW', 'H/abc123' -> 'H'
    for symbol in species:
        if symbol not in atomic_numbers:
            raise FileFormatError(f"{name}: unknown element {symbol!r} in the species line")
    numbers = np.repeat([atomic_numbers[s] for s in species], counts).astype(np.int64)
    n_atoms = int(sum(counts))

    mode = need("the coordinate mode").strip()
    if mode[:1] in "sS":
        mode = need("the coordinate mode").strip()
    cartesian = mode[:1] in "cCkK"
    coords = []
    for k in range(n_atoms):
        values = numbers_in(" ".join(need(f"position {k + 1}").split()[:3]))
        if values is None or len(values) != 3:
            raise FileFormatError(f"{name}: position line {k + 1} must start with 3 numbers")
        coords.append(values)
    coords_arr = np.array(coords, dtype=float).reshape(-1, 3)
    if cartesian:
        factor = scale_values[0] if len(scale_values) == 1 and scale_values[0] > 0 else 1.0
        positions = coords_arr * factor
    else:
        positions = coords_arr @ cell

    grids = _read_blocks(text, lines, name)
    return VolumetricData(
        cell=cell,
        positions=positions,
        numbers=numbers,
        grids=[(None, g) for g in grids],
        attrs={"file_comment": comment} if comment else {},
    )


def _read_blocks(text: str, lines, name: str) -> list[np.ndarray]:
    """Read every ``NGX NGY NGZ`` + values block after the positions."""
    shape = None
    for line, _ in lines:
        if not line.strip():
            continue
        shape = ints_in(line)
        if shape is None or len(shape) != 3:
            return []  # a POSCAR with velocities or other trailing sections: no volumetric data
        break
    if shape is None:
        return []
    if min(shape) < 1:
        raise FileFormatError(f"{name}: grid size {shape} must be positive integers")
    blocks = [_read_one_block(text, lines, name, shape)]
    pattern = re.compile(rf"^\s*{shape[0]}\s+{shape[1]}\s+{shape[2]}\s*$", re.MULTILINE)
    while True:
        match = pattern.search(text, lines.pos)
        if match is None:
            break
        lines.pos = match.end() + 1
        blocks.append(_read_one_block(text, lines, name, shape, which=len(blocks) + 1))
    return blocks


def _read_one_block(text: str, lines, name: str, shape, which: int = 1) -> np.ndarray:
    expected = int(np.prod(shape))
    start = lines.pos
    first_line = next(lines, ("", start))[0]
    per_line = len(first_line.split())
    if per_line == 0:
        raise FileFormatError(f"{name}: no values after the grid header {shape} (block {which})")
    n_lines = -(-expected // per_line)
    lines.pos = start
    end = start
    for _ in range(n_lines):
        end = text.find("\n", end)
        if end < 0:
            end = len(text)
            break
        end += 1
    values = parse_floats(text[start:end], f"{name} (grid block {which})")
    if values.size != expected:
        # irregular line lengths: fall back to counting tokens
        tokens = text[start:].split(maxsplit=expected)  # the values, then the rest of the file
        check_value_count(min(len(tokens), expected), shape, name, header="the grid header", where=f"block {which}")
        values = parse_floats(" ".join(tokens[:expected]), f"{name} (grid block {which})")
        check_value_count(values.size, shape, name, header="the grid header", where=f"block {which}")
        end = len(text) - len(tokens[expected]) if len(tokens) > expected else len(text)
    lines.pos = end
    return values.reshape(tuple(shape), order="F")


def write_vasp(cell, positions, numbers, blocks=(), *, comment: str = "") -> str:
    """Text of a POSCAR (no blocks) or a CHGCAR/ELFCAR-layout file (values written as given).

    Atoms are written in their order, grouping consecutive runs of one species (VASP allows a
    species to appear more than once in the species line), so no atom is reordered.

    Parameters
    ----------
    cell, positions, numbers
        Structure in Å.
    blocks : sequence of arrays (na, nb, nc)
        Grids to append (two for a spin-polarised file), values exactly as they should be stored.
    comment : str
        First line.

    Examples
    --------
    >>> text = write_vasp(np.eye(3) * 2, [[0, 0, 0]], [1], [np.full((2, 2, 2), 0.5)])
    >>> [line.split() for line in text.splitlines()[5:7]]
    [['H'], ['1']]
    """
    from ase.data import chemical_symbols

    cell = np.asarray(cell, dtype=float)
    numbers = np.asarray(numbers).ravel()
    frac = np.asarray(positions, dtype=float).reshape(-1, 3) @ np.linalg.inv(cell)
    runs: list[list[int]] = []
    for z in numbers:
        if runs and runs[-1][0] == z:
            runs[-1][1] += 1
        else:
            runs.append([int(z), 1])
    parts = [(comment.replace("\n", " ").strip() or "elfviz") + "\n", "   1.00000000000000\n"]
    parts += [format_vector(row, " %21.16f") + "\n" for row in cell]
    parts.append("   " + "   ".join(chemical_symbols[z] for z, _ in runs) + "\n")
    parts.append("   " + "   ".join(str(n) for _, n in runs) + "\n")
    parts.append("Direct\n")
    parts += [format_vector(row, " %19.16f") + "\n" for row in frac]
    for values in blocks:
        values = np.asarray(values, dtype=np.float64)
        parts.append(f"\n {values.shape[0]:4d} {values.shape[1]:4d} {values.shape[2]:4d}\n")
        parts.append(format_block(values.ravel(order="F"), 5, " %17.11E"))
    return "".join(parts)
