"""Turn the inputs of a screening run (files, globs, trajectories, databases, collections) into items.

One *item* is one periodic structure to screen. Inputs expand as follows:

* a structure file ASE can read (POSCAR, CIF, Quantum ESPRESSO input/output, ``.traj``, extxyz ...):
  every frame of the file is an item (``frame`` = frame index, 0 for single-structure files);
* an ASE database (``.db``, ``.json`` database): every row is an item (``frame`` = row id);
* an elfviz netCDF file (``.nc``): one item (the structure; any field in the file is ignored);
* a volumetric file (``.cube``, ``.xsf``, ``ELFCAR``/``CHGCAR``): its structure, read by :mod:`elfviz.io`;
* a :class:`~elfviz.io.store.FrameCollection` folder (``index.csv`` + ``frames/``): every frame
  (``frame`` = frame id), optionally filtered on index columns (``split=test``);
* ``@dataset``: the full dataset in a source checkout, else the bundled examples (:func:`elfviz.data.frames_path`);
* ``phase:NAME``: a crystal phase built by :func:`elfviz.structures.build_phase` at its default density;
* a glob pattern (``frames/*.xyz``, ``runs/**/OUTCAR``): every matching path, sorted.

Structures are read here, in the client process, and shipped to the workers as small arrays, so the
workers of a remote Dask cluster need no access to the client's files. Every item carries a stable key
``<absolute path>#<frame>@<content hash>``: re-running on the same (unchanged) inputs gives the same keys,
which is what lets a screening run resume; an edited file gets a new key and is screened again.

A path that does not exist (or a glob that matches nothing) is an error of the command line and stops the
run before it starts; a file that exists but cannot be read becomes a failed item (``error`` set) that is
recorded in the results table while the batch goes on.
"""

from __future__ import annotations

import glob
import hashlib
import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import ElfvizError, FileFormatError
from ..grid import keys

log = logging.getLogger(__name__)

VOLUMETRIC_SUFFIXES = (".cube", ".xsf", ".vasp")
VOLUMETRIC_NAMES = ("ELFCAR", "CHGCAR", "PARCHG", "LOCPOT")
DATABASE_SUFFIXES = (".db",)
BUNDLED_DATASET = "@dataset"
PHASE_PREFIX = "phase:"

_GLOB_CHARS = set("*?[")
_KEPT_ATTRS = ("pressure_gpa", "temperature_k", "phase", "split", "trajectory")


@dataclass(frozen=True)
class ScreenItem:
    """One structure of a screening run.

    Attributes
    ----------
    key : str
        Stable identifier ``<source>#<frame>@<hash16>``.
    source : str
        Absolute path of the input (or ``phase:NAME``).
    frame : str
        Frame index, database row id or collection frame id (``"0"`` for single-structure files).
    content_hash : str
        SHA-256 (hex) of the structure (cell, positions, numbers), or of the file bytes for unreadable files.
    cell, positions, numbers : numpy.ndarray or None
        The structure (Å); None when reading failed.
    info : dict
        Known metadata: ``pressure_gpa``, ``temperature_k``, ``phase``, ``split``, ``trajectory``.
    pbc : tuple of bool
        Periodicity along a, b, c as read (the worker refuses structures that are not periodic in 3-D).
    error : str or None
        Why the structure could not be read (the item is then recorded as failed without being computed).
    """

    key: str
    source: str
    frame: str
    content_hash: str
    cell: np.ndarray | None = None
    positions: np.ndarray | None = None
    numbers: np.ndarray | None = None
    info: Mapping[str, Any] = field(default_factory=dict)
    pbc: tuple[bool, bool, bool] = (True, True, True)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def payload(self) -> dict[str, Any]:
        """The picklable structure shipped to a worker (plain arrays and numbers)."""
        return {
            "key": self.key,
            keys.CELL: self.cell,
            keys.POSITIONS: self.positions,
            keys.NUMBERS: self.numbers,
            "pbc": self.pbc,
            "info": dict(self.info),
        }


# ----------------------------------------------------------------------------- hashing
def structure_hash(cell: Any, positions: Any, numbers: Any) -> str:
    """SHA-256 (hex) of a structure, insensitive to float noise below 1e-8 Å.

    Examples
    --------
    >>> h = structure_hash(np.eye(3) * 3, [[0, 0, 0]], [1])
    >>> h == structure_hash(np.eye(3) * 3, [[1e-12, 0, 0]], [1]), len(h)
    (True, 64)
    """
    digest = hashlib.sha256()
    for arr, dtype in ((cell, np.float64), (positions, np.float64)):
        # round then add 0.0 so that -0.0 and 0.0 hash the same
        digest.update(np.ascontiguousarray(np.round(np.asarray(arr, dtype=dtype), 8) + 0.0).tobytes())
    digest.update(np.ascontiguousarray(np.asarray(numbers, dtype=np.int64)).tobytes())
    return digest.hexdigest()


def file_hash(path: str | os.PathLike) -> str:
    """SHA-256 (hex) of a file's bytes (streamed in 1 MiB blocks)."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def make_key(source: str, frame: Any, content_hash: str) -> str:
    """The stable item key ``<source>#<frame>@<first 16 hex digits of the hash>``."""
    return f"{source}#{frame}@{content_hash[:16]}"


def _item(
    source: str,
    frame: Any,
    cell: Any,
    positions: Any,
    numbers: Any,
    info: Mapping[str, Any] | None = None,
    pbc: Any = (True, True, True),
) -> ScreenItem:
    cell = np.asarray(cell, dtype=np.float64).reshape(3, 3)
    positions = np.asarray(positions, dtype=np.float64).reshape(-1, 3)
    numbers = np.asarray(numbers, dtype=np.int64).reshape(-1)
    digest = structure_hash(cell, positions, numbers)
    kept = {k: _plain(v) for k, v in (info or {}).items() if k in _KEPT_ATTRS and _plain(v) is not None}
    periodic = tuple(bool(p) for p in np.broadcast_to(np.asarray(pbc, dtype=bool), (3,)))
    return ScreenItem(
        make_key(source, frame, digest), source, str(frame), digest, cell, positions, numbers, kept, periodic
    )


def _failed(source: str, frame: Any, exc: BaseException, path: str | None = None) -> ScreenItem:
    digest = file_hash(path) if path and os.path.isfile(path) else hashlib.sha256(source.encode()).hexdigest()
    message = str(exc) or type(exc).__name__
    if not isinstance(exc, ElfvizError):
        message = f"{type(exc).__name__}: {message}"
    return ScreenItem(make_key(source, frame, digest), source, str(frame), digest, error=f"read: {message}")


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not np.isfinite(value):
        return None
    if isinstance(value, (str, int, float)):
        return value
    return None


# ----------------------------------------------------------------------------- expansion
def expand_paths(
    inputs: Iterable[str | os.PathLike], *, exclude: Iterable[str | os.PathLike] = ()
) -> list[str]:
    """Expand globs and check that every input exists; return absolute paths / special inputs in order.

    Paths in ``exclude`` (the run's own outputs, which a glob such as ``results/*`` may match) are dropped.

    Raises
    ------
    FileFormatError
        If a path does not exist or a glob matches nothing (checked before any work starts).
    """
    excluded = {os.path.abspath(os.fspath(p)) for p in exclude}
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    out: list[str] = []
    for raw in inputs:
        text = os.fspath(raw)
        if text == BUNDLED_DATASET:
            from ..data import frames_path

            path = frames_path()  # the full dataset in a checkout, else the bundled examples
            if not (path / "index.csv").exists():
                raise FileFormatError(
                    f"the bundled dataset is not installed at {path} (no index.csv); "
                    "build it with `elfviz dataset build` or give paths to structures"
                )
            out.append(str(path))
        elif text.startswith(PHASE_PREFIX):
            out.append(text)
        elif _GLOB_CHARS & set(text):
            matches = sorted(glob.glob(os.path.expanduser(text), recursive=True))
            if not matches:
                raise FileFormatError(
                    f"the pattern {text!r} matches no file; check the path (quote the pattern "
                    "so the shell does not expand it)"
                )
            out.extend(os.path.abspath(m) for m in matches)
        else:
            path = os.path.expanduser(text)
            if not os.path.exists(path):
                raise FileFormatError(
                    f"{text} does not exist; give structure files, globs, an ASE database, "
                    "elfviz netCDF files or a frame-collection folder"
                )
            out.append(os.path.abspath(path))
    out = [p for p in out if p not in excluded and not any(p.startswith(e + os.sep) for e in excluded)]
    if not out:
        raise FileFormatError("no inputs given: pass structure files, globs or folders to screen")
    return out


def iter_items(
    inputs: Iterable[str | os.PathLike],
    *,
    select: Mapping[str, Any] | None = None,
    exclude: Iterable[str | os.PathLike] = (),
) -> Iterator[ScreenItem]:
    """Expand inputs into items, one per structure, in input order (duplicates by key removed).

    Parameters
    ----------
    inputs : iterable of str or path-like
        Files, globs, folders, ``@dataset`` or ``phase:NAME`` (see the module docstring).
    select : mapping, optional
        Filter for frame-collection folders on their index columns, e.g. ``{"split": "test"}``
        (a list value matches any of its entries).
    exclude : iterable of path-like
        Paths never taken as inputs (the run's own output files and folders).

    Yields
    ------
    ScreenItem
        Readable structures, and failed items for files that exist but cannot be read.

    Examples
    --------
    >>> import tempfile, ase.io
    >>> from ase import Atoms
    >>> path = os.path.join(tempfile.mkdtemp(), "two.extxyz")
    >>> frames = [Atoms("H2", [[0, 0, 0], [0.74 + 0.01 * i, 0, 0]], cell=[3, 3, 3], pbc=True)
    ...           for i in range(2)]
    >>> ase.io.write(path, frames)
    >>> [item.frame for item in iter_items([path])]
    ['0', '1']
    """
    seen: set[str] = set()
    for source in expand_paths(inputs, exclude=exclude):
        for item in _expand_one(source, select):
            if item.key in seen:
                log.info("skipping %s: already listed", item.key)
                continue
            seen.add(item.key)
            yield item


def _expand_one(source: str, select: Mapping[str, Any] | None) -> Iterator[ScreenItem]:
    if source.startswith(PHASE_PREFIX):
        yield from _phase_items(source)
        return
    path = Path(source)
    if path.is_dir():
        if (path / "index.csv").exists():
            yield from _collection_items(path, select)
            return
        raise FileFormatError(
            f"{path} is a folder without index.csv (not a frame collection); give the files "
            f"inside it with a glob such as '{path}/*'"
        )
    suffix = path.suffix.lower()
    try:
        if suffix == ".nc":
            yield _netcdf_item(path)
        elif suffix in DATABASE_SUFFIXES:
            yield from _database_items(path)
        elif suffix in VOLUMETRIC_SUFFIXES or path.name.upper().startswith(VOLUMETRIC_NAMES):
            yield _volumetric_item(path)
        else:
            yield from _ase_items(path)
    except _ItemsFailed as failed:
        yield failed.item


class _ItemsFailed(Exception):
    def __init__(self, item: ScreenItem):
        super().__init__(item.error)
        self.item = item


def _ase_items(path: Path) -> Iterator[ScreenItem]:
    import ase.io

    source = str(path)
    try:
        frames = ase.io.iread(source, index=":")
        count = 0
        for index, atoms in enumerate(frames):
            count += 1
            yield _item(
                source, index, atoms.cell.array, atoms.positions, atoms.numbers, _atoms_info(atoms), atoms.pbc
            )
        if count == 0:
            raise FileFormatError(f"{path.name} holds no structure")
    except Exception as exc:  # ASE raises many types for unreadable files
        if isinstance(exc, ElfvizError):
            raise _ItemsFailed(_failed(source, "*", exc, source)) from None
        hint = FileFormatError(
            f"{path.name} is not a structure file ASE can read ({type(exc).__name__}: {exc})"
        )
        raise _ItemsFailed(_failed(source, "*", hint, source)) from None


def _atoms_info(atoms) -> dict[str, Any]:
    info = dict(getattr(atoms, "info", {}) or {})
    if "pressure_gpa" not in info and "pressure" in info:
        info["pressure_gpa"] = info["pressure"]
    if "temperature_k" not in info and "temperature" in info:
        info["temperature_k"] = info["temperature"]
    return info


def _database_items(path: Path) -> Iterator[ScreenItem]:
    import ase.db

    source = str(path)
    try:
        database = ase.db.connect(source)
        rows = list(database.select())
    except Exception as exc:
        raise _ItemsFailed(
            _failed(
                source,
                "*",
                FileFormatError(f"{path.name} is not a readable ASE database ({type(exc).__name__}: {exc})"),
                source,
            )
        ) from None
    for row in rows:
        try:
            atoms = row.toatoms()
            info = dict(row.get("key_value_pairs", {}) or {})
            info.update(_atoms_info(atoms))
            if "pressure_gpa" not in info and "pressure" in info:
                info["pressure_gpa"] = info["pressure"]
            yield _item(source, row.id, atoms.cell.array, atoms.positions, atoms.numbers, info, atoms.pbc)
        except Exception as exc:
            yield _failed(source, row.id, exc)


def _netcdf_item(path: Path) -> ScreenItem:
    from ..io.store import read_netcdf

    source = str(path)
    try:
        ds = read_netcdf(path)
    except Exception as exc:
        raise _ItemsFailed(_failed(source, 0, exc, source)) from None
    return _item(source, 0, ds[keys.CELL].values, ds[keys.POSITIONS].values, ds[keys.NUMBERS].values, ds.attrs)


def _volumetric_item(path: Path) -> ScreenItem:
    source = str(path)
    try:
        try:
            from .. import io as elfviz_io

            reader = elfviz_io.read_structure
        except (ImportError, AttributeError):  # elfviz.io not installed: ASE reads the structure part
            import ase.io

            reader = ase.io.read
        atoms = reader(source)
    except Exception as exc:
        raise _ItemsFailed(_failed(source, 0, exc, source)) from None
    return _item(source, 0, atoms.cell.array, atoms.positions, atoms.numbers, _atoms_info(atoms))


def _collection_items(path: Path, select: Mapping[str, Any] | None) -> Iterator[ScreenItem]:
    from ..io.store import FrameCollection, read_netcdf

    collection = FrameCollection(path)
    try:
        table = collection.select(**dict(select)) if select else collection.index
    except KeyError as exc:
        raise FileFormatError(f"cannot select frames of {path}: {exc.args[0]}") from None
    if select and table.empty:
        log.warning("no frame of %s matches %s", path, dict(select))
    source = str(path)
    for _, row in table.iterrows():
        frame_id = str(row["frame_id"])
        frame_path = path / str(row["file"])
        try:
            ds = read_netcdf(frame_path)
        except Exception as exc:
            yield _failed(source, frame_id, exc, str(frame_path))
            continue
        info = dict(ds.attrs)
        for column in _KEPT_ATTRS:
            if column in row and _plain(row[column]) is not None:
                info[column] = row[column]
        yield _item(source, frame_id, ds[keys.CELL].values, ds[keys.POSITIONS].values, ds[keys.NUMBERS].values, info)


def _phase_items(source: str) -> Iterator[ScreenItem]:
    name = source[len(PHASE_PREFIX) :]
    try:
        from ..structures import build_phase

        atoms = build_phase(name)
    except ImportError as exc:
        raise FileFormatError(f"{source}: elfviz.structures is not available ({exc})") from None
    info = {"phase": name, **_atoms_info(atoms)}
    yield _item(source, 0, atoms.cell.array, atoms.positions, atoms.numbers, info)


def parse_select(pairs: Iterable[str]) -> dict[str, Any]:
    """Parse ``KEY=VALUE`` filters (``split=test``, ``phase=C2c-24,Cmca-12``) for collection folders.

    Examples
    --------
    >>> parse_select(["split=test", "phase=C2c-24,Cmca-12"])
    {'split': 'test', 'phase': ['C2c-24', 'Cmca-12']}
    """
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, value = str(pair).partition("=")
        if not sep or not key.strip() or not value.strip():
            raise ElfvizError(f"a selection must look like KEY=VALUE (e.g. split=test), got {pair!r}")
        values = [v.strip() for v in value.split(",") if v.strip()]
        out[key.strip()] = values[0] if len(values) == 1 else values
    return out
