"""Input handling for the topology functions: field extraction and checks, neighbour stencils, atom voxels.

Pure NumPy; no numba here so that importing :mod:`elfviz.topology` stays light.
"""

from __future__ import annotations

import itertools
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np
import xarray as xr

from ..errors import GridError, StructureError
from ..grid import keys

log = logging.getLogger(__name__)

CONNECTIVITIES = (6, 18, 26)
"""Supported voxel neighbourhoods: faces (6), faces + edges (18), faces + edges + corners (26)."""

RANGE_TOLERANCE = 1e-6
"""ELF values may exceed [0, 1] by this much (float32 round-off) before they are rejected."""


@dataclass(frozen=True)
class PreparedField:
    """A checked 3-D field with optional structure.

    Attributes
    ----------
    values : numpy.ndarray
        C-contiguous float32 or float64 array of shape (na, nb, nc).
    name : str
        Field name (``"elf"`` by default, ``"array"`` for bare arrays).
    cell : numpy.ndarray or None
        (3, 3) lattice vectors as rows, Å.
    positions : numpy.ndarray or None
        (N, 3) Cartesian atom positions, Å.
    """

    values: np.ndarray
    name: str
    cell: np.ndarray | None
    positions: np.ndarray | None

    @property
    def shape(self) -> tuple[int, int, int]:
        return tuple(int(n) for n in self.values.shape)  # type: ignore[return-value]


def neighbour_steps(connectivity: int) -> np.ndarray:
    """All neighbour steps (both signs) of a voxel for 6-, 18- or 26-connectivity, int64 (K, 3).

    Examples
    --------
    >>> neighbour_steps(6).shape, neighbour_steps(18).shape, neighbour_steps(26).shape
    ((6, 3), (18, 3), (26, 3))
    """
    if connectivity not in CONNECTIVITIES:
        raise GridError(f"connectivity must be 6 (faces), 18 (faces+edges) or 26 (faces+edges+corners), "
                        f"got {connectivity!r}")
    max_nonzero = {6: 1, 18: 2, 26: 3}[connectivity]
    steps = [s for s in itertools.product((-1, 0, 1), repeat=3)
             if 0 < sum(abs(x) for x in s) <= max_nonzero]
    return np.array(steps, dtype=np.int64)


def prepare_field(ds_or_field: Any, *, field: str = keys.ELF, cell: Any = None, positions: Any = None,
                  any_field: bool = False) -> PreparedField:
    """Extract and check the field (and structure, if any) from a Dataset, DataArray or array.

    Raises
    ------
    GridError
        Missing field, not 3-D, empty, non-real, NaN/inf, or (unless ``any_field``) values outside [0, 1].
    StructureError
        Positions without a cell, or malformed positions.
    """
    name = field
    ds_cell = ds_positions = None
    if isinstance(ds_or_field, xr.Dataset):
        if field not in ds_or_field.data_vars:
            grid_vars = [n for n, v in ds_or_field.data_vars.items() if v.ndim == 3]
            hint = f"fields on the grid: {grid_vars}" if grid_vars else "the Dataset holds no 3-D field"
            raise GridError(f"no field '{field}' in the Dataset ({hint}); choose one with field=... "
                            "(--field on the command line)")
        array = ds_or_field[field]
        if keys.CELL in ds_or_field:
            ds_cell = ds_or_field[keys.CELL].values
        if keys.POSITIONS in ds_or_field:
            ds_positions = ds_or_field[keys.POSITIONS].values
        values = _dataarray_values(array, field)
    elif isinstance(ds_or_field, xr.DataArray):
        name = str(ds_or_field.name) if ds_or_field.name is not None else field
        values = _dataarray_values(ds_or_field, name)
    else:
        try:
            values = np.asarray(ds_or_field)
        except Exception as exc:  # ragged lists and the like
            raise GridError(f"cannot read the field as an array: {exc}") from None
    values = check_values(values, name, any_field=any_field)

    cell = ds_cell if cell is None else cell
    positions = ds_positions if positions is None else positions
    cell_arr = None
    if cell is not None:
        from ..grid import as_cell

        cell_arr = as_cell(cell)
    pos_arr = None
    if positions is not None:
        pos_arr = np.asarray(positions, dtype=float)
        if pos_arr.size == 0:
            pos_arr = np.zeros((0, 3))
        if pos_arr.ndim != 2 or pos_arr.shape[1] != 3:
            raise StructureError(f"positions must be an (N, 3) array of Cartesian coordinates in Å, "
                                 f"got shape {pos_arr.shape}")
        if not np.all(np.isfinite(pos_arr)):
            raise StructureError("atom positions contain NaN or infinite values; fix the structure")
        if cell_arr is None and len(pos_arr):
            raise StructureError("atom positions were given without a cell; pass cell=... (lattice vectors "
                                 "as rows, Å) so that atoms can be placed on the grid")
    return PreparedField(values=values, name=name, cell=cell_arr, positions=pos_arr)


def _dataarray_values(array: xr.DataArray, name: str) -> np.ndarray:
    if array.ndim != 3:
        raise GridError(f"field '{name}' must be 3-D on the (a, b, c) grid, got dims {array.dims}")
    if set(array.dims) == {"a", "b", "c"}:
        array = array.transpose("a", "b", "c")
    return np.asarray(array.values)


def check_values(values: np.ndarray, name: str, *, any_field: bool = False) -> np.ndarray:
    """Check a 3-D field and return it as a C-contiguous float32/float64 array."""
    if values.ndim != 3:
        raise GridError(f"field '{name}' must be a 3-D array (na, nb, nc), got {values.ndim}-D shape "
                        f"{values.shape}")
    if values.size == 0:
        raise GridError(f"field '{name}' is empty (shape {values.shape}); it needs at least one point "
                        "per axis")
    if values.dtype.kind not in "biuf":
        raise GridError(f"field '{name}' must hold real numbers, got dtype {values.dtype}")
    if values.dtype != np.float32:
        values = values.astype(np.float64)
    values = np.ascontiguousarray(values)
    finite = np.isfinite(values)
    if not finite.all():
        n_bad = int(values.size - np.count_nonzero(finite))
        raise GridError(f"field '{name}' contains {n_bad} NaN or infinite values; clean or regenerate the "
                        "field (thresholds are undefined on NaN)")
    if not any_field:
        lo, hi = float(values.min()), float(values.max())
        if lo < -RANGE_TOLERANCE or hi > 1 + RANGE_TOLERANCE:
            raise GridError(f"field '{name}' has values in [{lo:.4g}, {hi:.4g}], outside the ELF range "
                            "[0, 1]; is it a density? Use any_field=True (--any-field) to analyse any "
                            "scalar field")
    return values


def atom_voxels(positions: np.ndarray, cell: np.ndarray, shape: tuple[int, int, int]
                ) -> tuple[np.ndarray, np.ndarray]:
    """Nearest grid point of each atom (Cartesian metric, periodic) and the atom's cell shift.

    Parameters
    ----------
    positions : (N, 3) float
        Cartesian positions, Å (atoms outside the cell are fine).
    cell : (3, 3) float
        Lattice vectors as rows, Å.
    shape : (int, int, int)
        Grid shape.

    Returns
    -------
    voxel : int64 (N,)
        Flat index of the nearest grid point (C order over a, b, c).
    shift : int64 (N, 3)
        Integer lattice vector such that the atom sits next to the copy of its voxel in cell ``shift``:
        ``position ~ (index / shape + shift) @ cell``.

    Notes
    -----
    The nearest grid point is searched among the 4x4x4 grid points around the atom's fractional position,
    so it is exact in the Cartesian metric for any reasonably shaped cell (the rounded fractional position
    is not the nearest point in strongly skewed cells).

    Examples
    --------
    >>> v, s = atom_voxels(np.array([[0.9, 0.0, 0.0]]), np.eye(3), (4, 4, 4))
    >>> int(v[0]), s[0].tolist()   # 0.9 is nearest to the grid point 1.0 = point 0 of the next cell
    (0, [1, 0, 0])
    """
    positions = np.asarray(positions, dtype=float).reshape(-1, 3)
    n = np.asarray(shape, dtype=np.int64)
    if len(positions) == 0:
        return np.zeros(0, np.int64), np.zeros((0, 3), np.int64)
    frac = positions @ np.linalg.inv(cell)
    base = np.floor(frac * n).astype(np.int64)  # grid coordinates (unwrapped) just below the atom
    steps = np.array(list(itertools.product((-1, 0, 1, 2), repeat=3)), dtype=np.int64)
    candidates = base[:, None, :] + steps[None, :, :]  # (N, 64, 3) unwrapped grid coordinates
    cart = (candidates / n) @ cell
    dist2 = np.sum((cart - positions[:, None, :]) ** 2, axis=-1)
    best = candidates[np.arange(len(positions)), np.argmin(dist2, axis=1)]
    wrapped = np.mod(best, n)
    shift = (best - wrapped) // n
    voxel = (wrapped[:, 0] * n[1] + wrapped[:, 1]) * n[2] + wrapped[:, 2]
    return voxel.astype(np.int64), shift.astype(np.int64)


def atom_count_per_voxel(voxel: np.ndarray, n_voxels: int) -> np.ndarray:
    """Number of atoms mapped to each voxel (int32, length ``n_voxels``); warns when atoms share one."""
    counts = np.bincount(voxel, minlength=n_voxels).astype(np.int32)
    shared = int(np.count_nonzero(counts > 1))
    if shared:
        log.warning("%d grid point(s) hold more than one atom: the grid is too coarse to separate those "
                    "atoms, so phi* equals the ELF value there; use a finer grid", shared)
    return counts


def sortable_keys(values: np.ndarray) -> tuple[np.ndarray, int]:
    """Unsigned integer keys with the same order as the float values (IEEE-754 bit trick).

    Returns the keys (uint32 for float32 input or float64 values that are exact in float32, else uint64)
    and their bit width. -0.0 is treated as 0.0.

    Examples
    --------
    >>> keys, bits = sortable_keys(np.array([-1.0, -0.0, 0.0, 0.5], dtype=np.float32))
    >>> bits, bool(keys[0] < keys[1] == keys[2] < keys[3])
    (32, True)
    """
    flat = np.asarray(values).reshape(-1)
    if flat.dtype != np.float32:
        as32 = flat.astype(np.float32)
        if np.array_equal(as32, flat):
            flat = as32
    flat = flat + flat.dtype.type(0.0)  # -0.0 + 0.0 == +0.0
    if flat.dtype == np.float32:
        bits, kind = 32, np.uint32
    else:
        flat = flat.astype(np.float64)
        bits, kind = 64, np.uint64
    u = flat.view(kind)
    sign = kind(1 << (bits - 1))
    names = np.where((u & sign) != 0, ~u, u | sign)
    return names, bits


def descending_order(values: np.ndarray) -> np.ndarray:
    """Flat indices sorted by descending value; ties keep ascending flat index (deterministic).

    Uses a stable LSD radix sort (numba): about 6x faster than ``np.argsort(kind="stable")`` on float32.

    Examples
    --------
    >>> descending_order(np.array([[[0.2, 0.7], [0.7, 0.1]]], dtype=np.float32)).tolist()
    [1, 2, 0, 3]
    """
    from ._radix import radix_argsort_descending  # numba, imported on first use

    if values.size >= 2**31:
        raise GridError(f"a grid of {values.size} points is too large for the topology analysis "
                        "(limit 2^31); resample the field onto a coarser grid")
    names, bits = sortable_keys(values)
    return radix_argsort_descending(names, bits)
