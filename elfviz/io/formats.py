"""Which file format is this? Decided from the name first, then from the content.

Each format is one :class:`FileFormat` record in :data:`RECORDS` (name, description, extensions, what it holds,
who parses it, how its content is recognised); the tables the rest of :mod:`elfviz.io` uses are derived from
them. Format names used throughout :mod:`elfviz.io`:

=============  ==========================================  ==========  =========
name           files                                       fields      via
=============  ==========================================  ==========  =========
netcdf         ``*.nc`` (elfviz Dataset, netCDF4/HDF5)     all         elfviz.io.store
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
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import PurePath

from ..errors import FileFormatError
from ..grid import keys

HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
GZIP_MAGIC = b"\x1f\x8b"


@dataclass(frozen=True)
class FileFormat:
    """One file format: its name, what it holds, how elfviz recognises it and who parses it.

    ``sniff(head_text, head_bytes)`` says whether the first kB of a file look like this format; formats are
    sniffed in the order of :data:`RECORDS`.
    """

    name: str
    description: str
    extensions: tuple[str, ...]
    fields: str  # "all", "one", "several", "0, 1 or 2", "none"
    engine: str  # "elfviz" or "ASE"
    sniff: Callable[[str, bytes], bool]

    @property
    def holds_fields(self) -> bool:
        return self.fields != "none"


def _sniff_xsf(text: str, head: bytes) -> bool:
    from .xsf import looks_like_xsf

    return looks_like_xsf(text)


def _sniff_cube(text: str, head: bytes) -> bool:
    from .cube import looks_like_cube

    return looks_like_cube(text)


def _sniff_vasp(text: str, head: bytes) -> bool:
    from .vasp import looks_like_vasp

    return looks_like_vasp(text)


def _sniff_extxyz(text: str, head: bytes) -> bool:
    first_lines = text.splitlines()[:2]
    return len(first_lines) == 2 and first_lines[0].strip().isdigit() and "lattice=" in first_lines[1].lower()


RECORDS = (
    FileFormat("netcdf", "elfviz netCDF Dataset (.nc): structure and all fields", (".nc", ".nc4", ".h5", ".netcdf"),
               "all", "elfviz", lambda text, head: head.startswith(HDF5_MAGIC)),
    FileFormat("xsf", "XCrySDen XSF (.xsf) with DATAGRID_3D blocks", (".xsf",), "several", "elfviz", _sniff_xsf),
    FileFormat("espresso-in", "Quantum ESPRESSO pw.x input (.pwi, .in), structure only", (".pwi", ".in"), "none",
               "ASE", lambda text, head: "&system" in text.lower() and ("atomic_positions" in text.lower()
                                                                          or "nat" in text.lower())),
    FileFormat("castep-cell", "CASTEP cell (.cell), structure only", (".cell",), "none", "ASE",
               lambda text, head: "%block" in text.lower() and ("lattice_" in text.lower()
                                                                 or "positions_" in text.lower())),
    FileFormat("cif", "CIF (.cif), structure only", (".cif",), "none", "ASE",
               lambda text, head: bool(re.search(r"^\s*data_", text, re.MULTILINE))
               and "_cell_length_a" in text.lower()),
    FileFormat("extxyz", "extended XYZ with Lattice= (.xyz, .extxyz), structure only", (".xyz", ".extxyz"), "none",
               "ASE", _sniff_extxyz),
    FileFormat("cube", "Gaussian cube (.cube): one field, bohr units", (".cube", ".cub"), "one", "elfviz", _sniff_cube),
    FileFormat("vasp", "VASP POSCAR/CONTCAR, CHGCAR/ELFCAR layout (ELFCAR, CHGCAR, *.vasp)", (".vasp", ".poscar"),
               "0, 1 or 2", "elfviz", _sniff_vasp),
)
"""Every supported format, one record each, in sniffing order."""

BY_NAME = {record.name: record for record in RECORDS}

FORMATS = {record.name: record.description for record in RECORDS}
"""Supported formats and a one-line description of each."""

FIELD_FORMATS = tuple(record.name for record in RECORDS if record.holds_fields)
"""Formats that can hold a field on a grid."""

ASE_FORMATS = tuple(record.name for record in RECORDS if record.engine == "ASE")
"""Structure formats read and written through ``ase.io``."""

VASP_NAMES = {
    "poscar": None,
    "contcar": None,
    "elfcar": keys.ELF,
    "chgcar": "charge",
    "chg": "charge",
    "parchg": "charge",
    "aeccar0": "charge",
    "aeccar1": "charge",
    "aeccar2": "charge",
    "locpot": "potential",
}
"""VASP file names and the default name of the field they hold (``None``: structure only)."""

_EXTENSIONS = {extension: record.name for record in RECORDS for extension in record.extensions}


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
    text = head.decode("latin-1")
    return next((record.name for record in RECORDS if record.sniff(text, head)), None)


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
