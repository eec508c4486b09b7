"""Predict and analyse every frame of a trajectory, streaming, resumable: one Dataset over ``frame``."""

from __future__ import annotations

import contextlib
import logging
import math
import os
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import xarray as xr

from .. import grid
from ..errors import GridError, OutputError
from ..grid import keys
from ..io.store import ENGINE, check_writable
from ..resources import check_fits
from .per_frame import frame_numbers
from .records import frame_record, trajectory_table
from .run_folder import RunFolder, write_trajectory

log = logging.getLogger(__name__)

DEFAULT_ISOVALUE = 0.5
"""ELF at which components and H2 molecules are counted unless told otherwise (the dashboard's default)."""

ANALYSIS_BYTES_PER_POINT = 64
"""Peak of the per-frame analysis per grid point: the percolation sweep (48 B) and the frame's fields, bytes."""


def analyse_frame(structure: xr.Dataset, predictor: Any, *, isovalue: float = DEFAULT_ISOVALUE, shape: Any = None,
                  spacing: float = 0.12, member_spread: bool = False, connectivity: int = 6,
                  max_memory: str | int | float | None = None) -> tuple[xr.Dataset, dict[str, Any]]:
    """Predict one frame and compute its numbers (:func:`elfviz.trajectory.frame_numbers`).

    Parameters
    ----------
    structure : xarray.Dataset
        A frame of :func:`elfviz.trajectory.read_trajectory` (or any hydrogen structure).
    predictor : elfviz.model.Predictor
        Or anything with its ``predict(structure, shape=, spacing=, ...)``.
    isovalue, connectivity
        As for :func:`elfviz.trajectory.frame_numbers`.
    shape, spacing
        The grid: a shape for every frame, else the largest spacing in Å (default 0.12).
    member_spread : bool
        Ask the predictor for the member networks' spread (``member_std_mean``; needs an ensemble).
    max_memory : str or number, optional
        Memory limit for the prediction and the analysis (:mod:`elfviz.resources`).

    Returns
    -------
    (xarray.Dataset, dict)
        The prediction and its numbers.
    """
    kwargs: dict[str, Any] = {"shape": shape, "spacing": spacing}
    if member_spread:
        kwargs["member_spread"] = True
    if max_memory is not None:
        kwargs["max_memory"] = max_memory
    # the predictor's structure_on_grid takes a Dataset with a grid or an ase.Atoms
    ds = predictor.predict(structure if grid.has_grid(structure) else grid.to_atoms(structure), **kwargs)
    shape_now = grid.grid_shape(ds)
    check_fits(math.prod(shape_now) * ANALYSIS_BYTES_PER_POINT,
               f"the percolation analysis on a {'x'.join(map(str, shape_now))} grid", max_memory=max_memory,
               advice="use a coarser grid (a larger spacing or a smaller --grid)")
    for key, value in grid.structure_attrs(structure.attrs).items():
        ds.attrs.setdefault(key, value)
    for key in ("frame_index", "md_step", "md_time_fs", "trajectory"):
        if key in structure.attrs:
            ds.attrs[key] = structure.attrs[key]
    return ds, frame_numbers(ds, isovalue, connectivity=connectivity)


def analyse_trajectory(frames: Iterable[xr.Dataset], predictor: Any, *, isovalue: float = DEFAULT_ISOVALUE,
                       out: str | os.PathLike | None = None, shape: Any = None, spacing: float = 0.12,
                       fields: bool = True, member_spread: bool | None = None, connectivity: int = 6,
                       max_memory: str | int | float | None = None, force: bool = False,
                       progress: bool = False, total: int | None = None,
                       settings: Mapping[str, Any] | None = None) -> xr.Dataset:
    """Predict every frame and gather phi, phi*, components, H2 molecules and member spread over ``frame``.

    Frames are predicted one at a time; with ``out`` each finished frame is kept in ``OUT.partial/``
    (:class:`elfviz.trajectory.run_folder.RunFolder`), so calling again with the same settings continues after
    the frames already done, and the result is assembled into ``out`` at the end without holding more than
    one field in memory.

    Parameters
    ----------
    frames : iterable of xarray.Dataset
        Structures, e.g. :func:`elfviz.trajectory.read_trajectory`; their ``frame_index`` attr (else their
        position) names them.
    predictor : elfviz.model.Predictor
        The model (or a stand-in with the same ``predict``).
    isovalue : float
        ELF at which components and H2 molecules are counted (default 0.5).
    out : path-like, optional
        The netCDF file to write (``.nc``); without it the result (fields included, if asked) stays in memory.
    shape, spacing
        Grid: one shape for every frame, else the largest spacing in Å (default 0.12).
    fields : bool
        Keep the ELF fields (uint16, zlib in ``out``); every frame must then have the same grid.
    member_spread : bool, optional
        Record the member networks' mean spread; default: when the predictor is an ensemble.
    connectivity : int
        Grid neighbours for the analysis (6, 18, 26).
    max_memory : str or number, optional
        Memory limit per frame (:mod:`elfviz.resources`).
    force : bool
        Overwrite ``out`` and discard an unfinished run of it with other settings.
    progress : bool
        Show a tqdm progress bar.
    total : int, optional
        Number of frames, for the progress bar.
    settings : mapping, optional
        More settings that identify the run (the trajectory file, ``every`` ...): a run with other settings is
        not continued. Also written to the attributes.

    Returns
    -------
    xarray.Dataset
        Dims ``frame`` (index in the trajectory), ``atom``, ``vector``, ``xyz`` (and ``a, b, c`` with
        fields); variables from :data:`elfviz.trajectory.FRAME_NUMBERS`, ``cell``, ``positions``, ``numbers``,
        ``grid_shape``, ``rs_bohr``, ``md_time_fs``, ``md_step``, ``predict_seconds`` (and ``elf``);
        coordinates ``time`` (fs, or the frame index where the trajectory has no times) and ``step``. With
        ``out``, the table as written, without the fields (open ``out`` with xarray for them).

    Raises
    ------
    GridError
        ``fields`` and the frames' grids differ (use a fixed ``shape`` or ``fields=False``), or no frames.
    OutputExistsError
        ``out`` exists, or holds an unfinished run with other settings, and not ``force``.

    Examples
    --------
    >>> import numpy as np
    >>> from elfviz import grid
    >>> from elfviz.reference.promolecular import promolecular_elf
    >>> class Promolecular:                                   # a stand-in for elfviz.model.Predictor
    ...     version = "promolecular"
    ...     def predict(self, structure, **kwargs):
    ...         return promolecular_elf(structure, shape=kwargs["shape"])
    >>> frames = [grid.make_structure(np.eye(3) * 4, [[0, 0, 0], [d, 0, 0]], [1, 1]) for d in (0.7, 1.0, 1.3)]
    >>> table = analyse_trajectory(frames, Promolecular(), shape=(24, 24, 24), fields=False)
    >>> bool(np.all(np.diff(table["phi_star"].values) < 0))     # a longer bond, a lower molecularity index
    True
    """
    version = str(getattr(predictor, "version", type(predictor).__name__))
    if member_spread is None:
        member_spread = int(getattr(predictor, "n_members", 1)) > 1
    if shape is not None:
        shape = grid.check_shape(shape)
    run_settings = {"isovalue": float(isovalue), "shape": list(shape) if shape else None,
                    "spacing": None if shape else float(spacing), "fields": bool(fields),
                    "member_spread": bool(member_spread), "connectivity": int(connectivity), "model": version,
                    **dict(settings or {})}
    run = done = None
    if out is not None:
        out = Path(out)
        if out.suffix.lower() not in (".nc", ".nc4"):
            raise OutputError(f"{out.name}: a trajectory is written as netCDF; give an output ending in .nc")
        check_writable(out, force)
        run = RunFolder(out)
        done = run.open(run_settings, force=force)
    indices: list[int] = []
    records: list[xr.Dataset] = []
    first_shape = None
    if done:
        first_shape = tuple(run.table(min(done))["grid_shape"].values[0].tolist())
    device = None
    seen_cautions: dict[type, int] = {}
    bar = _progress_bar(progress, total, len(done or ()))
    try:
        for position, structure in enumerate(frames):
            index = int(structure.attrs.get("frame_index", position))
            indices.append(index)
            if done and index in done:
                continue
            with _cautions_once(index, seen_cautions):
                ds, numbers = analyse_frame(structure, predictor, isovalue=isovalue, shape=shape, spacing=spacing,
                                            member_spread=member_spread, connectivity=connectivity,
                                            max_memory=max_memory)
            device = ds.attrs.get("device", device)
            first_shape = _check_same_grid(first_shape, grid.grid_shape(ds), index, fields)
            record = frame_record(ds, numbers, fields=fields)
            if run is not None:
                run.save(record)
            else:
                records.append(record)
            bar.update(1)
            bar.set_postfix(phi=f"{numbers['phi']:.3f}", mol=f"{numbers['molecular_fraction']:.2f}")
    finally:
        bar.close()
    if not indices:
        raise GridError("the trajectory has no frames to analyse")
    for category, count in seen_cautions.items():
        if count > 1:
            log.warning("%s: %d of the frames predicted now (see each frame's 'cautions')", category.__name__, count)
    attrs = {"title": "ELF of an MD trajectory, frame by frame", "source": f"model:{version}",
             "model_version": version, "device": str(device or getattr(predictor, "device", "")),
             "created_by": "elfviz trajectory", **{k: v for k, v in run_settings.items() if v is not None}}
    attrs["elfviz_version"] = _elfviz_version()
    if run is None:
        return trajectory_table(records, attrs)
    write_trajectory(run, indices, attrs, fields=fields, force=force)
    run.remove()
    table = xr.load_dataset(out, engine=ENGINE, drop_variables=[keys.ELF])
    table.attrs = grid.decode_attrs(table.attrs)
    return table


@contextlib.contextmanager
def _cautions_once(index: int, seen: dict[type, int]):
    """Pass each kind of the predictor's cautions on once per run, counting the rest; its per-frame INFO lines off."""
    predictor_log = logging.getLogger("elfviz.model.predictor")
    quiet = _DropWarnings()
    predictor_log.addFilter(quiet)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        predictor_log.removeFilter(quiet)
    for item in caught:
        seen[item.category] = seen.get(item.category, 0) + 1
        if seen[item.category] == 1:
            log.warning("frame %d: %s (later frames with this caution are counted, not repeated)", index, item.message)
            warnings.warn(f"frame {index}: {item.message}", item.category, stacklevel=4)


class _DropWarnings(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        return record.levelno < logging.INFO  # per-frame INFO lines would break the progress bar


def _check_same_grid(first, shape, index: int, fields: bool):
    if first is None or not fields or tuple(first) == tuple(shape):
        return first or tuple(shape)
    raise GridError(
        f"frame {index} has a {'x'.join(map(str, shape))} grid but the earlier frames "
        f"{'x'.join(map(str, first))} (the cell changes), so the fields cannot share one array: use a fixed grid "
        "(--grid NA,NB,NC, shape=...) or no fields (--no-fields, fields=False)")


def _progress_bar(progress: bool, total: int | None, initial: int):
    from tqdm.auto import tqdm

    return tqdm(total=total, initial=initial, disable=not progress, unit="frame", desc="trajectory",
                dynamic_ncols=True)


def _elfviz_version() -> str:
    from .. import __version__

    return str(__version__)
