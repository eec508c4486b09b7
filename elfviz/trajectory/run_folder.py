"""Finished frames kept beside the output while a trajectory runs, so an interrupted run can continue.

``OUT.nc.partial/`` holds ``run.json`` (the settings of the run) and one ``frame-NNNNNNNN.nc`` per finished
frame (a record of :mod:`elfviz.trajectory.records`, its ELF as uint16, zlib), each written aside and
renamed. The same settings continue the run; other settings are refused unless ``force`` discards it.
When every frame is done, :func:`write_trajectory` streams the records into ``OUT.nc`` (one field in
memory at a time), written aside and renamed, and the folder is removed.
"""

from __future__ import annotations

import json
import logging
import os
import re
import shutil
import warnings
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .. import grid
from ..errors import GridError, OutputExistsError
from ..grid import keys
from ..io.store import ENGINE, atomic_write
from .records import ELF_SCALE, quantise, trajectory_table

log = logging.getLogger(__name__)

PARTIAL_SUFFIX = ".partial"
_FRAME_FILE = re.compile(r"frame-(\d{8,})\.nc")


class RunFolder:
    """The finished frames of one run of ``out`` (``out`` + ``.partial``).

    Parameters
    ----------
    out : path-like
        The final output file.
    """

    def __init__(self, out: str | os.PathLike):
        self.out = Path(out)
        self.root = self.out.with_name(self.out.name + PARTIAL_SUFFIX)

    @property
    def settings_path(self) -> Path:
        return self.root / "run.json"

    def open(self, settings: Mapping[str, Any], *, force: bool = False) -> set[int]:
        """Start or continue the run with ``settings``; returns the frame indices already finished.

        Raises
        ------
        OutputExistsError
            The folder holds a run with other settings (and not ``force``, which discards it).
        """
        settings = json.loads(json.dumps(dict(settings), default=grid._json_default))
        if self.root.exists():
            previous = self._read_settings()
            if previous != settings:
                if not force:
                    changed = sorted(k for k in set(previous) | set(settings) if previous.get(k) != settings.get(k))
                    detail = ", ".join(f"{k} {previous.get(k)!r} -> {settings.get(k)!r}" for k in changed[:4])
                    raise OutputExistsError(
                        f"{self.root} holds an unfinished run with other settings ({detail}); rerun its command "
                        "to continue it, or pass --force / force=True to discard it and start again")
                log.info("discarding the unfinished run in %s (other settings)", self.root)
                shutil.rmtree(self.root)
        self.root.mkdir(parents=True, exist_ok=True)
        if not self.settings_path.exists():
            atomic_write(self.settings_path, lambda tmp: tmp.write_text(json.dumps(settings, indent=1)))
        return self.done()

    def _read_settings(self) -> dict[str, Any]:
        try:
            return json.loads(self.settings_path.read_text())
        except (OSError, ValueError):
            return {}

    def done(self) -> set[int]:
        """Frame indices with a finished record."""
        if not self.root.is_dir():
            return set()
        return {int(m[1]) for p in self.root.iterdir() if (m := _FRAME_FILE.fullmatch(p.name))}

    def path_of(self, index: int) -> Path:
        return self.root / f"frame-{int(index):08d}.nc"

    def save(self, record: xr.Dataset) -> Path:
        """Write one record (its ELF quantised to uint16, zlib), aside and renamed."""
        index = int(record["frame"].values[0])
        out = record.copy()
        encoding: dict[str, Any] = {}
        if keys.ELF in out:
            out[keys.ELF] = (out[keys.ELF].dims, quantise(out[keys.ELF].values))
            encoding[keys.ELF] = {"zlib": True, "complevel": 4, "chunksizes": out[keys.ELF].shape}
        path = self.path_of(index)
        atomic_write(path, lambda tmp: out.to_netcdf(tmp, engine=ENGINE, encoding=encoding))
        return path

    def table(self, index: int) -> xr.Dataset:
        """The record of frame ``index`` without its field."""
        return xr.load_dataset(self.path_of(index), engine=ENGINE, drop_variables=[keys.ELF])

    def field(self, index: int) -> np.ndarray:
        """The uint16 ELF of frame ``index``, shape (1, na, nb, nc)."""
        import h5netcdf

        with h5netcdf.File(self.path_of(index), "r") as handle:
            return np.asarray(handle.variables[keys.ELF][...])

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


def write_trajectory(run: RunFolder, indices: Sequence[int], attrs: Mapping[str, Any], *, fields: bool,
                     force: bool = False) -> Path:
    """Assemble the records of ``indices`` (in that order) into ``run.out``, one field in memory at a time.

    Raises
    ------
    GridError
        ``fields`` and the frames' grids differ.
    """
    table = trajectory_table([run.table(k) for k in indices], grid.encode_attrs(attrs))
    shapes = {tuple(s) for s in table["grid_shape"].values.tolist()}
    if fields and len(shapes) > 1:
        raise GridError(f"the frames have {len(shapes)} different grids ({sorted(shapes)[:3]} ...), so their fields "
                        "cannot share one array: use a fixed grid (--grid NA,NB,NC) or no fields (--no-fields)")
    shape = shapes.pop() if fields else None
    if shape is not None:
        table = table.assign_coords(dict(zip(grid.GRID_DIMS, grid.fractional_axes(shape), strict=True)))

    def write(tmp: Path) -> None:
        table.to_netcdf(tmp, engine=ENGINE, encoding={name: {"zlib": True, "complevel": 4}
                                                       for name in (keys.CELL, keys.POSITIONS)})
        if shape is not None:
            _append_fields(tmp, (run.field(k) for k in indices), len(indices), shape)

    if run.out.exists() and not force:
        raise OutputExistsError(f"{run.out} already exists; choose another name or pass --force to overwrite it")
    atomic_write(run.out, write)
    return run.out


def _append_fields(path: Path, fields: Iterable[np.ndarray], n: int, shape: tuple[int, ...]) -> None:
    """Add ``elf(frame, a, b, c)`` as uint16 (scale_factor 1/65535, zlib, one chunk per frame), streaming."""
    import h5netcdf

    with warnings.catch_warnings(), h5netcdf.File(path, "a") as handle:
        warnings.simplefilter("ignore")
        var = handle.create_variable(keys.ELF, ("frame", *grid.GRID_DIMS), dtype=np.uint16,
                                     chunks=(1, *shape), compression="gzip", compression_opts=4)
        for k, values in enumerate(fields):
            var[k] = values.reshape(shape)
        if k + 1 != n:
            raise GridError(f"expected {n} fields, wrote {k + 1}")
        var.attrs["scale_factor"] = ELF_SCALE
        var.attrs["units"] = "1"
        var.attrs["long_name"] = "predicted ELF (uint16, scale_factor 1/65535)"
