"""Which file format is this? Decided from the name first, then from the content.

Format names used throughout :mod:`elfviz.io`:

=============  ==========================================  ==========  =========
name           files                                       fields      via
=============  ==========================================  ==========  =========
netcdf         ``*.nc`` (elfviz Dataset, netCDF4/HDF5)     all         elfviz.store
cube           ``*.cube``, ``*.cub``                       one         elfviz
xsf            ``*.xsf``                                   several     elfviz
vasp           ``POSCAR``, ``CONTCAR``, ``CHGCAR``,        0, 1 or 2   elfviz
               ``ELFCAR``, ``PARCHG``, ``LOCPOT``,
               ``*.vasp``, ``*.poscar``
cif            ``*.cif``                                   none        ASE
extxyz         ``*.xyz``, ``*.extxyz`` (needs ``Lattice=``) none        ASE
espresso-in    ``*.pwi``, ``*.in`` (pw.x input)            none        ASE
castep-cell    ``*.cell``                                  none        ASE
=============  ==========================================  ==========  =========
"""

from __future__ import annotations

import re
from pathlib import PurePath

from ..errors import FileFormatError

FORMATS = {
    "netcdf": "elfviz netCDF Dataset (.nc): structure and all fields",
    "cube": "Gaussian cube (.cube): one field, bohr units",
    "xsf": "XCrySDen XSF (.xsf) with DATAGRID_3D blocks",
    "vasp": "VASP POSCAR/CONTCAR, CHGCAR/ELFCAR layout (ELFCAR, CHGCAR, *.vasp)",
    "cif": "CIF (.cif), structure only",
    "extxyz": "extended XYZ with Lattice= (.xyz, .extxyz), structure only",
    "espresso-in": "Quantum ESPRESSO pw.x input (.pwi, .in), structure only",
    "castep-cell": "CASTEP cell (.cell), structure only",
}
"""Supported formats and a one-line description of each."""

FIELD_FORMATS = ("netcdf", "cube", "xsf", "vasp")
"""Formats that can hold a field on a grid."""

ASE_FORMATS = ("cif", "extxyz", "espresso-in", "castep-cell")
"""Structure formats read and written through ``ase.io``."""

VASP_NAMES = {
    "poscar": None,
    "contcar": None,
    "elfcar": "elf",
    "chgcar": "charge",
    "chg": "charge",
    "parchg": "charge",
    "aeccar0": "charge",
    "aeccar1": "charge",
    "aeccar2": "charge",
    "locpot": "potential",
}
"""VASP file names and the default name of the field they hold (``None``: structure only)."""

_EXTENSIONS = {
    ".nc": "netcdf",
    ".nc4": "netcdf",
    ".h5": "netcdf",
    ".netcdf": "netcdf",
    ".cube": "cube",
    ".cub": "cube",
    ".xsf": "xsf",
    ".vasp": "vasp",
    ".poscar": "vasp",
    ".cif": "cif",
    ".xyz": "extxyz",
    ".extxyz": "extxyz",
    ".pwi": "espresso-in",
    ".in": "espresso-in",
    ".cell": "castep-cell",
}

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
GZIP_MAGIC = b"\x1f\x8b"


def strip_compression(name: str) -> str:
    """File name without a trailing ``.gz``."""
    return name[:-3] if name.lower().endswith(".gz") else name


def vasp_kind(name: str) -> tuple[bool, str | None]:
    """Is ``name`` a VASP file name (``ELFCAR``, ``c2c.ELFCAR``, ``CHGCAR_300GPa``), and its default field."""
    base = PurePath(strip_compression(name)).name.lower()
    for token in re.split(r"[._\-\s]+", base):
        if token in VASP_NAMES:
            return True, VASP_NAMES[token]
    return False, None


def format_from_name(name: str) -> str | None:
    """Format implied by the file name alone, or ``None``."""
    name = strip_compression(name)
    is_vasp, _ = vasp_kind(name)
    suffix = PurePath(name).suffix.lower()
    if suffix in _EXTENSIONS and _EXTENSIONS[suffix] != "espresso-in":
        return _EXTENSIONS[suffix]
    if is_vasp:
        return "vasp"
    return _EXTENSIONS.get(suffix)


def format_from_content(head: bytes) -> str | None:
    """Format recognised from the first few kB of the (decompressed) content, or ``None``."""
    from .cube import looks_like_cube
    from .vasp import looks_like_vasp
    from .xsf import looks_like_xsf

    if head.startswith(HDF5_MAGIC):
        return "netcdf"
    text = head.decode("latin-1")
    lowered = text.lower()
    if looks_like_xsf(text):
        return "xsf"
    if "&system" in lowered and ("atomic_positions" in lowered or "nat" in lowered):
        return "espresso-in"
    if "%block" in lowered and ("lattice_" in lowered or "positions_" in lowered):
        return "castep-cell"
    if re.search(r"^\s*data_", text, re.MULTILINE) and "_cell_length_a" in lowered:
        return "cif"
    first_lines = text.splitlines()[:2]
    if len(first_lines) == 2 and first_lines[0].strip().isdigit() and "lattice=" in first_lines[1].lower():
        return "extxyz"
    if looks_like_cube(text):
        return "cube"
    if looks_like_vasp(text):
        return "vasp"
    return None


def detect_format(name: str, head: bytes) -> str:
    """Decide the format of a file from its name and the first bytes of its content.

    The name decides when it is specific (``.cube``, ``ELFCAR`` ...); the content decides otherwise,
    and always for ``.in`` (pw.x inputs share that extension with many other programs).

    Raises
    ------
    FileFormatError
        If neither the name nor the content matches a supported format.

    Examples
    --------
    >>> detect_format("x.cube", b"")
    'cube'
    >>> detect_format("ELFCAR", b"")
    'vasp'
    """
    by_name = format_from_name(name)
    if by_name is not None and by_name != "espresso-in":
        return by_name
    by_content = format_from_content(head)
    if by_content is not None:
        return by_content
    if by_name == "espresso-in" and PurePath(strip_compression(name)).suffix.lower() == ".pwi":
        return by_name
    supported = ", ".join(sorted(FORMATS))
    raise FileFormatError(
        f"{name}: unknown file format (neither the name nor the content matches one of: "
        f"{supported}); rename the file with the right extension, e.g. .cube, .xsf, .cif, "
        "POSCAR, ELFCAR"
    )
