"""A structure placed on a grid: the input of the model and of the promolecular reference (no fields, no files).

Examples
--------
>>> from ase import Atoms
>>> ds = structure_on_grid(Atoms("H2", [[0, 0, 0], [0.74, 0, 0]], cell=[3, 3, 3], pbc=True), shape=(8, 8, 8))
>>> dict(ds.sizes)["a"], ds["numbers"].values.tolist()
(8, [1, 1])
>>> require_hydrogen([1, 3], what="the ELF model")       # doctest: +ELLIPSIS
Traceback (most recent call last):
...
elfviz.errors.SpeciesError: the ELF model is for pure hydrogen, but the structure contains Li; ...
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import xarray as xr

from ..errors import GridError, SpeciesError, StructureError
from . import as_cell, check_shape, from_atoms, grid_shape, keys, make_dataset, validate


def structure_on_grid(
    structure: Any, *, shape: Any = None, spacing: float | None = 0.12, like: Any = None
) -> xr.Dataset:
    """The structure as an elfviz Dataset on the requested grid (no fields).

    Parameters
    ----------
    structure : xarray.Dataset or ase.Atoms
        The periodic structure (Å).
    shape : (int, int, int), optional
        Grid shape; wins over ``spacing``.
    spacing : float
        Largest grid spacing along each lattice vector, Å (default 0.12).
    like : xarray.Dataset, optional
        Use exactly the grid of this field Dataset (read a file first: ``elfviz.io.read(path)``). Its cell
        must match the structure's.

    Returns
    -------
    xarray.Dataset
        Structure, grid coordinates and attrs (``pressure_gpa`` etc. are kept); no fields.

    Raises
    ------
    GridError, StructureError
        For an invalid grid request, a ``like`` field whose cell differs from the structure's, or a file name
        (this module reads no files).

    Examples
    --------
    >>> from ase import Atoms
    >>> ds = structure_on_grid(Atoms("H2", [[0, 0, 0], [0.74, 0, 0]], cell=[3, 3, 3], pbc=True), shape=(8, 8, 8))
    >>> dict(ds.sizes)["a"]
    8
    """
    if isinstance(structure, (str, os.PathLike)) or isinstance(like, (str, os.PathLike)):
        path = structure if isinstance(structure, (str, os.PathLike)) else like
        raise StructureError(f"got the file name {str(path)!r} where a structure was expected; read the file "
                             "first (elfviz.io.read(path) or ase.io.read(path)) and pass the Dataset or Atoms")
    if isinstance(structure, xr.Dataset):
        base = validate(structure)
        cell, positions, numbers = base[keys.CELL].values, base[keys.POSITIONS].values, base[keys.NUMBERS].values
        attrs = {k: v for k, v in base.attrs.items() if k not in ("source",)}
    elif hasattr(structure, "get_positions") and hasattr(structure, keys.CELL):
        base = from_atoms(structure, shape=(2, 2, 2))
        cell, positions, numbers = base[keys.CELL].values, base[keys.POSITIONS].values, base[keys.NUMBERS].values
        attrs = {k: v for k, v in base.attrs.items() if k not in ("source",)}
    else:
        raise StructureError(f"expected an elfviz Dataset or an ase.Atoms, got {type(structure).__name__}")
    if like is not None:
        if not isinstance(like, xr.Dataset):
            raise GridError(f"'like' must be an elfviz Dataset or a field file, got {type(like).__name__}")
        like_cell = like[keys.CELL].values
        if not np.allclose(like_cell, as_cell(cell), atol=1e-4):
            raise GridError(
                "the 'like' field's cell differs from the structure's cell; "
                "predict on the structure that the field belongs to"
            )
        shape = grid_shape(like)
    elif shape is not None:
        shape = check_shape(shape)
    if shape is not None:
        return make_dataset(cell, positions, numbers, shape=shape, attrs=attrs, source="structure")
    if spacing is None:
        raise GridError("no grid requested: give shape, spacing (Å) or like")
    return make_dataset(cell, positions, numbers, spacing=spacing, attrs=attrs, source="structure")


def require_hydrogen(numbers: Any, what: str = "the promolecular ELF") -> None:
    """Raise :class:`SpeciesError` unless every atom is hydrogen."""
    numbers = np.asarray(numbers).reshape(-1)
    if len(numbers) == 0:
        raise StructureError(f"{what} needs at least one atom")
    if np.any(numbers != 1):
        from ase.data import chemical_symbols

        others = sorted({chemical_symbols[int(z)] for z in numbers if int(z) != 1})
        raise SpeciesError(
            f"{what} is for pure hydrogen, but the structure contains {', '.join(others)}; "
            "remove the other species or use a first-principles reference (elfviz reference)"
        )
