"""2-D slices of a periodic field on a lattice plane, placed with true Cartesian in-plane coordinates.

A plane is named by the two lattice vectors that span it (``"ab"``, ``"bc"``, ``"ca"``) and its
fractional position along the third vector; values between grid planes are interpolated linearly
(periodically). The slice covers one full face of the cell, end points included, so that a skewed cell
shows as the parallelogram it is.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import xarray as xr

from .. import grid
from ..errors import GridError

PLANES = {"ab": (0, 1, 2), "bc": (1, 2, 0), "ca": (2, 0, 1)}
"""Plane name -> (first in-plane axis, second in-plane axis, normal axis)."""


def plane_frame(cell: Any, plane: str) -> np.ndarray:
    """Orthonormal in-plane basis (2, 3): e1 along the first spanning vector, e2 in the plane.

    Examples
    --------
    >>> plane_frame(np.eye(3) * 2.0, "bc").round(6).tolist()
    [[0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
    """
    u, v, _ = _plane_axes(plane)
    cell_arr = grid.as_cell(cell)
    e1 = cell_arr[u] / np.linalg.norm(cell_arr[u])
    w = cell_arr[v] - (cell_arr[v] @ e1) * e1
    e2 = w / np.linalg.norm(w)
    return np.stack([e1, e2])


def _plane_axes(plane: str) -> tuple[int, int, int]:
    if plane not in PLANES:
        raise GridError(f"unknown lattice plane {plane!r}; choose one of {sorted(PLANES)}")
    return PLANES[plane]


def lattice_plane_slice(ds: xr.Dataset, *, field: str = "elf", plane: str = "ab",
                        position: float = 0.0) -> xr.DataArray:
    """The field on a lattice plane.

    Parameters
    ----------
    ds : xarray.Dataset
        elfviz Dataset holding ``field``.
    field : str
        Field to slice.
    plane : {"ab", "bc", "ca"}
        The two lattice vectors spanning the plane.
    position : float
        Fractional coordinate of the plane along the third lattice vector (wrapped into [0, 1)).

    Returns
    -------
    xarray.DataArray
        Dims ``(u, v)`` (fractional along the two spanning vectors, end point included) with 2-D
        coordinates ``x`` and ``y`` (Å) in the plane's orthonormal frame; attrs ``plane``, ``position``.

    Examples
    --------
    >>> ds = grid.make_dataset(np.eye(3) * 2.0, [[0, 0, 0]], [1], elf=np.full((4, 4, 4), 0.5))
    >>> s = lattice_plane_slice(ds, plane="ab", position=0.3)
    >>> s.shape, float(s.x.max())
    ((5, 5), 2.0)
    """
    if field not in ds:
        raise GridError(f"the Dataset has no field {field!r}; fields: {grid.field_names(ds)}")
    try:
        position = float(position)
    except (TypeError, ValueError):
        raise GridError(f"the plane position must be a fractional coordinate, got {position!r}") from None
    if not np.isfinite(position):
        raise GridError("the plane position must be finite")
    u, v, normal = _plane_axes(plane)
    values = np.transpose(ds[field].values, (u, v, normal))
    n = values.shape[2]
    t = (position % 1.0) * n
    lower = int(np.floor(t)) % n
    weight = t - np.floor(t)
    plane_values = (1 - weight) * values[:, :, lower] + weight * values[:, :, (lower + 1) % n]
    plane_values = np.pad(plane_values, [(0, 1), (0, 1)], mode="wrap")
    fu = np.arange(plane_values.shape[0]) / (plane_values.shape[0] - 1)
    fv = np.arange(plane_values.shape[1]) / (plane_values.shape[1] - 1)
    cell = ds["cell"].values
    frame = plane_frame(cell, plane)
    pu, pv = cell[u] @ frame.T, cell[v] @ frame.T  # spanning vectors in plane coordinates
    xy = fu[:, None, None] * pu + fv[None, :, None] * pv
    names = "abc"
    return xr.DataArray(
        plane_values.astype(np.float32), dims=("u", "v"),
        coords={"u": fu, "v": fv, "x": (("u", "v"), xy[..., 0]), "y": (("u", "v"), xy[..., 1])},
        name=field,
        attrs={"plane": plane, "position": position % 1.0, "normal_axis": names[normal],
               "u_axis": names[u], "v_axis": names[v], "units_xy": "angstrom"},
    )


def slice_plot(slice_da: xr.DataArray, *, cmap: str = "viridis", clim: tuple[float, float] | None = (0.0, 1.0),
               title: str | None = None, width: int = 420, height: int = 380):
    """A holoviews ``QuadMesh`` of a slice from :func:`lattice_plane_slice` (x, y in Å).

    Examples
    --------
    >>> ds = grid.make_dataset(np.eye(3) * 2.0, [[0, 0, 0]], [1], elf=np.full((4, 4, 4), 0.5))
    >>> type(slice_plot(lattice_plane_slice(ds))).__name__
    'QuadMesh'
    """
    import holoviews as hv
    import holoviews.plotting.bokeh  # noqa: F401  (registers the bokeh backend's options)

    label = slice_da.name or "field"
    mesh = hv.QuadMesh((slice_da["x"].values, slice_da["y"].values, slice_da.values),
                       kdims=["x", "y"], vdims=[label])
    plane = slice_da.attrs.get("plane", "")
    default_title = f"{label} on the {plane} plane at {slice_da.attrs.get('normal_axis', '')} = " \
                    f"{slice_da.attrs.get('position', 0):.3f}"
    opts = dict(cmap=cmap, colorbar=True, width=width, height=height, data_aspect=1,
                xlabel="x (Å)", ylabel="y (Å)", title=title or default_title, tools=["hover"])
    if clim is not None:
        opts["clim"] = clim
    return mesh.opts(**opts)
