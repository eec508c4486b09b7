"""HoloViews plots of the residual analysis.

Spectra versus pressure, low-|G| variance fraction versus pressure, R^2 versus the cut k_c, residual slices.

Every function takes the xarray results of :mod:`elfviz.analysis` and returns a HoloViews object (render it
in a notebook, in Panel, or with ``hv.save``). HoloViews is imported inside the functions, so importing this
module is cheap; call ``hv.extension("bokeh")`` (or let Panel do it) before displaying.

Examples
--------
>>> import numpy as np
>>> from elfviz import grid
>>> from elfviz.analysis import spectra_over_frames
>>> rng = np.random.default_rng(0)
>>> def frame(p):
...     residual = rng.normal(size=(8, 8, 8))
...     return grid.make_dataset(np.eye(3) * 3, [[0, 0, 0]], [1], fields={"residual": residual},
...                              attrs={"pressure_gpa": p})
>>> frames = [frame(p) for p in (100.0, 300.0)]
>>> plot = spectra_plot(spectra_over_frames(frames))
>>> type(plot).__name__
'Overlay'
"""

from __future__ import annotations

import math

import numpy as np
import xarray as xr

from .. import grid
from ..errors import GridError

LABELS = {
    "pressure_gpa": "pressure (GPa)",
    "rs_bohr": "rs (bohr)",
    "temperature_k": "temperature (K)",
    "k": "|G| (Å⁻¹)",
    "k_cut": "k_c (Å⁻¹)",
    "power": "shell power",
    "power_density": "power per |G| (Å)",
    "mean_power": "mean power per mode",
    "lowk_fraction": "variance fraction below k",
    "correlation_length": "correlation length (Å)",
    "r2": "R²",
}


def _hv():
    """HoloViews with a plotting backend loaded (bokeh unless the caller already chose one)."""
    import holoviews as hv

    if hv.Store.current_backend not in hv.Store.renderers:
        import holoviews.plotting.bokeh  # noqa: F401  (registers the backend without notebook output)

        hv.Store.set_current_backend("bokeh")
    return hv


def _colors(values: np.ndarray, cmap: str) -> list[str]:
    from holoviews.plotting.util import process_cmap

    palette = process_cmap(cmap, 256)
    finite = np.asarray(values, dtype=float)
    if not np.any(np.isfinite(finite)):
        return [palette[0]] * len(finite)
    lo, hi = np.nanmin(finite), np.nanmax(finite)
    span = hi - lo if hi > lo else 1.0
    return [palette[int(round((v - lo) / span * 255))] if math.isfinite(v) else "#888888" for v in finite]


def _groups(ds: xr.Dataset, color_by: str, dim: str) -> xr.Dataset:
    """Mean over frames per value of ``color_by`` (or the data itself when there is no ``frame`` dim)."""
    if "frame" not in ds.dims:
        return ds.expand_dims({color_by: [ds.attrs.get(color_by, np.nan)]})
    if color_by not in ds.coords:
        raise GridError(
            f"cannot colour by '{color_by}': the frames have no such coordinate "
            f"(available: {[c for c in ds.coords if c != dim]})"
        )
    keys = ds[color_by]
    if np.issubdtype(keys.dtype, np.number):
        ds = ds.assign_coords({color_by: ("frame", np.round(keys.values.astype(float), 3))})
    return ds.groupby(color_by).mean()


def _bond_marker(hv, label: bool = True):
    from ..analysis.spectra import K_BOND

    return hv.VLine(K_BOND, label="2π / 0.74 Å (H-H bond)" if label else "").opts(
        color="black", line_dash="dashed", line_width=1
    )


def spectra_plot(
    spectra: xr.Dataset,
    *,
    color_by: str = "pressure_gpa",
    y: str = "power_density",
    log: bool = True,
    k_max: float | None = None,
    cmap: str = "viridis",
):
    """Residual spectra, one curve per value of ``color_by`` (frames of one value averaged).

    Parameters
    ----------
    spectra : xarray.Dataset
        Output of :func:`elfviz.analysis.spectra_over_frames` (or one :func:`radial_power_spectrum`).
    color_by : str
        Frame coordinate that sets the curve colour (``pressure_gpa``, ``rs_bohr`` ...).
    y : str
        ``power_density`` (default), ``power`` or ``mean_power``.
    log : bool
        Logarithmic power axis.
    k_max : float, optional
        Right end of the |G| axis (Å^-1); default the largest isotropic |G| of the frames.

    Returns
    -------
    holoviews.Overlay
        Curves plus a dashed line at 2π/0.74 Å.
    """
    hv = _hv()
    if y not in spectra:
        raise GridError(f"the spectra have no variable '{y}'; choose power, power_density or mean_power")
    groups = _groups(spectra, color_by, "k")
    if k_max is None:
        iso = spectra["k_isotropic"] if "k_isotropic" in spectra else spectra.attrs.get("k_isotropic")
        k_max = float(np.nanmin(np.asarray(iso))) if iso is not None else float(spectra["k"].max())
    values = groups[color_by].values
    numeric = np.issubdtype(np.asarray(values).dtype, np.number)
    colors = _colors(values, cmap) if numeric else [None] * len(values)
    curves = []
    for value, color in zip(values, colors, strict=True):
        data = groups.sel({color_by: value})
        keep = (data["k"] > 0) & (data["k"] <= k_max)
        k = data["k"].values[keep.values]
        p = data[y].values[keep.values]
        if log:
            p = np.where(p > 0, p, np.nan)
        label = f"{value:.3g}" if numeric else str(value)
        curve = hv.Curve((k, p), LABELS["k"], LABELS.get(y, y), label=label)
        curves.append(curve.opts(color=color) if color else curve)
    overlay = hv.Overlay(curves + [_bond_marker(hv)])
    return overlay.opts(
        hv.opts.Curve(logy=log, line_width=2, tools=["hover"]),
        hv.opts.Overlay(
            title=f"residual spectrum by {LABELS.get(color_by, color_by)}",
            legend_position="right",
            width=700,
            height=400,
        ),
    )


def lowk_fraction_plot(spectra: xr.Dataset, *, x: str = "pressure_gpa", y: str = "lowk_fraction"):
    """Per-frame ``lowk_fraction`` (or another per-frame variable) versus pressure, with group means ± std.

    Returns
    -------
    holoviews.Overlay
        Scatter of frames, a curve through the group means and error bars of one standard deviation.
    """
    hv = _hv()
    for name in (x, y):
        if name not in spectra.variables:
            raise GridError(f"the spectra have no '{name}' (variables: {list(spectra.variables)})")
    xs = np.asarray(spectra[x].values, dtype=float)
    ys = np.asarray(spectra[y].values, dtype=float)
    keys = np.round(xs, 3)
    unique = np.unique(keys[np.isfinite(keys)])
    means = np.array([np.nanmean(ys[keys == u]) for u in unique])
    stds = np.array([np.nanstd(ys[keys == u]) for u in unique])
    xlabel, ylabel = LABELS.get(x, x), LABELS.get(y, y)
    k_cut = spectra.attrs.get("k_cut")
    title = f"{ylabel} (k < {k_cut:.2f} Å⁻¹)" if (y == "lowk_fraction" and k_cut) else ylabel
    scatter = hv.Scatter((xs, ys), xlabel, ylabel, label="frames").opts(size=6, alpha=0.5, tools=["hover"])
    mean = hv.Curve((unique, means), xlabel, ylabel, label="mean").opts(color="black", line_width=2)
    bars = hv.ErrorBars((unique, means, stds), xlabel, [ylabel, "std"]).opts(color="black")
    return (scatter * mean * bars).opts(
        hv.opts.Overlay(title=title, width=600, height=380, legend_position="bottom_right")
    )


def r2_kcut_plot(curves: xr.Dataset, *, color_by: str = "pressure_gpa", cmap: str = "viridis", y: str = "r2"):
    """R^2 after the diagnostic low-pass correction versus the cut k_c, one curve per ``color_by`` value.

    Parameters
    ----------
    curves : xarray.Dataset
        :func:`elfviz.analysis.r2_versus_kcut` of one frame, or
        :func:`elfviz.analysis.correction.kcut_curves_over_frames` (dims ``frame, k_cut``).
    """
    hv = _hv()
    groups = _groups(curves, color_by, "k_cut")
    values = groups[color_by].values
    numeric = np.issubdtype(np.asarray(values).dtype, np.number)
    colors = _colors(values, cmap) if numeric else [None] * len(values)
    items = []
    for value, color in zip(values, colors, strict=True):
        data = groups.sel({color_by: value})
        label = f"{value:.3g}" if numeric else str(value)
        curve = hv.Curve(
            (data["k_cut"].values, data[y].values), LABELS["k_cut"], LABELS.get(y, y), label=label
        )
        items.append(curve.opts(color=color) if color else curve)
    return hv.Overlay(items + [_bond_marker(hv)]).opts(
        hv.opts.Curve(line_width=2, tools=["hover"]),
        hv.opts.Overlay(
            title="R² after restoring the residual's |G| < k_c modes",
            width=700,
            height=400,
            legend_position="right",
        ),
    )


def lattice_plane(ds: xr.Dataset, field: str, axis: str = "c", index: int = 0):
    """A lattice-plane slice of a field with Cartesian in-plane coordinates (Å).

    Returns ``(x, y, values)``: 2-D arrays of shape ``(n1 + 1, n2 + 1)`` with the periodic end point
    repeated, ``x`` along the first in-plane lattice vector and ``y`` perpendicular to it, in the plane.
    """
    if axis not in grid.GRID_DIMS:
        raise GridError(f"axis must be one of {grid.GRID_DIMS}, got {axis!r}")
    if field not in ds:
        raise GridError(f"the Dataset has no field '{field}' (fields: {grid.field_names(ds)})")
    n = ds.sizes[axis]
    if not -n <= index < n:
        raise GridError(f"slice index {index} is outside the {n} planes along {axis}")
    values = ds[field].transpose(*grid.GRID_DIMS).isel({axis: index}).values
    values = np.pad(values, ((0, 1), (0, 1)), mode="wrap")
    in_plane = [d for d in grid.GRID_DIMS if d != axis]
    cell = ds["cell"].values
    v1, v2 = (cell[grid.GRID_DIMS.index(d)] for d in in_plane)
    e1 = v1 / np.linalg.norm(v1)
    e2 = v2 - (v2 @ e1) * e1
    e2 /= np.linalg.norm(e2)
    f1 = np.arange(values.shape[0]) / ds.sizes[in_plane[0]]
    f2 = np.arange(values.shape[1]) / ds.sizes[in_plane[1]]
    points = f1[:, None, None] * v1 + f2[None, :, None] * v2
    return points @ e1, points @ e2, values


def residual_slice_plot(
    ds: xr.Dataset, *, field: str = "residual", axis: str = "c", index: int = 0, cmap: str = "RdBu_r"
):
    """A lattice-plane slice of the residual (or any field) on its true, possibly skewed, geometry.

    The colour scale is symmetric about zero for residuals (red: reference above the prediction).
    """
    hv = _hv()
    x, y, values = lattice_plane(ds, field, axis, index)
    in_plane = [d for d in grid.GRID_DIMS if d != axis]
    mesh = hv.QuadMesh((x, y, values), [f"x along {in_plane[0]} (Å)", "y (Å)"], field)
    opts = {
        "cmap": cmap,
        "colorbar": True,
        "aspect": "equal",
        "frame_width": 420,
        "tools": ["hover"],
        "title": f"{field}, plane {axis} = {index}/{ds.sizes[axis]}",
    }
    if field == "residual":
        bound = float(np.abs(values).max()) or 1.0
        opts["clim"] = (-bound, bound)
    return mesh.opts(**opts)
