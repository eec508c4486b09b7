"""The data object of elfviz: one periodic structure and its fields as an ``xarray.Dataset``.

Schema (see ``DESIGN.md``)
--------------------------
dims
    ``a, b, c``  grid along the three lattice vectors; grid point ``(i, j, k)`` sits at fractional
    coordinates ``(i/na, j/nb, k/nc)`` (periodic, no duplicated end point);
    ``atom``; ``vector`` (0..2, lattice vector index); ``xyz`` (0..2, Cartesian component).
coords
    ``a, b, c``: fractional coordinate of each grid plane, in [0, 1).
variables
    ``cell(vector, xyz)``   lattice vectors as rows, Å;
    ``positions(atom, xyz)`` Cartesian positions, Å;
    ``numbers(atom)``        atomic numbers;
    fields on ``(a, b, c)``: ``elf`` (float32 in [0, 1]) and optionally ``elf_ref``, ``residual``, ...
attrs
    ``source`` (e.g. ``"model:elfnet-fft@1.6"``, ``"dft:qe ..."``, ``"file:ELFCAR"``), ``rs_bohr``,
    ``density_g_cm3``, ``n_atoms``, ``pressure_gpa`` where known, ``provenance`` (a JSON string).

Structure Datasets
------------------
A structure without a grid (the input of the DFT engines, which choose their own grid) is the same
Dataset without the ``a, b, c`` dims and without fields: ``cell``, ``positions``, ``numbers``, the
``vector``/``xyz`` coords and the same attrs. Build one with :func:`make_structure` or
:func:`structure_from_atoms`, check it with :func:`validate_structure` (which also accepts a Dataset with
a grid); :func:`has_grid` tells the two apart, and :func:`validate` requires the grid.

netCDF cannot store nested attributes, so anything that is not a string or a number is stored as a
JSON string (see :func:`encode_attrs`).

Units: Å at the API, GPa for pressure, bohr only for ``rs_bohr``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import xarray as xr

from .errors import GridError, StructureError

BOHR_ANGSTROM = 0.529177210903
"""One bohr in Å (CODATA 2018)."""

AMU_GRAM = 1.66053906660e-24
"""One atomic mass unit in g."""

MIN_INTERATOMIC_DISTANCE = 0.3
"""Atoms closer than this (Å) are rejected as overlapping."""

ELF_FIELDS = ("elf", "elf_ref", "elf_pred", "elf_corrected", "elf_spin_up", "elf_spin_down")
"""Field names that hold ELF and therefore must lie in [0, 1]."""

GRID_DIMS = ("a", "b", "c")

_FFT_PRIMES = (2, 3, 5)


# ----------------------------------------------------------------------------- cell and coordinates
def as_cell(cell: Any) -> np.ndarray:
    """Return a checked (3, 3) float64 cell matrix (lattice vectors as rows, Å).

    Parameters
    ----------
    cell : array_like
        Lattice vectors as rows, Å. A length-3 sequence is taken as an orthorhombic cell.

    Raises
    ------
    StructureError
        If the cell is missing, not finite, or has (near) zero volume.
    """
    if cell is None:
        raise StructureError("the structure has no cell; elfviz needs a periodic cell (set one with "
                             "atoms.set_cell(...) or give CELL_PARAMETERS / a lattice in the file)")
    arr = np.asarray(cell, dtype=float)
    if arr.shape == (3,):
        arr = np.diag(arr)
    if arr.shape != (3, 3):
        raise StructureError(f"the cell must be a 3x3 matrix of lattice vectors in Å, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise StructureError("the cell contains NaN or infinite values; check the input file's lattice")
    volume = abs(np.linalg.det(arr))
    if volume < 1e-6:
        raise StructureError("the cell has zero volume (missing or degenerate lattice vectors); "
                             "elfviz needs a full 3-D periodic cell")
    return arr


def cell_volume(cell: Any) -> float:
    """Volume of the cell in Å^3."""
    return float(abs(np.linalg.det(as_cell(cell))))


def frac_to_cart(frac: Any, cell: Any) -> np.ndarray:
    """Fractional coordinates (..., 3) to Cartesian (Å): ``frac @ cell``."""
    return np.asarray(frac, dtype=float) @ as_cell(cell)


def cart_to_frac(cart: Any, cell: Any) -> np.ndarray:
    """Cartesian coordinates (..., 3) in Å to fractional: ``cart @ inv(cell)``."""
    return np.asarray(cart, dtype=float) @ np.linalg.inv(as_cell(cell))


def reciprocal_cell(cell: Any) -> np.ndarray:
    """Reciprocal lattice vectors as rows, including the factor 2π (Å^-1): ``B = 2π inv(cell).T``."""
    return 2.0 * np.pi * np.linalg.inv(as_cell(cell)).T


# ----------------------------------------------------------------------------- densities
def rs_bohr(cell: Any, n_electrons: float) -> float:
    """Wigner-Seitz radius ``rs`` in bohr: ``(4/3) π rs^3 = V / N_e``.

    Parameters
    ----------
    cell : array_like
        Lattice vectors (Å).
    n_electrons : float
        Number of (valence) electrons in the cell; for hydrogen, the number of atoms.

    Examples
    --------
    >>> round(rs_bohr(np.eye(3) * 2.0, 1), 3)  # one electron in 8 Å^3 = 53.99 bohr^3
    2.345
    """
    if n_electrons <= 0:
        raise StructureError("rs is undefined for a cell without electrons (no atoms)")
    volume_bohr3 = cell_volume(cell) / BOHR_ANGSTROM**3
    return float((3.0 * volume_bohr3 / (4.0 * math.pi * n_electrons)) ** (1.0 / 3.0))


def cell_for_rs(rs: float, n_electrons: int, shape: Any = None) -> np.ndarray:
    """A cell (Å) of the given shape (default cubic) scaled so that it has Wigner-Seitz radius ``rs`` (bohr)."""
    if not rs > 0:
        raise StructureError(f"rs must be positive (bohr), got {rs}")
    volume = (4.0 / 3.0) * math.pi * rs**3 * n_electrons * BOHR_ANGSTROM**3
    base = np.eye(3) if shape is None else as_cell(shape)
    return base * (volume / cell_volume(base)) ** (1.0 / 3.0)


def valence_electrons(numbers: Iterable[int]) -> int:
    """Number of valence electrons used for ``rs``: Z for H and He, else the element's group valence.

    Dense-hydrogen work uses H only; other elements get their number of valence electrons from
    ``ase.data`` if known, else Z (documented approximation).
    """
    numbers = list(numbers)
    total = 0
    for z in numbers:
        z = int(z)
        if z <= 2:
            total += z
        else:
            # number of electrons outside the last closed noble-gas shell
            shells = [2, 10, 18, 36, 54, 86, 118]
            core = max(s for s in shells if s < z)
            total += z - core
    return total


def mass_density_g_cm3(cell: Any, numbers: Iterable[int]) -> float:
    """Mass density in g/cm^3 from the cell (Å) and atomic numbers (standard atomic masses)."""
    from ase.data import atomic_masses

    mass_amu = float(sum(atomic_masses[int(z)] for z in numbers))
    return mass_amu * AMU_GRAM / (cell_volume(cell) * 1e-24)


# ----------------------------------------------------------------------------- grids
def is_fft_friendly(n: int) -> bool:
    """Whether the grid size ``n`` has no prime factors other than 2, 3 and 5.

    FFTs of such sizes are fast, and they are the only sizes Quantum ESPRESSO accepts for its FFT grid
    (``nr1, nr2, nr3``).

    Parameters
    ----------
    n : int
        Number of grid points along one axis.

    Returns
    -------
    bool
        True for 1, 2, 3, 4, 5, 6, 8, 9, 10, 12, ...; False for sizes with another prime factor and for
        ``n < 1``.

    Examples
    --------
    >>> [n for n in range(40, 50) if is_fft_friendly(n)]
    [40, 45, 48]
    """
    n = int(n)
    if n < 1:
        return False
    for p in _FFT_PRIMES:
        while n % p == 0:
            n //= p
    return n == 1


def next_fft_size(n: int) -> int:
    """Smallest integer >= n whose only prime factors are 2, 3 and 5."""
    n = max(int(n), 1)
    while not is_fft_friendly(n):
        n += 1
    return n


def shape_for_spacing(cell: Any, spacing: float, *, fft_friendly: bool = True,
                      minimum: int = 4) -> tuple[int, int, int]:
    """Grid shape whose spacing along each lattice vector is at most ``spacing`` (Å).

    Parameters
    ----------
    cell : array_like
        Lattice vectors (Å).
    spacing : float
        Largest allowed distance between neighbouring grid points along a lattice vector, Å.
    fft_friendly : bool
        Round each size up to a product of 2, 3 and 5 (fast FFTs, and what Quantum ESPRESSO uses).
    minimum : int
        Smallest size per axis.

    Examples
    --------
    >>> shape_for_spacing(np.eye(3) * 4.8, 0.12)
    (40, 40, 40)
    """
    try:
        spacing = float(spacing)
    except (TypeError, ValueError):
        raise GridError(f"grid spacing must be a number in Å, got {spacing!r}") from None
    if not (spacing > 0 and math.isfinite(spacing)):
        raise GridError(f"grid spacing must be a positive number of Å, got {spacing}; "
                        "0.1-0.15 Å is typical for ELF")
    lengths = np.linalg.norm(as_cell(cell), axis=1)
    sizes = [max(minimum, math.ceil(length / spacing - 1e-9)) for length in lengths]
    if fft_friendly:
        sizes = [next_fft_size(n) for n in sizes]
    if math.prod(sizes) > 1024**3:
        raise GridError(f"a spacing of {spacing} Å gives a grid of {sizes}, too large; use a coarser spacing")
    return tuple(int(n) for n in sizes)  # type: ignore[return-value]


def check_shape(shape: Any) -> tuple[int, int, int]:
    """Validate a grid shape: three integers >= 2."""
    try:
        sizes = tuple(int(n) for n in shape)
    except (TypeError, ValueError):
        raise GridError(f"a grid shape must be three integers like 48,48,48, got {shape!r}") from None
    if (len(sizes) != 3 or any(n < 2 for n in sizes)
            or any(float(n) != float(m) for n, m in zip(sizes, shape, strict=False))):
        raise GridError(f"a grid shape must be three integers >= 2 (points along a, b, c), got {shape!r}")
    return sizes  # type: ignore[return-value]


def fractional_axes(shape: Sequence[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Fractional coordinates ``i/n`` of the grid planes along a, b, c (no end point)."""
    return tuple(np.arange(n) / n for n in shape)  # type: ignore[return-value]


def interpolate_periodic(field: Any, fractional: Any) -> np.ndarray:
    """Values of a periodic grid field at fractional coordinates, by cubic spline (wrapped, not clipped).

    Parameters
    ----------
    field : (na, nb, nc) array
        Values on the grid points ``i/n`` of the cell (any units).
    fractional : (..., 3) array
        Fractional coordinates; any real values (they are wrapped into the cell).

    Returns
    -------
    numpy.ndarray
        float64 values of shape ``fractional.shape[:-1]``; exact at grid points.
    """
    from scipy import ndimage

    values = np.asarray(field, dtype=np.float64)
    frac = np.asarray(fractional, dtype=np.float64)
    coords = np.moveaxis(frac.reshape(-1, 3) % 1.0 * np.array(values.shape), -1, 0)
    return ndimage.map_coordinates(values, coords, order=3, mode="grid-wrap").reshape(frac.shape[:-1])


def grid_points_cartesian(cell: Any, shape: Sequence[int]) -> np.ndarray:
    """Cartesian coordinates (Å) of all grid points, array of shape ``(na, nb, nc, 3)``."""
    fa, fb, fc = fractional_axes(check_shape(shape))
    frac = np.stack(np.meshgrid(fa, fb, fc, indexing="ij"), axis=-1)
    return frac @ as_cell(cell)


# ----------------------------------------------------------------------------- structure checks
def check_positions(positions: Any, cell: Any, *, min_distance: float = MIN_INTERATOMIC_DISTANCE) -> np.ndarray:
    """Validate Cartesian positions (Å): finite, shape (N, 3), no two atoms (or images) closer than ``min_distance``."""
    pos = np.asarray(positions, dtype=float)
    if pos.ndim == 1 and pos.size == 0:
        pos = pos.reshape(0, 3)
    if pos.ndim != 2 or pos.shape[1] != 3:
        raise StructureError(f"positions must be an (N, 3) array of Cartesian coordinates in Å, got shape {pos.shape}")
    if not np.all(np.isfinite(pos)):
        bad = np.where(~np.all(np.isfinite(pos), axis=1))[0]
        raise StructureError(f"atom(s) {bad[:10].tolist()} have NaN or infinite coordinates; fix the input structure")
    if len(pos) > 1 and min_distance > 0:
        d, i, j = minimum_image_distance(pos, cell)
        if d < min_distance:
            raise StructureError(
                f"atoms {i} and {j} are {d:.3f} Å apart (closer than {min_distance} Å, counting periodic images): "
                "overlapping atoms; check units (Å expected) and duplicated atoms in the input")
    return pos


def minimum_image_distance(positions: np.ndarray, cell: Any) -> tuple[float, int, int]:
    """Smallest distance (Å) between any two atoms or an atom and its own image, and the pair's indices."""
    cell = as_cell(cell)
    frac = cart_to_frac(positions, cell)
    frac -= np.floor(frac)
    from scipy.spatial import cKDTree

    # Work with a 3x3x3 supercell of images; the tree answers nearest neighbours in O(N log N).
    shifts = np.array([[i, j, k] for i in (-1, 0, 1) for j in (-1, 0, 1) for k in (-1, 0, 1)], dtype=float)
    images = (frac[None, :, :] + shifts[:, None, :]).reshape(-1, 3) @ cell
    owner = np.tile(np.arange(len(frac)), len(shifts))
    tree = cKDTree(images)
    central = frac @ cell
    dist, idx = tree.query(central, k=2)
    # k=2: the first neighbour is the atom itself (distance 0) unless two atoms coincide
    best = int(np.argmin(dist[:, 1]))
    d = float(dist[best, 1])
    # A cell shorter than one image shell still gets its own-image distance from the shortest lattice vector.
    return d, best, int(owner[idx[best, 1]])


# ----------------------------------------------------------------------------- attrs
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


# ----------------------------------------------------------------------------- building
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
        all_fields["elf"] = elf
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
        "cell": (("vector", "xyz"), cell, {"units": "angstrom", "description": "lattice vectors as rows"}),
        "positions": (("atom", "xyz"), positions, {"units": "angstrom"}),
        "numbers": (("atom",), numbers, {"description": "atomic numbers"}),
    }


def field_attrs(name: str) -> dict[str, str]:
    """Default variable attributes for a field name."""
    descriptions = {
        "elf": "electron localization function",
        "elf_ref": "reference (first-principles) ELF",
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
    cell = ds["cell"].values
    numbers = ds["numbers"].values
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


# ----------------------------------------------------------------------------- validation
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
    for name, dims in (("cell", ("vector", "xyz")), ("positions", ("atom", "xyz")), ("numbers", ("atom",))):
        if name not in ds:
            raise StructureError(f"the Dataset has no '{name}' variable; build it with elfviz.grid.make_dataset")
        if ds[name].dims != dims:
            raise StructureError(f"'{name}' must have dims {dims}, got {ds[name].dims}")
    as_cell(ds["cell"].values)
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


# ----------------------------------------------------------------------------- ASE
def to_atoms(ds: xr.Dataset):
    """The structure of a Dataset as a periodic ``ase.Atoms`` (Å)."""
    from ase import Atoms

    return Atoms(numbers=ds["numbers"].values, positions=ds["positions"].values, cell=ds["cell"].values,
                 pbc=True)


def from_atoms(atoms, *, elf: Any = None, shape: Any = None, spacing: float | None = None,
               source: str | None = None, attrs: Mapping[str, Any] | None = None, **kwargs) -> xr.Dataset:
    """Build the Dataset of an ``ase.Atoms`` (must be periodic in all three directions with a full cell).

    Raises
    ------
    StructureError
        If the structure has no cell or is not periodic in all three directions.
    """
    merged = _periodic_atoms_attrs(atoms, attrs)
    return make_dataset(atoms.cell.array, atoms.positions, atoms.numbers, elf, shape=shape, spacing=spacing,
                        source=source or "structure", attrs=merged, **kwargs)


def structure_from_atoms(atoms, *, source: str | None = None, attrs: Mapping[str, Any] | None = None,
                         **kwargs) -> xr.Dataset:
    """The structure of an ``ase.Atoms`` as a Dataset without a grid (see :func:`make_structure`).

    Same checks and attrs (``pressure_gpa``, ``temperature_k``, ``phase`` ... from ``atoms.info``) as
    :func:`from_atoms`; ``kwargs`` go to :func:`make_structure` (``check_overlap``).

    Raises
    ------
    StructureError
        If the structure has no cell or is not periodic in all three directions.
    """
    merged = _periodic_atoms_attrs(atoms, attrs)
    return make_structure(atoms.cell.array, atoms.positions, atoms.numbers, source=source or "structure",
                          attrs=merged, **kwargs)


def _periodic_atoms_attrs(atoms, attrs: Mapping[str, Any] | None) -> dict[str, Any]:
    """Check that ``atoms`` is 3-D periodic with a full cell; ``attrs`` completed from ``atoms.info``."""
    if len(atoms.cell.array) != 3 or abs(atoms.cell.volume) < 1e-6:
        raise StructureError("the structure has no cell (or a zero-volume cell); elfviz needs a 3-D periodic "
                             "cell: give lattice vectors in the file (CELL_PARAMETERS, Lattice=, _cell_length_a ...)")
    if not all(atoms.pbc):
        raise StructureError(
            f"the structure is periodic only along {atoms.pbc.tolist()}; elfviz needs periodic boundary "
            "conditions in all three directions (use atoms.pbc = True if the cell is meant to be periodic)")
    merged = dict(attrs or {})
    info = getattr(atoms, "info", {}) or {}
    for key in ("pressure_gpa", "temperature_k", "phase", "frame", "trajectory"):
        if key in info and key not in merged:
            merged[key] = info[key]
    return merged


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
