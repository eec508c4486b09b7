"""Turn parsed volumetric data (and netCDF bytes) into the elfviz Dataset: names, origin shift, checks."""

from __future__ import annotations

import logging
import re
from typing import Any

import numpy as np
import xarray as xr

from .. import grid
from ..errors import FileFormatError, GridError
from ..grid import keys
from ._text import VolumetricData
from .formats import vasp_kind

log = logging.getLogger(__name__)

KNOWN_FIELDS = set(grid.ELF_FIELDS) | {"residual", "charge", "density", "magnetization", "potential"}
"""Field names taken over from XSF datagrid labels as they are."""


def read_netcdf_bytes(data: bytes, name: str) -> xr.Dataset:
    import io as _io

    from .store import ENGINE

    try:
        with xr.open_dataset(_io.BytesIO(data), engine=ENGINE) as handle:
            ds = handle.load()
    except Exception as exc:
        raise FileFormatError(
            f"{name}: not a readable netCDF4/HDF5 file ({type(exc).__name__}); is it truncated?"
        ) from None
    ds.attrs = grid.decode_attrs(ds.attrs)
    for var in ds.data_vars:
        ds[var].attrs = grid.decode_attrs(ds[var].attrs)
    for var in grid.field_names(ds):
        if ds[var].dtype != np.float32:
            attrs = ds[var].attrs
            ds[var] = ds[var].astype(np.float32)
            ds[var].attrs = attrs
    if keys.NUMBERS in ds:
        ds[keys.NUMBERS] = ds[keys.NUMBERS].astype(np.int64)
    try:
        return grid.validate(ds)
    except FileFormatError:
        raise
    except Exception as exc:
        raise FileFormatError(f"{name} is netCDF but not an elfviz Dataset: {exc}") from None


def parse_volumetric(text: str, fmt: str, name: str, index: int | None) -> VolumetricData:
    if fmt == "cube":
        from .cube import read_cube

        return read_cube(text, name)
    if fmt == "xsf":
        from .xsf import read_xsf

        return read_xsf(text, name, index=index)
    from .vasp import read_vasp

    return read_vasp(text, name)


def field_names(vol: VolumetricData, fmt: str, name: str, field: str | None) -> list[str]:
    n = len(vol.grids)
    if fmt == "vasp":
        _, default = vasp_kind(name)
        base = field or default or keys.ELF
        if n == 1:
            return [base]
        if base == keys.ELF:
            return ["elf_spin_up", "elf_spin_down"] + [f"elf_{i}" for i in range(3, n + 1)]
        if base == "charge" and n == 2:
            return ["charge", "magnetization"]
        if base == "charge" and n == 4:  # non-collinear: total, mx, my, mz
            return ["charge", "magnetization_x", "magnetization_y", "magnetization_z"]
        return [base] + [f"{base}_{i}" for i in range(2, n + 1)]
    if n == 1:
        label = (vol.grids[0][0] or "").lower()
        if field:
            return [field]
        return [label if label in KNOWN_FIELDS else keys.ELF]
    names: list[str] = []
    for i, (label, _) in enumerate(vol.grids):
        clean = re.sub(r"\W+", "_", (label or "")).strip("_").lower()
        if not clean or not clean[0].isalpha() or clean in names:
            clean = f"grid_{i + 1}"
        names.append(clean)
    return names


def to_dataset(vol: VolumetricData, fmt: str, name: str, field: str | None, spacing: float) -> xr.Dataset:
    attrs: dict[str, Any] = {"file_format": fmt, **vol.attrs}
    origin = np.asarray(vol.origin, dtype=float)
    if np.any(np.abs(origin) > 1e-9):
        attrs["grid_origin_angstrom"] = origin.tolist()
    positions = np.asarray(vol.positions, dtype=float) - origin
    source = f"file:{name}"
    if not vol.grids:
        return grid.make_dataset(
            vol.cell, positions, vol.numbers, spacing=spacing, source=source, attrs=attrs
        )
    names = field_names(vol, fmt, name, field)
    fields = {n: g for n, (_, g) in zip(names, vol.grids, strict=True)}
    if "elf_spin_up" in fields and "elf_spin_down" in fields and field in (None, keys.ELF):
        up, down = fields["elf_spin_up"], fields["elf_spin_down"]
        fields[keys.ELF] = 0.5 * (up + down)
        attrs["elf_spin_combination"] = (
            "elf = (elf_spin_up + elf_spin_down) / 2; exact when the system is "
            "spin-unpolarised (equal channels), a convention otherwise"
        )
        diff = float(np.max(np.abs(up - down)))
        if diff > 1e-3:
            log.warning("%s: spin-up and spin-down ELF differ by up to %.3g; 'elf' is their mean", name, diff)
    try:
        return grid.make_dataset(vol.cell, positions, vol.numbers, fields=fields, source=source, attrs=attrs)
    except GridError as exc:
        bad = [n for n in fields if n in grid.ELF_FIELDS]
        if "outside [0, 1]" in str(exc) and bad:
            lo = min(float(np.min(fields[n])) for n in bad)
            hi = max(float(np.max(fields[n])) for n in bad)
            raise GridError(
                f"{name}: the field was read as ELF but its values span [{lo:.4g}, {hi:.4g}], "
                "outside [0, 1]; "
                "it is probably a density (CHGCAR) or a potential. Read it under another name: "
                "elfviz.io.read(path, field='charge') or `elfviz info FILE --field charge`"
            ) from None
        raise
