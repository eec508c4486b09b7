"""Read and write structures and ELF fields: one :func:`read`, one :func:`write`.

Supported formats (see :mod:`elfviz.io.formats`): elfviz netCDF, Gaussian cube, XSF ``DATAGRID_3D``,
VASP POSCAR/CONTCAR and the CHGCAR/ELFCAR layout (all parsed and written by elfviz, fast NumPy
formatting), and through ASE: CIF, extended XYZ with a lattice, Quantum ESPRESSO pw.x input and
CASTEP ``.cell``. Files may be gzip-compressed (``ELFCAR.gz``).

Every reader returns the elfviz Dataset (:mod:`elfviz.grid`): structure, and the file's fields on
the periodic ``(a, b, c)`` grid. A structure-only file gets an empty grid of ``spacing`` Å.

Field names
-----------
* cube, single-grid XSF and ELFCAR: ``elf`` (or ``field=...``);
* spin-polarised ELFCAR: ``elf_spin_up`` and ``elf_spin_down`` as stored, and ``elf`` = their mean
  (exact for a spin-unpolarised system, where the two are equal; for a polarised one it is a
  convention, recorded in the ``elf_spin_combination`` attribute);
* CHGCAR/PARCHG/AECCAR: ``charge`` (density x cell volume, as VASP stores it) and, spin-polarised,
  ``magnetization``; LOCPOT: ``potential``;
* XSF with several grids: the datagrid names (``DATAGRID_3D_elf`` -> ``elf``).
Values are never rescaled: an ELFCAR is not divided by the cell volume.

Examples
--------
>>> import os, tempfile
>>> import numpy as np
>>> from elfviz import grid
>>> ds = grid.make_dataset(np.eye(3) * 3.0, [[0, 0, 0]], [1], elf=np.full((6, 6, 6), 0.5))
>>> path = os.path.join(tempfile.mkdtemp(), "x.cube")
>>> _ = write(ds, path)
>>> float(read(path)["elf"].mean())
0.5
"""

from __future__ import annotations

import logging
import os
import zlib
from pathlib import Path, PurePath
from typing import Any

import xarray as xr

from .. import grid
from ..errors import FileFormatError
from ..grid import keys
from ._build import parse_volumetric, read_netcdf_bytes, to_dataset
from ._write import serialise
from .formats import (
    ASE_FORMATS,
    FIELD_FORMATS,
    FORMATS,
    GZIP_MAGIC,
    HDF5_MAGIC,
    detect_format,
    strip_compression,
)
from .store import atomic_write, check_writable

log = logging.getLogger(__name__)

__all__ = [
    "read",
    "read_bytes",
    "read_structure",
    "write",
    "check_output",
    "detect_format",
    "FORMATS",
    "FIELD_FORMATS",
    "MAX_UPLOAD_BYTES",
    "DEFAULT_SPACING",
]

MAX_UPLOAD_BYTES = 256 * 2**20
"""Default size cap (bytes, after decompression) for :func:`read_bytes`."""

DEFAULT_SPACING = 0.12
"""Grid spacing (Å) given to structure-only files."""

KNOWN_FIELDS = set(grid.ELF_FIELDS) | {"residual", "charge", "density", "magnetization", "potential"}


# ----------------------------------------------------------------------------- reading
def read(
    path: str | os.PathLike,
    *,
    index: int | None = None,
    field: str | None = None,
    spacing: float = DEFAULT_SPACING,
    format: str | None = None,
) -> xr.Dataset:  # noqa: A002
    """Read a structure, with its fields if the file has any, into the elfviz Dataset.

    Parameters
    ----------
    path : path-like
        The file (gzip-compressed files are recognised by content).
    index : int, optional
        Frame of a multi-frame structure file (extended XYZ, animated XSF); default the last.
    field : str, optional
        Name for the file's field instead of the default (``elf`` for cube/XSF/ELFCAR). Use it to
        load a density or a CHGCAR under its own name, e.g. ``field="charge"``.
    spacing : float
        Grid spacing in Å for structure-only files (default 0.12 Å).
    format : str, optional
        Force a format (one of :data:`FORMATS`) instead of detecting it.

    Returns
    -------
    xarray.Dataset
        The validated elfviz Dataset; ``attrs["source"]`` is ``"file:<name>"``.

    Raises
    ------
    FileFormatError
        Missing, empty, unreadable, unknown or inconsistent file.
    StructureError
        No cell, not periodic, NaN coordinates, overlapping atoms.
    GridError
        A field read as ELF with values outside [0, 1] (give ``field=`` another name).
    """
    path = Path(path)
    if not path.exists():
        raise FileFormatError(f"{path}: no such file")
    if path.is_dir():
        raise FileFormatError(f"{path} is a directory; give a file")
    try:
        with path.open("rb") as handle:
            head = handle.read(8)
        if format == "netcdf" or (format is None and head.startswith(HDF5_MAGIC)):
            from .store import read_netcdf

            return read_netcdf(path)
        data = path.read_bytes()
    except OSError as exc:
        raise FileFormatError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    return read_bytes(
        data, str(path), index=index, field=field, spacing=spacing, format=format, max_bytes=None
    )


def read_bytes(
    data: bytes,
    filename: str,
    *,
    index: int | None = None,
    field: str | None = None,
    spacing: float = DEFAULT_SPACING,
    format: str | None = None,  # noqa: A002
    max_bytes: int | None = MAX_UPLOAD_BYTES,
) -> xr.Dataset:
    """Parse a file held in memory (an upload), identified by its file name.

    Parameters
    ----------
    data : bytes
        The file content (may be gzip-compressed).
    filename : str
        The original file name; its extension helps to detect the format. Only the base name is used.
    max_bytes : int or None
        Refuse content larger than this many bytes (after decompression); ``None``: no limit.
    index, field, spacing, format
        As for :func:`read`.

    Examples
    --------
    >>> ds = read_bytes(b"1\\nLattice=\\"3 0 0 0 3 0 0 0 3\\" pbc=\\"T T T\\" "
    ...                 b"Properties=species:S:1:pos:R:3\\n"
    ...                 b"H 0 0 0\\n", "h.xyz")
    >>> int(ds.sizes["atom"])
    1
    """
    name = PurePath(filename).name or "upload"
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise FileFormatError(f"{name}: expected the file content as bytes, got {type(data).__name__}")
    data = bytes(data)
    _check_size(len(data), max_bytes, name)
    if data.startswith(GZIP_MAGIC):
        data = _gunzip(data, max_bytes, name)
        name = strip_compression(name)
    if not data.strip():
        raise FileFormatError(f"{name} is empty; nothing to read")
    fmt = format or detect_format(name, data[:8192])
    if fmt not in FORMATS:
        raise FileFormatError(f"unknown format {fmt!r}; choose one of {sorted(FORMATS)}")
    if fmt == "netcdf":
        return read_netcdf_bytes(data, name)
    if b"\x00" in data[:4096]:
        raise FileFormatError(
            f"{name}: binary content, but {fmt} is a text format; is the file corrupt or misnamed?"
        )
    text = _decode(data)
    if fmt in ASE_FORMATS:
        from .structure import read_ase

        atoms, n_frames = read_ase(data, fmt, name, index=index)
        attrs: dict[str, Any] = {"file_format": fmt}
        if n_frames > 1:
            attrs["n_frames_in_file"] = n_frames
            attrs["frame_index"] = int(index if index is not None else -1) % n_frames
        return grid.from_atoms(atoms, spacing=spacing, source=f"file:{name}", attrs=attrs)
    vol = parse_volumetric(text, fmt, name, index)
    return to_dataset(vol, fmt, name, field, spacing)


def read_structure(path: str | os.PathLike, *, index: int | None = None):
    """Read only the structure of a file (any supported format) as a periodic ``ase.Atoms`` (Å).

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from elfviz import grid
    >>> path = os.path.join(tempfile.mkdtemp(), "POSCAR")
    >>> _ = write(grid.make_dataset(np.eye(3) * 3.0, [[0, 0, 0]], [1], shape=(4, 4, 4)), path)
    >>> read_structure(path).get_chemical_formula()
    'H'
    """
    return grid.to_atoms(read(path, index=index, spacing=1.0))


def _check_size(n_bytes: int, max_bytes: int | None, name: str) -> None:
    if max_bytes is not None and n_bytes > max_bytes:
        raise FileFormatError(
            f"{name}: {n_bytes / 2**20:.1f} MiB is larger than the limit of "
            f"{max_bytes / 2**20:.0f} MiB; use a coarser grid or read the file from disk"
        )


def _gunzip(data: bytes, max_bytes: int | None, name: str) -> bytes:
    inflater = zlib.decompressobj(16 + zlib.MAX_WBITS)
    limit = 0 if max_bytes is None else max_bytes + 1
    try:
        out = inflater.decompress(data, limit)
    except zlib.error as exc:
        raise FileFormatError(f"{name}: corrupt gzip data ({exc})") from None
    if max_bytes is not None and (len(out) > max_bytes or inflater.unconsumed_tail):
        raise FileFormatError(
            f"{name}: more than {max_bytes / 2**20:.0f} MiB once decompressed; "
            "use a coarser grid or read the file from disk"
        )
    return out


def _decode(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("latin-1")


# ----------------------------------------------------------------------------- writing
def check_output(path: str | os.PathLike, *, force: bool = False, format: str | None = None) -> tuple[Path, str]:  # noqa: A002
    """Check, before any work, that :func:`write` can write ``path``: ``(path, format)``.

    Raises
    ------
    FileFormatError
        The format cannot be told from the name (or ``format`` is unknown).
    OutputExistsError
        The file exists and ``force`` is false, or it is a folder.
    OutputError
        Its folder cannot be created or written to.
    """
    from .formats import format_from_name

    path = Path(path)
    fmt = format or format_from_name(path.name)
    if fmt is None:
        raise FileFormatError(
            f"{path.name}: cannot tell the output format from the name; use an extension such as "
            ".nc, .cube, .xsf, .cif, .xyz, or a VASP name (POSCAR, ELFCAR)"
        )
    if fmt not in FORMATS:
        raise FileFormatError(f"unknown format {fmt!r}; choose one of {sorted(FORMATS)}")
    return check_writable(path, force), fmt


def write(
    ds: xr.Dataset,
    path: str | os.PathLike,
    *,
    force: bool = False,
    field: str | tuple | None = keys.ELF,
    format: str | None = None,
) -> Path:  # noqa: A002
    """Write a Dataset; the format follows from the file name (or ``format``).

    Parameters
    ----------
    ds : xarray.Dataset
        An elfviz Dataset.
    path : path-like
        Output file. ``.nc`` keeps everything; ``.cube`` one field; ``.xsf`` the chosen field (all
        fields with ``field=None``); ``ELFCAR``/``CHGCAR``/``*.vasp`` the field (a pair of names writes a
        spin-polarised file); ``POSCAR``/``CONTCAR``, ``.cif``, ``.xyz``, ``.pwi``, ``.cell`` the structure.
    force : bool
        Overwrite an existing file (otherwise :class:`~elfviz.errors.OutputExistsError`).
    field : str, tuple of two str, or None
        Field to write for the single-field formats.
    format : str, optional
        Force a format instead of deriving it from the name.

    Returns
    -------
    pathlib.Path
        The written file (written to a temporary name, then renamed).

    Raises
    ------
    OutputExistsError
        If ``path`` exists and ``force`` is false.
    GridError
        If the format needs a field the Dataset does not have.
    """
    path, fmt = check_output(path, force=force, format=format)
    grid.validate(ds)
    if fmt == "netcdf":
        from .store import write_netcdf

        return write_netcdf(ds, path, force=force)
    path = check_writable(path, force)
    content = serialise(ds, fmt, path.name, field)
    atomic_write(path, lambda tmp: tmp.write_bytes(content))
    log.info("wrote %s (%s)", path, fmt)
    return path
