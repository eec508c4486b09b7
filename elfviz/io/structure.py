"""Structure-only formats through ``ase.io``: CIF, extended XYZ, pw.x input, CASTEP cell.

Everything is parsed from memory (a string or bytes), so uploads never touch the disk.
"""

from __future__ import annotations

import io
import logging
import warnings

from ..errors import FileFormatError, StructureError

log = logging.getLogger(__name__)

_BINARY = {"cif"}  # ASE opens these in binary mode


def read_ase(data: bytes, fmt: str, name: str, *, index: int | None = None):
    """Parse a structure file held in memory with ``ase.io.read``.

    Parameters
    ----------
    data : bytes
        File content.
    fmt : str
        ASE format name (``cif``, ``extxyz``, ``espresso-in``, ``castep-cell``).
    name : str
        File name for messages.
    index : int, optional
        Frame of a multi-frame file (extended XYZ); default the last one, as ASE does.

    Returns
    -------
    (ase.Atoms, int)
        The structure and the number of frames in the file.

    Raises
    ------
    FileFormatError
        If ASE cannot parse the content.
    """
    import ase.io

    handle = io.BytesIO(data) if fmt in _BINARY else io.StringIO(data.decode("utf-8", errors="replace"))
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            images = ase.io.read(handle, index=":", format=fmt)
    except StructureError:
        raise
    except Exception as exc:  # ASE raises many types for bad files
        detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise FileFormatError(
            f"{name}: could not be read as {fmt} ({detail}); check the file, or rename it "
            "with the extension of its real format"
        ) from None
    if not images:
        raise FileFormatError(f"{name}: no structure found in the {fmt} file")
    n_frames = len(images)
    if index is None:
        index = -1
    try:
        atoms = images[index]
    except (IndexError, TypeError):
        raise FileFormatError(
            f"{name}: frame {index} asked for, but the file holds {n_frames} frame(s)"
        ) from None
    return atoms, n_frames


def write_ase(atoms, fmt: str) -> bytes:
    """Serialise ``atoms`` with ``ase.io.write`` into bytes (nothing touches the disk).

    For ``espresso-in`` the pseudopotential of hydrogen is the project's reference choice
    (``H_HSCV_PBE-1.0.UPF``, see DESIGN.md) and ``<symbol>.UPF`` for other elements.
    """
    import ase.io

    kwargs = {}
    if fmt == "espresso-in":
        kwargs["pseudopotentials"] = {
            s: ("H_HSCV_PBE-1.0.UPF" if s == "H" else f"{s}.UPF") for s in set(atoms.get_chemical_symbols())
        }
    handle = io.BytesIO() if fmt in _BINARY else io.StringIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # ASE's CASTEP module warns that no CASTEP binary is installed
        ase.io.write(handle, atoms, format=fmt, **kwargs)
    value = handle.getvalue()
    return value if isinstance(value, bytes) else value.encode()
