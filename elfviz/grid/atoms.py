"""Conversion between elfviz Datasets and ``ase.Atoms``."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import xarray as xr

from ..errors import StructureError
from . import keys
from .schema import make_dataset, make_structure


def to_atoms(ds: xr.Dataset):
    """The structure of a Dataset as a periodic ``ase.Atoms`` (Å)."""
    from ase import Atoms

    return Atoms(numbers=ds[keys.NUMBERS].values, positions=ds[keys.POSITIONS].values, cell=ds[keys.CELL].values,
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
