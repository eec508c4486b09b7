"""Where the dashboard's structures come from: bundled examples, uploads, cache keys (no widgets here).

Examples are the liquid frames of the bundled dataset (one per density, held-out test frames first,
training frames labelled so, each with its Quantum ESPRESSO reference ELF), the dataset's crystal frames,
and the crystal phases of :mod:`elfviz.structures` that the dataset does not hold (structure only; the
model predicts their ELF). Uploads are parsed and checked in full (format, grid, pure hydrogen) here.
"""

from __future__ import annotations

import hashlib
import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from .. import grid
from ..errors import ElfvizError, FileFormatError
from ..grid import keys

log = logging.getLogger(__name__)

WEBSOCKET_MAX_MESSAGE_BYTES = 20 * 1024 * 1024
"""Largest message a Bokeh/Panel server accepts by default (``--websocket-max-message-size``). A browser
upload travels in one message, base64-encoded (4/3 of the file); a larger message drops the connection."""

MAX_UPLOAD_BYTES = 14 * 1024 * 1024
"""Largest accepted upload on a server with the default message limit (14 MiB: 4/3 of it fits 20 MiB)."""

SERVE_MAX_UPLOAD_BYTES = 50 * 1024 * 1024
"""Largest accepted upload under ``elfviz serve``, which raises the message limit to fit it (50 MiB: a
64-atom cell with a 120^3 ELF cube is about 25 MB of text)."""


def websocket_limit_for(max_upload_bytes: int) -> int:
    """Websocket message limit (bytes) a server needs for uploads of up to ``max_upload_bytes``.

    Examples
    --------
    >>> websocket_limit_for(MAX_UPLOAD_BYTES) <= WEBSOCKET_MAX_MESSAGE_BYTES
    True
    """
    return int(max_upload_bytes * 4 / 3) + 1024 * 1024  # base64 plus the message's JSON


@dataclass(frozen=True)
class Example:
    """One built-in example structure.

    Attributes
    ----------
    key : str
        Unique, stable identifier (``frame:<frame_id>`` or ``phase:<name>``).
    label : str
        What the user sees, e.g. ``"liquid  rs=1.40 bohr  (250 GPa, 1200 K)"``.
    kind : str
        ``"frame"`` (from the bundled dataset; carries the reference ELF) or ``"phase"`` (built).
    name : str
        Frame id or phase name.
    """

    key: str
    label: str
    kind: str
    name: str


def bundled_collection():
    """The frames elfviz offers as a :class:`~elfviz.io.store.FrameCollection`, or None if there are none.

    The full dataset in a source checkout, else the examples bundled in the package
    (:func:`elfviz.data.frames_path`).
    """
    try:
        from ..data import frames_path
        from ..io.store import FrameCollection

        coll = FrameCollection(frames_path())
        if len(coll) == 0:
            raise FileFormatError(f"the bundled dataset at {coll.root} has no frames")
        return coll
    except (ImportError, ElfvizError, OSError) as exc:
        log.warning("bundled dataset unavailable (%s); only built crystal phases are offered", exc)
        return None


def _fmt(value: Any, spec: str, unit: str) -> str | None:
    try:
        value = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(value) else f"{value:{spec}} {unit}"


SPLIT_NOTES = {"train": "training frame", "validation": "validation frame"}
"""What the label of a frame outside the test split says about it (the model has seen training frames)."""

_SPLIT_ORDER = {"test": 0, "validation": 1}  # then training frames and anything else


def _frame_label(row) -> str:
    extras = [x for x in (_fmt(row.get("pressure_gpa"), ".0f", "GPa"), _fmt(row.get("temperature_k"), ".0f", "K"))
              if x]
    rs = _fmt(row.get("rs_bohr"), ".2f", "bohr")
    text = f"{row['phase']}  rs={rs}" if rs else str(row["phase"])
    note = SPLIT_NOTES.get(str(row.get("split", "")))
    return (text + (f"  ({', '.join(extras)})" if extras else "") + f"  [{row['frame_id']}]"
            + (f"  · {note}" if note else ""))


def example_catalog(collection: Any = "bundled") -> list[Example]:
    """Built-in examples: one liquid frame per density, the dataset's crystals, and the other crystal phases.

    Parameters
    ----------
    collection : FrameCollection, None or "bundled"
        Where frames come from (default the bundled dataset; None: crystal phases only).

    Returns
    -------
    list of Example
        Liquid frames, one per density: first the densities with a held-out (test-split) frame, by
        increasing rs, then those with only a validation or training frame (labelled so, e.g.
        ``"· training frame"``: the model was fitted on it); then crystals by name. Crystal phases are those
        :func:`elfviz.structures.build_phase` can build (whose coordinates are bundled).
    """
    from .. import structures

    buildable = structures.available_phases() if hasattr(structures, "available_phases") else \
        list(structures.PHASES)
    if isinstance(collection, str) and collection == "bundled":
        collection = bundled_collection()
    examples: list[Example] = []
    phases_in_dataset: set[str] = set()
    if collection is not None:
        table = collection.index.copy()
        table["_rs"] = np.round(table["rs_bohr"].astype(float), 2)
        split = table["split"].astype(str) if "split" in table else ""
        table["_split"] = [_SPLIT_ORDER.get(x, len(_SPLIT_ORDER)) for x in split]  # held-out frames first
        liquid = table[table["phase"].astype(str) == "liquid"].sort_values(["_split", "_rs", "frame_id"])
        # the most held-out frame of each density, held-out densities first
        for _, row in liquid.groupby("_rs", sort=False).head(1).iterrows():
            examples.append(Example(f"frame:{row['frame_id']}", _frame_label(row), "frame", str(row["frame_id"])))
        crystals = table[table["phase"].astype(str) != "liquid"].sort_values(["phase", "_rs", "frame_id"])
        for _, row in crystals.iterrows():
            phases_in_dataset.add(str(row["phase"]))
            examples.append(Example(f"frame:{row['frame_id']}", _frame_label(row), "frame", str(row["frame_id"])))
    for name in buildable:
        if name not in phases_in_dataset:
            examples.append(Example(f"phase:{name}", f"{name}  (crystal, structure only)", "phase", name))
    return examples


def load_example(example: Example, collection: Any = "bundled") -> xr.Dataset:
    """The Dataset of an example: the frame with its reference ``elf``, or the built crystal (no field)."""
    if example.kind == "frame":
        if isinstance(collection, str) and collection == "bundled":
            collection = bundled_collection()
        if collection is None:
            raise FileFormatError("the bundled dataset is not installed, so frame examples are unavailable")
        ds = collection.read(example.name)
        ds.attrs.setdefault("label", example.label)
        return ds
    if example.kind == "phase":
        from ..structures import build_phase

        atoms = build_phase(example.name)
        return grid.from_atoms(atoms, spacing=0.12, source=f"structure:{example.name}",
                               attrs={"phase": example.name})
    raise FileFormatError(f"unknown example kind {example.kind!r}")


def check_upload_size(data: bytes | None, name: str, max_bytes: int, *, expected: str, instead: str) -> None:
    """Refuse an empty upload (saying what to upload: ``expected``) or one over ``max_bytes`` (saying what to do
    ``instead``), before anything parses it.

    Raises
    ------
    FileFormatError
    """
    if data is None or len(data) == 0:
        raise FileFormatError(f"{name} is empty (0 bytes); upload {expected}")
    if len(data) > max_bytes:
        raise FileFormatError(f"{name} is {len(data) / 2**20:.1f} MiB, above the {max_bytes / 2**20:.0f} MiB "
                              f"upload limit; {instead}")


def read_upload(data: bytes, filename: str, *, max_bytes: int = MAX_UPLOAD_BYTES) -> xr.Dataset:
    """Parse an uploaded file from memory into an elfviz Dataset (structure, with fields if it has them).

    Parameters
    ----------
    data : bytes
        File content.
    filename : str
        Original name; its extension picks the format (``.cube``, ``.xsf``, ``ELFCAR``, ``.nc``, ``.cif``,
        ``.xyz`` ...).
    max_bytes : int
        Size cap.

    Raises
    ------
    FileFormatError
        Empty, oversized or unreadable files; the message names the file and the problem.
    SpeciesError, StructureError, GridError
        A structure that is not pure hydrogen, has no atoms, or an inconsistent grid: everything is checked
        here, before the dashboard's state is touched.
    """
    name = str(filename or "upload")
    check_upload_size(data, name, max_bytes,
                      expected="a structure or ELF file with content, e.g. a hydrogen cube, XSF, ELFCAR, CIF or "
                               "extended XYZ file",
                      instead="use `elfviz` on the command line for large files")
    from ..io import read_bytes

    try:
        ds = read_bytes(bytes(data), name)
    except ElfvizError:
        raise
    except Exception as exc:  # a parser bug must not take the dashboard down
        raise FileFormatError(f"could not read {name}: {type(exc).__name__}: {exc}; check that the file is "
                              "a complete structure or ELF file and that its extension names its format") from None
    check_upload(ds, name)
    ds.attrs.setdefault("label", f"upload: {name}")
    return ds


def check_upload(ds: xr.Dataset, name: str) -> None:
    """Raise unless ``ds`` (read from the file ``name``) is a valid pure-hydrogen structure the dashboard can show.

    Raises
    ------
    SpeciesError
        Other species than hydrogen (the message lists them).
    StructureError, GridError
        No atoms, or cell, positions and fields that do not fit together.
    """
    from ..errors import SpeciesError, StructureError

    try:
        grid.validate(ds)
    except ElfvizError as exc:
        raise type(exc)(f"{name} is not a valid structure: {exc}") from None
    numbers = np.asarray(ds[keys.NUMBERS].values).reshape(-1)
    if len(numbers) == 0:
        raise StructureError(f"{name} holds no atoms; upload a hydrogen structure")
    if np.any(numbers != 1):
        from ase.data import chemical_symbols

        others = sorted({chemical_symbols[int(z)] for z in numbers if int(z) != 1})
        raise SpeciesError(f"{name} contains {', '.join(others)}, but the ELF model and the analysis here are "
                           "for pure hydrogen; upload a hydrogen-only structure (for other elements use a "
                           "first-principles reference: elfviz reference)")


def has_field(ds: xr.Dataset | None, name: str = keys.ELF) -> bool:
    """True if ``ds`` holds the grid field ``name``."""
    return ds is not None and name in grid.field_names(ds)


def structure_key(ds: xr.Dataset, *, decimals: int = 5) -> str:
    """A short hash of a structure (cell, positions, numbers rounded to ``decimals`` Å) and its grid.

    Used to cache model predictions per structure; two Datasets with the same atoms on the same grid
    share a key whatever fields they carry.

    Examples
    --------
    >>> ds = grid.make_dataset(np.eye(3) * 3, [[0, 0, 0]], [1], shape=(4, 4, 4))
    >>> structure_key(ds) == structure_key(grid.with_field(ds, "elf", np.zeros((4, 4, 4))))
    True
    """
    digest = hashlib.sha1()
    for name in (keys.CELL, keys.POSITIONS):
        digest.update(np.round(ds[name].values.astype(float), decimals).tobytes())
    digest.update(ds[keys.NUMBERS].values.astype(np.int64).tobytes())
    digest.update(np.asarray(grid.grid_shape(ds), dtype=np.int64).tobytes())
    return digest.hexdigest()[:16]
