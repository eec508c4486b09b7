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
from ..grid import keys

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


def lattice_plane_slice(ds: xr.Dataset, *, field: str = keys.ELF, plane: str = "ab",
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
    cell = ds[keys.CELL].values
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


SLICE_MIN_WIDTH = 280
"""Smallest width (px) a responsive slice plot is drawn at."""

SLICE_HEIGHT = 460
"""Height (px) of a responsive slice plot; its width follows the container."""


def equal_aspect_hook(plot, element) -> None:
    """HoloViews hook: the browser keeps one Å as long on x as on y, whatever the plot's shape.

    Bokeh's ``match_aspect`` only acts on data ranges it computes itself (``DataRange1d``), so the
    holoviews ranges are replaced by such ranges; the plane is then centred with blank margins along the
    direction the plot has room to spare, never cut off.
    """
    from bokeh.models import DataRange1d

    fig = plot.state
    fig.x_range = DataRange1d(range_padding=0.02)
    fig.y_range = DataRange1d(range_padding=0.02)
    fig.match_aspect = True
    fig.aspect_scale = 1.0


def slice_plot(slice_da: xr.DataArray, *, cmap: str = "viridis", clim: tuple[float, float] | None = (0.0, 1.0),
               title: str | None = None, width: int | None = None, height: int | None = None,
               clabel: str | None = None):
    """A holoviews ``QuadMesh`` of a slice from :func:`lattice_plane_slice` (x, y in Å), with a colour bar.

    The plane is drawn at its true aspect (one Å is as long along x as along y, see
    :func:`equal_aspect_hook`), so a skewed cell shows as the parallelogram it is. By default the plot is
    responsive: :data:`SLICE_HEIGHT` px tall, as wide as its container (at least :data:`SLICE_MIN_WIDTH`
    px), with the colour bar on the right.

    Parameters
    ----------
    slice_da : xarray.DataArray
        From :func:`lattice_plane_slice`.
    cmap : str
        Colour map.
    clim : (float, float) or None
        Colour limits (default 0-1, the range of the ELF); None: the data range.
    title : str, optional
        Plot title (default names the field, plane and position).
    width, height : int, optional
        Fixed plot size in px instead of the responsive one (both or neither).
    clabel : str, optional
        Colour bar title (default the field name).

    Examples
    --------
    >>> ds = grid.make_dataset(np.eye(3) * 2.0, [[0, 0, 0]], [1], elf=np.full((4, 4, 4), 0.5))
    >>> plot = slice_plot(lattice_plane_slice(ds))
    >>> type(plot).__name__, plot.opts.get().kwargs["responsive"], plot.opts.get().kwargs["colorbar"]
    ('QuadMesh', True, True)
    """
    import holoviews as hv
    import holoviews.plotting.bokeh  # noqa: F401  (registers the bokeh backend's options)

    label = slice_da.name or "field"
    mesh = hv.QuadMesh((slice_da["x"].values, slice_da["y"].values, slice_da.values),
                       kdims=["x", "y"], vdims=[label])
    plane = slice_da.attrs.get("plane", "")
    default_title = f"{label} on the {plane} plane at {slice_da.attrs.get('normal_axis', '')} = " \
                    f"{slice_da.attrs.get('position', 0):.3f}"
    opts = dict(cmap=cmap, colorbar=True, data_aspect=1, xlabel="x (Å)", ylabel="y (Å)",
                title=title or default_title, tools=["hover"],
                colorbar_opts={"title": clabel or label})
    if width is not None and height is not None:
        opts.update(width=width, height=height)
    else:
        opts.update(responsive=True, height=SLICE_HEIGHT, min_width=SLICE_MIN_WIDTH, hooks=[equal_aspect_hook])
        del opts["data_aspect"]  # holoviews would fix the size; the hook keeps 1 Å = 1 Å in the browser
    if clim is not None:
        opts["clim"] = clim
    return mesh.opts(**opts)
