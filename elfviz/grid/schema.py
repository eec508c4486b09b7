"""The Dataset schema: building structures and fields, attrs (JSON-encoded for netCDF), validation."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import numpy as np
import xarray as xr

from ..errors import GridError, StructureError
from . import keys
from .cell import MIN_INTERATOMIC_DISTANCE, as_cell, check_positions, mass_density_g_cm3, rs_bohr, valence_electrons
from .sizing import check_shape, fractional_axes, shape_for_spacing

ELF_FIELDS = (keys.ELF, keys.ELF_REF, "elf_pred", "elf_corrected", "elf_spin_up", "elf_spin_down")
"""Field names that hold ELF and therefore must lie in [0, 1]."""


GRID_DIMS = ("a", "b", "c")


def encode_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Make attributes netCDF-safe: dicts, lists, bools and None become JSON strings marked with a ``json:`` prefix."""
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        if isinstance(value, (bool, np.bool_)) or value is None or isinstance(value, (dict, list, tuple)):
            out[key] = "json:" + json.dumps(value, default=_json_default)
        elif isinstance(value, (np.integer, np.floating)):
            out[key] = value.item()
        else:
            out[key] = value
    return out


def decode_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    """Inverse of :func:`encode_attrs`."""
    out: dict[str, Any] = {}
    for key, value in attrs.items():
        if isinstance(value, str) and value.startswith("json:"):
            out[key] = json.loads(value[5:])
        elif isinstance(value, np.generic):
            out[key] = value.item()
        else:
            out[key] = value
    return out


def _json_default(obj: Any) -> Any:
    if isinstance(obj, (np.generic, np.bool_)):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


def make_dataset(cell: Any, positions: Any, numbers: Any, elf: Any = None, *, shape: Any = None,
                 spacing: float | None = None, fields: Mapping[str, Any] | None = None,
                 source: str = "unknown", attrs: Mapping[str, Any] | None = None,
                 check_overlap: bool = True) -> xr.Dataset:
    """Build the elfviz Dataset for one periodic structure.

    Exactly one of ``elf``/``fields``, ``shape`` or ``spacing`` fixes the grid (a field's shape wins;
    ``shape`` and ``spacing`` may not be combined).

    Parameters
    ----------
    cell : array_like, (3, 3)
        Lattice vectors as rows, Å.
    positions : array_like, (N, 3)
        Cartesian positions, Å.
    numbers : array_like, (N,)
        Atomic numbers (non-hydrogen species are kept; the model refuses them later).
    elf : array_like, (na, nb, nc), optional
        ELF values on the grid, in [0, 1]; stored as float32 ``elf``.
    shape : (int, int, int), optional
        Grid shape when no field is given.
    spacing : float, optional
        Largest grid spacing along each lattice vector (Å) when no field is given.
    fields : mapping, optional
        Further fields on the grid, e.g. ``{"elf_ref": ...}``.
    source : str
        Where the fields come from (``model:...``, ``dft:...``, ``file:...``).
    attrs : mapping, optional
        Extra attributes (``pressure_gpa``, ``temperature_k``, ``provenance`` ...).
    check_overlap : bool
        Reject atoms closer than 0.3 Å (default).

    Returns
    -------
    xarray.Dataset
        Validated Dataset following the schema in the module docstring.

    Examples
    --------
    >>> ds = make_dataset(np.eye(3) * 3.0, [[0, 0, 0]], [1], spacing=0.5)
    >>> dict(ds.sizes)["a"], round(ds.attrs["rs_bohr"], 3)  # one H in 27 Å^3
    (6, 3.517)
    """
    cell_arr, pos, nums = _checked_structure(cell, positions, numbers, check_overlap)

    all_fields: dict[str, Any] = {}
    if elf is not None:
        all_fields[keys.ELF] = elf
    if fields:
        all_fields.update(fields)

    grid_shape: tuple[int, int, int] | None = None
    for name, values in all_fields.items():
        arr = np.asarray(values)
        if arr.ndim != 3:
            raise GridError(f"field '{name}' must be a 3-D array on the (a, b, c) grid, got {arr.ndim}-D "
                            f"shape {arr.shape}")
        if grid_shape is None:
            grid_shape = check_shape(arr.shape)
        elif arr.shape != grid_shape:
            raise GridError(f"field '{name}' has shape {arr.shape} but the grid is {grid_shape}; "
                            "all fields of one Dataset share one grid")
    if grid_shape is None:
        if shape is not None and spacing is not None:
            raise GridError("give either a grid shape or a grid spacing, not both")
        if shape is not None:
            grid_shape = check_shape(shape)
        elif spacing is not None:
            grid_shape = shape_for_spacing(cell_arr, spacing)
        else:
            raise GridError("no grid: give a field, a grid shape (e.g. 48,48,48) or a spacing in Å (e.g. 0.12)")
    elif shape is not None and check_shape(shape) != grid_shape:
        raise GridError(f"the requested grid {tuple(shape)} does not match the field's shape {grid_shape}")

    fa, fb, fc = fractional_axes(grid_shape)
    data_vars = _structure_variables(cell_arr, pos, nums)
    for name, values in all_fields.items():
        data_vars[name] = (GRID_DIMS, np.asarray(values, dtype=np.float32), field_attrs(name))
    ds = xr.Dataset(
        data_vars,
        coords={"a": ("a", fa), "b": ("b", fb), "c": ("c", fc),
                "vector": ("vector", np.arange(3)), "xyz": ("xyz", np.arange(3))},
    )
    ds.a.attrs["description"] = "fractional coordinate along lattice vector a"
    ds.b.attrs["description"] = "fractional coordinate along lattice vector b"
    ds.c.attrs["description"] = "fractional coordinate along lattice vector c"
    ds.attrs.update(attrs or {})
    ds.attrs["source"] = str(source) if source else ds.attrs.get("source", "unknown")
    update_derived_attrs(ds)
    return validate(ds)


def make_structure(cell: Any, positions: Any, numbers: Any, *, source: str = "structure",
                   attrs: Mapping[str, Any] | None = None, check_overlap: bool = True) -> xr.Dataset:
    """Build the Dataset of a structure without a grid (no ``a, b, c`` dims, no fields).

    The input of the DFT engines (:func:`elfviz.reference.reference_elf`), which choose their own grid
    (or take the grid they are asked for), so no grid has to be made up. Same checks and attrs as
    :func:`make_dataset`.

    Parameters
    ----------
    cell : array_like, (3, 3)
        Lattice vectors as rows, Å.
    positions : array_like, (N, 3)
        Cartesian positions, Å.
    numbers : array_like, (N,)
        Atomic numbers.
    source : str
        Where the structure comes from (``md``, ``file:...``, ``structure``).
    attrs : mapping, optional
        Extra attributes (``phase``, ``frame_id``, ``temperature_k`` ...).
    check_overlap : bool
        Reject atoms closer than 0.3 Å (default).

    Returns
    -------
    xarray.Dataset
        ``cell``, ``positions``, ``numbers`` and the derived attrs (``n_atoms``, ``rs_bohr``,
        ``density_g_cm3``); checked with :func:`validate_structure`.

    Examples
    --------
    >>> ds = make_structure(np.eye(3) * 3.0, [[0, 0, 0]], [1])
    >>> has_grid(ds), int(ds.sizes["atom"]), round(ds.attrs["rs_bohr"], 3)
    (False, 1, 3.517)
    """
    cell_arr, pos, nums = _checked_structure(cell, positions, numbers, check_overlap)
    ds = xr.Dataset(_structure_variables(cell_arr, pos, nums),
                    coords={"vector": ("vector", np.arange(3)), "xyz": ("xyz", np.arange(3))})
    ds.attrs.update(attrs or {})
    ds.attrs["source"] = str(source) if source else ds.attrs.get("source", "unknown")
    update_derived_attrs(ds)
    return validate_structure(ds)


def _checked_structure(cell: Any, positions: Any, numbers: Any,
                       check_overlap: bool) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Checked cell (3, 3), positions (N, 3) in Å and atomic numbers (N,) int64."""
    cell_arr = as_cell(cell)
    pos = check_positions(positions, cell_arr, min_distance=MIN_INTERATOMIC_DISTANCE if check_overlap else 0.0)
    nums = np.asarray(numbers, dtype=np.int64).reshape(-1)
    if len(nums) != len(pos):
        raise StructureError(f"{len(pos)} positions but {len(nums)} atomic numbers; they must match")
    if np.any(nums < 1) or np.any(nums > 118):
        raise StructureError(f"atomic numbers must be 1..118, got {sorted(set(nums.tolist()))}")
    return cell_arr, pos, nums


def _structure_variables(cell: np.ndarray, positions: np.ndarray, numbers: np.ndarray) -> dict[str, Any]:
    return {
        keys.CELL: (("vector", "xyz"), cell, {"units": "angstrom", "description": "lattice vectors as rows"}),
        keys.POSITIONS: (("atom", "xyz"), positions, {"units": "angstrom"}),
        keys.NUMBERS: (("atom",), numbers, {"description": "atomic numbers"}),
    }


def field_attrs(name: str) -> dict[str, str]:
    """Default variable attributes for a field name."""
    descriptions = {
        keys.ELF: "electron localization function",
        keys.ELF_REF: "reference (first-principles) ELF",
        "elf_pred": "predicted ELF",
        "elf_corrected": "predicted ELF after the Fourier correction",
        "residual": "elf_ref - elf (reference minus prediction)",
        "elf_spin_up": "ELF of the spin-up channel",
        "elf_spin_down": "ELF of the spin-down channel",
    }
    attrs = {"units": "1"}
    if name in descriptions:
        attrs["long_name"] = descriptions[name]
    return attrs


def update_derived_attrs(ds: xr.Dataset) -> xr.Dataset:
    """(Re)compute ``n_atoms``, ``rs_bohr`` and ``density_g_cm3`` from the cell and atoms (in place)."""
    cell = ds[keys.CELL].values
    numbers = ds[keys.NUMBERS].values
    ds.attrs["n_atoms"] = int(len(numbers))
    n_el = valence_electrons(numbers)
    if n_el > 0:
        ds.attrs["rs_bohr"] = rs_bohr(cell, n_el)
        ds.attrs["density_g_cm3"] = mass_density_g_cm3(cell, numbers)
    return ds


def with_field(ds: xr.Dataset, name: str, values: Any, *, attrs: Mapping[str, Any] | None = None) -> xr.Dataset:
    """Return a copy of ``ds`` with field ``name`` (float32 on the grid) added or replaced."""
    arr = np.asarray(values)
    shape = grid_shape(ds)
    if arr.shape != shape:
        raise GridError(f"field '{name}' has shape {arr.shape} but the Dataset's grid is {shape}")
    out = ds.copy()
    out[name] = (GRID_DIMS, arr.astype(np.float32), {**field_attrs(name), **(attrs or {})})
    validate_field(out, name)
    return out


def grid_shape(ds: xr.Dataset) -> tuple[int, int, int]:
    """Grid shape ``(na, nb, nc)`` of a Dataset.

    Raises
    ------
    GridError
        If ``ds`` is a structure without a grid (see :func:`make_structure`).
    """
    if not has_grid(ds):
        raise GridError("the Dataset holds a structure without a grid (no a, b, c dims); give a grid shape or "
                        "spacing where one is needed, or build it with elfviz.grid.make_dataset")
    return (int(ds.sizes["a"]), int(ds.sizes["b"]), int(ds.sizes["c"]))


def has_grid(ds: xr.Dataset) -> bool:
    """Whether ``ds`` has the ``a, b, c`` grid (False for a structure from :func:`make_structure`)."""
    return all(dim in ds.dims for dim in GRID_DIMS)


def field_names(ds: xr.Dataset) -> list[str]:
    """Names of all variables on the (a, b, c) grid."""
    return [name for name, var in ds.data_vars.items() if var.dims == GRID_DIMS]


def validate_field(ds: xr.Dataset, name: str) -> None:
    """Check one field: finite, and within [0, 1] if its name says it holds ELF."""
    values = ds[name].values
    if not np.all(np.isfinite(values)):
        n_bad = int(np.size(values) - np.count_nonzero(np.isfinite(values)))
        raise GridError(f"field '{name}' contains {n_bad} NaN or infinite values; regenerate or clean the field")
    if name in ELF_FIELDS:
        lo, hi = float(values.min()), float(values.max())
        if lo < -1e-6 or hi > 1 + 1e-6:
            raise GridError(
                f"field '{name}' is declared ELF but has values in [{lo:.4g}, {hi:.4g}], outside [0, 1]; "
                "is it a density or a CHGCAR? Load it under another name (e.g. field_name='density')")


def validate_structure(ds: xr.Dataset) -> xr.Dataset:
    """Check the structure part of ``ds`` (``cell``, ``positions``, ``numbers``), with or without a grid.

    What the DFT engines check: they use only the structure. Returns ``ds`` unchanged.

    Raises
    ------
    GridError, StructureError
        Describing the first problem found.
    """
    if not isinstance(ds, xr.Dataset):
        raise GridError(f"expected an xarray.Dataset in the elfviz schema, got {type(ds).__name__}")
    for name, dims in ((keys.CELL, ("vector", "xyz")), (keys.POSITIONS, ("atom", "xyz")), (keys.NUMBERS, ("atom",))):
        if name not in ds:
            raise StructureError(f"the Dataset has no '{name}' variable; build it with elfviz.grid.make_dataset")
        if ds[name].dims != dims:
            raise StructureError(f"'{name}' must have dims {dims}, got {ds[name].dims}")
    as_cell(ds[keys.CELL].values)
    return ds


def validate(ds: xr.Dataset) -> xr.Dataset:
    """Check that ``ds`` follows the elfviz schema, grid included; return it unchanged or raise with a clear message.

    Raises
    ------
    GridError, StructureError
        Describing the first problem found.
    """
    validate_structure(ds)
    for dim in GRID_DIMS:
        if dim not in ds.dims:
            raise GridError(f"the Dataset has no grid dimension '{dim}'")
        expected = np.arange(ds.sizes[dim]) / ds.sizes[dim]
        if dim in ds.coords and not np.allclose(ds[dim].values, expected, atol=1e-9):
            raise GridError(f"grid coordinate '{dim}' must be i/n for i = 0..n-1 (periodic grid without the "
                            "end point); resample the field onto that grid")
    for name in field_names(ds):
        validate_field(ds, name)
    return ds


STRUCTURE_ATTRS = ("label", "frame_id", "phase", "trajectory", "split", "md_step", "md_time_fs", "temperature_k",
                   "target_temperature_k", "pressure_gpa", "rs_nominal", "rs_bohr", "density_g_cm3", "n_atoms")
"""Attrs that describe a structure (its state point and where it comes from), so they carry over to a field
computed for it. Everything else (a reference's DFT provenance: ``engine``, ``total_energy_ev``,
``pw_seconds``, ``scf_converged``, its ``source`` ...) describes a field and does not."""


def structure_attrs(attrs: dict) -> dict:
    """The :data:`STRUCTURE_ATTRS` among ``attrs`` (what a new field of the same structure inherits).

    Examples
    --------
    >>> structure_attrs({"engine": "qe", "pressure_gpa": 250.0, "total_energy_ev": -1.0})
    {'pressure_gpa': 250.0}
    """
    return {key: attrs[key] for key in STRUCTURE_ATTRS if key in attrs}


def structure_only(ds: xr.Dataset) -> xr.Dataset:
    """Copy of ``ds`` without any grid fields (structure, grid coordinates and attrs kept).

    The grid stays, so a result can be delivered on it; :func:`make_structure` builds a structure that
    has none.
    """
    return ds.drop_vars(field_names(ds))
