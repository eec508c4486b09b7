"""One frame's results as a small Dataset (a "record"), and the trajectory Dataset assembled from records.

A record has a ``frame`` dimension of length 1: the per-frame numbers (:data:`FRAME_NUMBERS`), the
structure (``cell``, ``positions``), the grid shape, MD step and time, and optionally the ELF field. The
trajectory Dataset is their concatenation over ``frame`` with a ``time`` coordinate (fs when every frame has
a time, else the frame index) and, where every frame has one, an MD ``step`` coordinate.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from .. import grid
from ..errors import GridError
from ..grid import keys
from .per_frame import FRAME_NUMBERS

ELF_SCALE = 1.0 / 65535.0
"""ELF is stored as uint16 with this scale factor (exact to 7.6e-6), as :func:`elfviz.io.store.write_netcdf` does."""

NO_TIME_UNITS = "1"
NO_TIME_NOTE = "frame index: the trajectory records no times (give the MD time step, --timestep FS)"


def frame_record(ds: xr.Dataset, numbers: Mapping[str, Any], *, fields: bool = True) -> xr.Dataset:
    """The record of one predicted frame (``frame`` dimension of length 1).

    Parameters
    ----------
    ds : xarray.Dataset
        The prediction (elfviz Dataset with ``elf``); attrs ``frame_index``, ``md_step``, ``md_time_fs``,
        ``predict_seconds`` are used where present.
    numbers : mapping
        :func:`elfviz.trajectory.frame_numbers` of it.
    fields : bool
        Keep the ELF field (float32) in the record.
    """
    attrs = ds.attrs
    data: dict[str, Any] = {
        name: ("frame", [numbers[name]], {"units": units, "long_name": text})
        for name, (units, text) in FRAME_NUMBERS.items()
    }
    data.update({
        keys.CELL: (("frame", "vector", "xyz"), ds[keys.CELL].values[None], {"units": "angstrom"}),
        keys.POSITIONS: (("frame", "atom", "xyz"), ds[keys.POSITIONS].values[None], {"units": "angstrom"}),
        keys.NUMBERS: ("atom", ds[keys.NUMBERS].values.astype(np.int64)),
        "grid_shape": (("frame", "vector"), np.array([grid.grid_shape(ds)], dtype=np.int64),
                       {"long_name": "grid points along a, b, c"}),
        "rs_bohr": ("frame", [float(attrs.get("rs_bohr", math.nan))], {"units": "bohr"}),
        "md_time_fs": ("frame", [float(attrs.get("md_time_fs", math.nan))], {"units": "fs"}),
        "md_step": ("frame", [int(attrs.get("md_step", -1))], {"long_name": "MD step (-1: unknown)"}),
        "predict_seconds": ("frame", [float(attrs.get("predict_seconds", math.nan))], {"units": "s"}),
        "cautions": ("frame", [str(attrs.get("cautions", ""))],
                     {"long_name": "the model's cautions for this frame (density range, member spread)"}),
    })
    if fields:
        data[keys.ELF] = (("frame", "a", "b", "c"), ds[keys.ELF].values.astype(np.float32)[None],
                       {"units": "1", "long_name": "predicted ELF"})
    return xr.Dataset(data, coords={"frame": [int(attrs.get("frame_index", 0))]})


def quantise(elf: np.ndarray) -> np.ndarray:
    """ELF in [0, 1] -> uint16 (``round(elf / ELF_SCALE)``)."""
    return np.round(np.clip(elf, 0.0, 1.0) * 65535.0).astype(np.uint16)


def trajectory_table(records: Sequence[xr.Dataset], attrs: Mapping[str, Any] | None = None) -> xr.Dataset:
    """Concatenate records over ``frame``; add the ``time`` (and ``step``) coordinate and the grid axes.

    Records without fields give a table without ``elf``; with fields all must share one grid.
    """
    numbers = records[0][keys.NUMBERS]
    table = xr.concat([r.drop_vars(keys.NUMBERS) for r in records], dim="frame")
    table[keys.NUMBERS] = numbers
    times = table["md_time_fs"].values
    if np.all(np.isfinite(times)):
        table = table.assign_coords(time=("frame", times, {"units": "fs", "long_name": "MD time"}))
    else:
        table = table.assign_coords(time=("frame", table["frame"].values.astype(float),
                                          {"units": NO_TIME_UNITS, "long_name": NO_TIME_NOTE}))
    steps = table["md_step"].values
    if np.all(steps >= 0):
        table = table.assign_coords(step=("frame", steps, {"long_name": "MD step"}))
    table["frame"].attrs["long_name"] = "frame index in the trajectory file"
    if keys.ELF in table:
        table = table.assign_coords(dict(zip(grid.GRID_DIMS, grid.fractional_axes(table[keys.ELF].shape[1:]),
                                             strict=True)))
    table.attrs.update(attrs or {})
    return table


def frame_dataset(trajectory: xr.Dataset | str | os.PathLike, frame: int) -> xr.Dataset:
    """Frame ``frame`` (its index in the trajectory file) of a trajectory Dataset or file, as an elfviz Dataset.

    The result holds ``cell``, ``positions``, ``numbers`` and, where the trajectory kept the fields, ``elf``
    (float32), ready for :func:`elfviz.topology.networking_analysis`, :func:`elfviz.io.write` or the dashboard.

    Raises
    ------
    GridError
        No such frame, or (without fields) no grid to put an ELF on.
    """
    if not isinstance(trajectory, xr.Dataset):
        from ..io.store import ENGINE

        with xr.open_dataset(trajectory, engine=ENGINE) as handle:
            return frame_dataset(handle, frame)
    if int(frame) not in set(trajectory["frame"].values.tolist()):
        raise GridError(f"no frame {frame} in the trajectory; it holds frames "
                        f"{trajectory['frame'].values[:5].tolist()} ...")
    one = trajectory.sel(frame=int(frame))
    attrs = {k: v for k, v in grid.decode_attrs(trajectory.attrs).items() if isinstance(v, str | int | float)}
    attrs.update(frame_index=int(frame), md_time_fs=float(one["md_time_fs"]))
    if keys.ELF in trajectory:
        elf = np.clip(np.asarray(one[keys.ELF].values, dtype=np.float32), 0.0, 1.0)
        return grid.make_dataset(one[keys.CELL].values, one[keys.POSITIONS].values,
                                 trajectory[keys.NUMBERS].values, elf,
                                 source=str(attrs.pop("source", "trajectory")), attrs=attrs, check_overlap=False)
    return grid.make_structure(one[keys.CELL].values, one[keys.POSITIONS].values, trajectory[keys.NUMBERS].values,
                               source=str(attrs.pop("source", "trajectory")), attrs=attrs, check_overlap=False)
