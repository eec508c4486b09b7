"""netCDF storage of elfviz Datasets, and collections of frames (per-frame files plus an index table).

A single frame is one netCDF file (h5netcdf engine). A collection is a directory::

    DIR/index.csv         one row per frame: file, frame id, phase, trajectory, split, rs_bohr, pressure_gpa, ...
    DIR/frames/*.nc       one file per frame (different atom counts and grids are fine)

Frames are written to a temporary name and renamed, so an interrupted write never leaves a
half-written file under the final name, and nothing existing is overwritten unless asked.
"""

from __future__ import annotations

import os
import tempfile
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .. import grid
from ..errors import FileFormatError, OutputExistsError
from ..grid import keys

ENGINE = "h5netcdf"

INDEX_COLUMNS = ["file", "frame_id", "phase", "trajectory", "split", "n_atoms", "rs_bohr", "density_g_cm3",
                 "pressure_gpa", "temperature_k", "source"]

_TEXT_COLUMNS = ("file", "frame_id", "phase", "trajectory", "split", "source")


def check_writable(path: str | os.PathLike, force: bool = False) -> Path:
    """Refuse to overwrite an existing file unless ``force``; create the parent folder; check it is writable.

    Raises
    ------
    OutputExistsError
        ``path`` exists (and not ``force``) or is a folder.
    OutputError
        The folder cannot be created or written to.
    """
    from ..errors import OutputError

    path = Path(path)
    if path.is_dir():
        raise OutputExistsError(f"{path} is a folder; give a file name")
    if path.exists() and not force:
        raise OutputExistsError(f"{path} already exists; choose another name or pass --force / force=True "
                                "to overwrite it")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OutputError(f"cannot create the folder {path.parent} for {path.name} ({exc.strerror}); "
                          "choose a folder you can write to") from None
    if not os.access(path.parent, os.W_OK):
        raise OutputError(f"cannot write to the folder {path.parent} (permission denied); choose a folder you "
                          "can write to")
    return path


def atomic_write(path: Path, write) -> None:
    """Call ``write(tmp_path)`` then rename onto ``path`` (atomic on POSIX).

    The file gets the permissions a plain ``open(path, "w")`` would give it (``0o666`` less the umask), not
    the owner-only mode of a temporary file.
    """
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_netcdf(ds: xr.Dataset, path: str | os.PathLike, *, force: bool = False,
                 quantize: bool = False, complevel: int = 4) -> Path:
    """Write a Dataset to netCDF (h5netcdf, zlib-compressed).

    Parameters
    ----------
    ds : xarray.Dataset
        A Dataset in the elfviz schema (validated before writing).
    path : path-like
        Output file; refuses to overwrite unless ``force``.
    quantize : bool
        Store ELF fields as uint16 with ``scale_factor = 1/65535`` (exact to 7.6e-6, about 2x smaller than
        float32 before compression); used for the bundled dataset. Other fields stay float32.
    complevel : int
        zlib level 1-9.

    Returns
    -------
    pathlib.Path
        The written path.
    """
    grid.validate(ds)
    path = check_writable(path, force)
    out = ds.copy()
    out.attrs = grid.encode_attrs(ds.attrs)
    for name in out.data_vars:
        out[name].attrs = grid.encode_attrs(out[name].attrs)
    encoding: dict[str, dict[str, Any]] = {}
    for name in grid.field_names(out):
        enc: dict[str, Any] = {"zlib": True, "complevel": complevel}
        shape = grid.grid_shape(out)
        enc["chunksizes"] = shape
        if quantize and name in grid.ELF_FIELDS:
            out[name] = out[name].clip(0.0, 1.0)
            enc.update({"dtype": "uint16", "scale_factor": 1.0 / 65535.0, "_FillValue": None})
        else:
            enc.update({"dtype": "float32"})
        encoding[name] = enc
    def write(tmp: Path) -> None:
        with warnings.catch_warnings():  # quantized ELF has no NaN to encode; xarray warns regardless
            warnings.filterwarnings("ignore", message=".*without any _FillValue.*")
            out.to_netcdf(tmp, engine=ENGINE, encoding=encoding)

    atomic_write(path, write)
    return path


def read_netcdf(path: str | os.PathLike) -> xr.Dataset:
    """Read a Dataset written by :func:`write_netcdf` (loaded into memory, file closed)."""
    path = Path(path)
    if not path.exists():
        raise FileFormatError(f"{path} does not exist")
    try:
        with xr.open_dataset(path, engine=ENGINE) as handle:
            ds = handle.load()
    except Exception as exc:  # h5py/h5netcdf raise many different types
        raise FileFormatError(f"{path} is not a readable netCDF4/HDF5 file ({exc}); is it truncated?") from None
    ds.attrs = grid.decode_attrs(ds.attrs)
    for name in ds.data_vars:
        ds[name].attrs = grid.decode_attrs(ds[name].attrs)
        if name in grid.field_names(ds) and ds[name].dtype != np.float32:
            ds[name] = ds[name].astype(np.float32)
            ds[name].attrs = grid.decode_attrs(ds[name].attrs)
    for name in (keys.NUMBERS,):
        if name in ds:
            ds[name] = ds[name].astype(np.int64)
    try:
        return grid.validate(ds)
    except Exception as exc:
        raise FileFormatError(f"{path} is netCDF but not an elfviz Dataset: {exc}") from None


# ----------------------------------------------------------------------------- collections
class FrameCollection:
    """A directory of per-frame netCDF files with an ``index.csv`` table.

    Parameters
    ----------
    root : path-like
        The collection directory (created on first write).

    Examples
    --------
    >>> import tempfile
    >>> coll = FrameCollection(tempfile.mkdtemp())
    >>> ds = grid.make_dataset(np.eye(3) * 3, [[0, 0, 0]], [1], shape=(4, 4, 4))
    >>> _ = coll.add(ds, frame_id="demo-0", phase="liquid")
    >>> coll.index["frame_id"].tolist()
    ['demo-0']
    """

    def __init__(self, root: str | os.PathLike):
        self.root = Path(root)

    # -- index
    @property
    def index_path(self) -> Path:
        return self.root / "index.csv"

    @property
    def index(self) -> pd.DataFrame:
        """The index table (empty with the standard columns if the collection is new)."""
        if not self.index_path.exists():
            return pd.DataFrame(columns=INDEX_COLUMNS)
        try:
            # text columns stay text: a frame id such as "001" must not become the number 1
            return pd.read_csv(self.index_path, keep_default_na=True, dtype={c: str for c in _TEXT_COLUMNS})
        except Exception as exc:
            raise FileFormatError(f"{self.index_path} is not a readable index table ({exc})") from None

    def __len__(self) -> int:
        return len(self.index)

    def __contains__(self, frame_id: str) -> bool:
        return frame_id in set(self.index["frame_id"].astype(str))

    def frame_ids(self) -> list[str]:
        return self.index["frame_id"].astype(str).tolist()

    # -- write
    def add(self, ds: xr.Dataset, frame_id: str, *, force: bool = False, quantize: bool = True,
            **columns: Any) -> Path:
        """Write one frame and append (or replace, with ``force``) its row in the index.

        Extra keyword arguments become index columns (``phase``, ``trajectory``, ``split`` ...);
        ``rs_bohr``, ``density_g_cm3``, ``pressure_gpa`` and ``temperature_k`` are taken from the attrs.
        """
        frame_id = str(frame_id)
        if not frame_id or any(ch in frame_id for ch in "/\\") or frame_id.startswith("."):
            raise FileFormatError(f"invalid frame id {frame_id!r}: use letters, digits, '-', '_' and '.'")
        table = self.index
        if frame_id in set(table["frame_id"].astype(str)) and not force:
            raise OutputExistsError(f"frame {frame_id!r} is already in {self.root}; pass force=True to replace it")
        rel = Path("frames") / f"{frame_id}.nc"
        write_netcdf(ds, self.root / rel, force=True, quantize=quantize)
        row = {col: np.nan for col in INDEX_COLUMNS}
        row.update({"file": str(rel), "frame_id": frame_id, "n_atoms": int(ds.sizes["atom"]),
                    "source": ds.attrs.get("source", "")})
        for key in ("rs_bohr", "density_g_cm3", "pressure_gpa", "temperature_k", "phase", "trajectory", "split"):
            if key in ds.attrs:
                row[key] = ds.attrs[key]
        row.update(columns)
        self._write_row(row, table)
        return self.root / rel

    def _write_row(self, row: Mapping[str, Any], table: pd.DataFrame) -> None:
        """Replace or append ``row`` in the index ``table`` (as read before the frame was written)."""
        table = table[table["frame_id"].astype(str) != row["frame_id"]]
        table = pd.concat([table, pd.DataFrame([row])], ignore_index=True) if len(table) else pd.DataFrame([row])
        columns = INDEX_COLUMNS + [c for c in table.columns if c not in INDEX_COLUMNS]
        table = table.reindex(columns=columns)
        self.root.mkdir(parents=True, exist_ok=True)
        atomic_write(self.index_path, lambda tmp: table.to_csv(tmp, index=False))

    # -- read
    def read(self, frame_id: str) -> xr.Dataset:
        """Load one frame; its index row (phase, split, ...) is merged into the attrs."""
        table = self.index
        rows = table[table["frame_id"].astype(str) == str(frame_id)]
        if rows.empty:
            raise FileFormatError(f"no frame {frame_id!r} in {self.root}; available: {self.frame_ids()[:5]} ...")
        row = rows.iloc[0]
        ds = read_netcdf(self.root / row["file"])
        for key in ("phase", "trajectory", "split", "frame_id"):
            if key in row and isinstance(row[key], str):
                ds.attrs.setdefault(key, row[key])
        return ds

    def select(self, **criteria: Any) -> pd.DataFrame:
        """Rows of the index matching all criteria, e.g. ``select(split="test", phase="liquid")``."""
        table = self.index
        mask = np.ones(len(table), dtype=bool)
        for key, value in criteria.items():
            if key not in table:
                raise KeyError(f"the index has no column {key!r}; columns: {list(table.columns)}")
            values = value if isinstance(value, (list, tuple, set)) else [value]
            mask &= table[key].isin(values).to_numpy()
        return table[mask]

    def iter_frames(self, frame_ids: Iterable[str] | None = None) -> Iterator[xr.Dataset]:
        for frame_id in (self.frame_ids() if frame_ids is None else frame_ids):
            yield self.read(frame_id)

    def to_datatree(self, frame_ids: Iterable[str] | None = None):
        """All (or the given) frames as an ``xarray.DataTree`` with one child node per frame."""
        nodes = {f"/{fid}": self.read(fid) for fid in (self.frame_ids() if frame_ids is None else frame_ids)}
        return xr.DataTree.from_dict(nodes)
