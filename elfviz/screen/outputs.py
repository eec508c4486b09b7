"""Outputs of a screening run besides the CSV: the results as an xarray Dataset / netCDF, predicted fields."""

from __future__ import annotations

import math
import os
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import xarray as xr

from .inputs import ScreenItem
from .journal import COLUMNS, STRING_COLUMNS

UNITS = {
    "pressure_gpa": "GPa",
    "temperature_k": "K",
    "volume_a3": "Å^3",
    "rs_bohr": "bohr",
    "density_g_cm3": "g/cm^3",
    "phi": "1",
    "phi_star": "1",
    "t1": "1",
    "t2": "1",
    "t3": "1",
    "tc_k": "K",
    "tc_low_k": "K",
    "tc_high_k": "K",
    "tc_scatter_k": "K",
    "spacing_angstrom": "Å",
    "t_setup_s": "s",
    "t_predict_s": "s",
    "t_topology_s": "s",
    "t_total_s": "s",
}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


class FieldStore:
    """Predicted fields in a FrameCollection, one frame per item (frame id derived from the item key)."""

    def __init__(self, root: str | os.PathLike):
        from ..io.store import FrameCollection

        self.collection = FrameCollection(root)

    @staticmethod
    def frame_id(item: ScreenItem) -> str:
        stem = Path(item.source).name if not item.source.startswith("phase:") else item.source
        safe = re.sub(r"[^A-Za-z0-9_.-]+", "_", f"{stem}-{item.frame}").strip("._") or "item"
        return f"{safe}-{item.content_hash[:12]}"

    def add(self, ds: xr.Dataset, item: ScreenItem) -> None:
        columns = {k: item.info[k] for k in ("phase", "split", "trajectory") if k in item.info}
        # force: a frame already there belongs to this key (written before its row by an interrupted run)
        self.collection.add(ds, self.frame_id(item), force=True, screen_key=item.key, **columns)


# ----------------------------------------------------------------------------- Dataset view
def results_to_dataset(table: pd.DataFrame) -> xr.Dataset:
    """The results table as an ``xarray.Dataset`` over ``item``.

    Identifiers and physical conditions (``key``, ``source``, ``frame``, ``phase``, ``pressure_gpa``,
    ``rs_bohr``) are coordinates, so ``ds.groupby("phase")`` works; the other columns are variables with
    ``units`` attributes; the Tc caveat and the run configuration (when uniform) are global attributes.

    Examples
    --------
    >>> table = pd.DataFrame([{"key": "a#0@1", "status": "ok", "phi": 0.3, "rs_bohr": 1.4, "model": "m"}],
    ...                      columns=COLUMNS)
    >>> ds = results_to_dataset(table)
    >>> float(ds["phi"][0]), ds["rs_bohr"].attrs["units"], ds.attrs["model"]
    (0.3, 'bohr', 'm')
    """
    table = table.reset_index(drop=True)
    ds = xr.Dataset(coords={"item": np.arange(len(table))})
    attrs: dict[str, Any] = {"title": "elfviz screening results", "created_utc": _now()}
    for column in ("tc_caveat", "model", "spacing_angstrom", "connectivity"):
        values = table[column].dropna().unique() if column in table else []
        if len(values) == 1:
            attrs[column] = values[0].item() if isinstance(values[0], np.generic) else values[0]
    coords = ("key", "source", "frame", "phase", "pressure_gpa", "rs_bohr")
    for column in COLUMNS:
        if column == "tc_caveat" and "tc_caveat" in attrs:
            continue
        series = table[column] if column in table else pd.Series([None] * len(table))
        numeric = pd.to_numeric(series, errors="coerce")
        if column not in STRING_COLUMNS and series.notna().sum() == numeric.notna().sum():
            values = numeric.to_numpy(dtype=np.float64)
        else:
            values = np.array(
                [
                    "" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v)
                    for v in series.astype(object)
                ],
                dtype=object,
            )
        var = xr.DataArray(values, dims=("item",), attrs={"units": UNITS[column]} if column in UNITS else {})
        if column in coords:
            ds = ds.assign_coords({column: var})
        else:
            ds[column] = var
    ds.attrs.update(attrs)
    return ds


def write_results_netcdf(ds: xr.Dataset, path: str | os.PathLike, *, force: bool = False) -> Path:
    """Write :func:`results_to_dataset` output to netCDF (h5netcdf), atomically; refuses to overwrite."""
    from ..grid import encode_attrs
    from ..io.store import ENGINE, atomic_write, check_writable

    path = check_writable(path, force)
    out = ds.copy()
    out.attrs = encode_attrs(ds.attrs)
    atomic_write(path, lambda tmp: out.to_netcdf(tmp, engine=ENGINE))
    return path


def read_results_netcdf(path: str | os.PathLike) -> xr.Dataset:
    """Read a results netCDF written by :func:`write_results_netcdf`."""
    from ..grid import decode_attrs
    from ..io.store import ENGINE

    with xr.open_dataset(path, engine=ENGINE) as handle:
        ds = handle.load()
    ds.attrs = decode_attrs(ds.attrs)
    return ds
