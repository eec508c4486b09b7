"""Serialise an elfviz Dataset into the bytes of a file format (cube, XSF, VASP, ASE structure formats)."""

from __future__ import annotations

from pathlib import PurePath

import numpy as np
import xarray as xr

from .. import grid
from ..errors import GridError
from ..grid import keys
from .formats import ASE_FORMATS, vasp_kind


def serialise(ds: xr.Dataset, fmt: str, name: str, field) -> bytes:
    cell = ds[keys.CELL].values
    origin = np.asarray(ds.attrs.get("grid_origin_angstrom", np.zeros(3)), dtype=float)
    positions = ds[keys.POSITIONS].values
    numbers = ds[keys.NUMBERS].values
    comment = f"elfviz: {ds.attrs.get('source', '')}".strip()
    if fmt in ASE_FORMATS:
        from .structure import write_ase

        atoms = grid.to_atoms(ds)
        atoms.positions = atoms.positions + origin
        return write_ase(atoms, fmt)
    if fmt == "cube":
        from .cube import write_cube

        (values,) = _field_values(ds, field, fmt, single=True)
        return write_cube(cell, positions, numbers, values, origin=origin, comment=comment).encode()
    if fmt == "xsf":
        from .xsf import write_xsf

        names = (
            grid.field_names(ds) if field is None else ([field] if isinstance(field, str) else list(field))
        )
        if not names:
            raise GridError(
                f"{name}: the Dataset has no field to write as an XSF datagrid; write a structure "
                "format (.cif, .xyz, POSCAR) instead"
            )
        values = _field_values(ds, tuple(names), fmt, single=False)
        return write_xsf(
            cell, positions, numbers, dict(zip(names, values, strict=True)), origin=origin, comment=comment
        ).encode()
    from .vasp import write_vasp

    is_vasp_name, default = vasp_kind(name)
    wanted = [field] if isinstance(field, str) else list(field or [])
    has_fields = bool(wanted) and all(n in grid.field_names(ds) for n in wanted)
    if is_vasp_name and default is None:  # POSCAR, CONTCAR: structure only
        blocks: list[np.ndarray] = []
    elif PurePath(name).suffix.lower() in (".vasp", ".poscar") and not has_fields:
        blocks = []  # a structure written as *.vasp
    else:
        blocks = _field_values(ds, field, fmt, single=False)
    return write_vasp(cell, positions + origin, numbers, blocks, comment=comment).encode()


def _field_values(ds: xr.Dataset, field, fmt: str, *, single: bool) -> list[np.ndarray]:
    names = [field] if isinstance(field, str) else list(field or [])
    if not names:
        raise GridError(f"name the field to write in {fmt} format (field='elf')")
    if single and len(names) != 1:
        raise GridError(f"{fmt} holds one field; got {names}")
    if len(names) > 2 and fmt == "vasp":
        raise GridError("a VASP volumetric file holds one field or a spin pair; got " + str(names))
    missing = [n for n in names if n not in grid.field_names(ds)]
    if missing:
        raise GridError(
            f"the Dataset has no field {missing[0]!r} to write as {fmt}; it has "
            f"{grid.field_names(ds) or 'no fields (structure only)'}"
        )
    return [ds[n].values.astype(np.float64) for n in names]
