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
from ..grid import keys
from .slices import SLICE_HEIGHT, equal_aspect_hook

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
    elif "Curve" not in dir(hv.opts):  # backend imported elsewhere: fill the hv.opts.<Element> builders
        hv.Store.set_current_backend(hv.Store.current_backend)
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
    names = ds[color_by]
    if np.issubdtype(names.dtype, np.number):
        ds = ds.assign_coords({color_by: ("frame", np.round(names.values.astype(float), 3))})
    return ds.groupby(color_by).mean()


def _bond_marker(hv, label: bool = True):
    from ..analysis.spectra import K_BOND

    return hv.VLine(K_BOND, label="2π / 0.74 Å (H-H bond)" if label else "").opts(
        color="black", line_dash="dashed", line_width=1
    )


PLOT_HEIGHT = 380
"""Height (px) of the line plots; their width follows the container (``responsive=True``)."""

MIN_WIDTH = 280
"""Smallest width (px) a responsive plot is drawn at (phone-sized screens)."""

RESPONSIVE = {"responsive": True, "height": PLOT_HEIGHT, "min_width": MIN_WIDTH}
"""Options that make a line plot stretch to its container's width at a fixed height."""


def frame_kind(phase: str) -> str:
    """``"liquid"``, ``"crystal"`` (any named crystal phase) or ``"frame"`` (phase unknown)."""
    phase = str(phase or "").strip()
    if not phase or phase.lower() in ("nan", "none"):
        return "frame"
    return "liquid" if phase.lower() == "liquid" else "crystal"


def _curve_groups(spectra: xr.Dataset, color_by: str, average_by: str | None) -> list[dict]:
    """One entry per drawn curve: kind, frames averaged, their ``color_by`` value and spectra.

    Frames of one kind (liquid / crystal / unknown) that share the value of ``average_by`` are averaged
    (their mean spectrum, mean ``color_by``); without an ``average_by`` coordinate frames sharing the
    ``color_by`` value are averaged; crystals are never averaged across phases.
    """
    if "frame" not in spectra.dims:
        spectra = spectra.expand_dims(frame=[str(spectra.attrs.get("frame_id", "frame"))])
        for key in (color_by, "phase", "rs_bohr", "k_isotropic", "k_max"):
            if key in spectra.attrs and key not in spectra.coords:
                spectra = spectra.assign_coords({key: ("frame", [spectra.attrs[key]])})
    if color_by not in spectra.coords:
        raise GridError(
            f"cannot colour by '{color_by}': the frames have no such coordinate "
            f"(available: {[c for c in spectra.coords if c not in ('k', 'frame')]})"
        )
    n = spectra.sizes["frame"]
    phases = spectra["phase"].values if "phase" in spectra.coords else [""] * n
    kinds = [frame_kind(p) for p in phases]
    keyname = average_by if (average_by and average_by in spectra.coords) else color_by
    names = spectra[keyname].values
    groups: dict[tuple, list[int]] = {}
    for i in range(n):
        key = names[i]
        key = round(float(key), 3) if np.issubdtype(np.asarray(names).dtype, np.number) else str(key)
        tag = (kinds[i], str(phases[i]) if kinds[i] == "crystal" else "", key)
        groups.setdefault(tag, []).append(i)
    out = []
    for (kind, phase, _), members in groups.items():
        out.append({"kind": kind, "phase": phase, "members": members, "data": spectra.isel(frame=members)})
    return out


def _cap(data: xr.Dataset, name: str, default: float) -> float:
    return float(np.nanmin(data[name].values)) if name in data.variables else default


def spectra_plot(
    spectra: xr.Dataset,
    *,
    color_by: str = "pressure_gpa",
    y: str = "power_density",
    log: bool = True,
    k_max: float | None = None,
    cmap: str = "viridis",
    average_by: str | None = "rs_bohr",
):
    """Residual spectra coloured by pressure (colour bar), liquids solid and crystals dashed.

    Parameters
    ----------
    spectra : xarray.Dataset
        Output of :func:`elfviz.analysis.spectra_over_frames` (or one :func:`radial_power_spectrum`).
    color_by : str
        Numeric frame coordinate that sets the line colour (``pressure_gpa`` in GPa, ``rs_bohr`` ...);
        a colour bar shows its scale.
    y : str
        ``power_density`` (default, field^2 Å), ``power`` (field^2 per shell) or ``mean_power``.
    log : bool
        Logarithmic power axis.
    k_max : float, optional
        Right end of every curve (Å^-1); default each frame's isotropic limit ``k_isotropic`` (beyond it
        the shells are only partly filled).
    cmap : str
        Colour map of ``color_by``.
    average_by : str, optional
        Frames of one kind sharing this coordinate (default ``rs_bohr``: the liquid frames of one density)
        are averaged into one curve coloured by their mean ``color_by``; ``None`` averages only frames
        sharing the ``color_by`` value. Crystal phases are never averaged together.

    Returns
    -------
    holoviews.Overlay
        One ``Path`` per kind (liquid solid, crystal dashed, colour mapped to ``color_by`` with one colour
        bar), legend entries for the kinds and a dashed line at 2π/0.74 Å; width follows the container.
    """
    hv = _hv()
    if y not in spectra:
        raise GridError(f"the spectra have no variable '{y}'; choose power, power_density or mean_power")
    groups = _curve_groups(spectra, color_by, average_by)
    cvalues = np.array([float(np.nanmean(np.asarray(g["data"][color_by].values, dtype=float)))
                        for g in groups])
    finite = cvalues[np.isfinite(cvalues)]
    clim = (float(finite.min()), float(finite.max())) if finite.size else (0.0, 1.0)
    if clim[0] == clim[1]:
        clim = (clim[0] - 1.0, clim[1] + 1.0)
    k_label, y_label, c_label = LABELS["k"], LABELS.get(y, y), LABELS.get(color_by, color_by)
    paths, styles = {}, {"liquid": "solid", "crystal": "dashed", "frame": "solid"}
    for group, cvalue in zip(groups, cvalues, strict=True):
        data = group["data"]
        mean = data[y].mean("frame") if "frame" in data[y].dims else data[y]
        top = k_max if k_max is not None else _cap(data, "k_isotropic", float(spectra["k"].max()))
        top = min(top, _cap(data, "k_max", top))
        keep = (data["k"].values > 0) & (data["k"].values <= top)
        p = mean.values[keep]
        if log:
            p = np.where(p > 0, p, np.nan)
        name = group["phase"] or group["kind"]
        if group["kind"] == "liquid" and average_by in data.coords:
            name = f"liquid, {LABELS.get(average_by, average_by)} {float(data[average_by].values[0]):.3g}"
        paths.setdefault(group["kind"], []).append(
            {k_label: data["k"].values[keep], y_label: p, c_label: cvalue, "curve": name,
             "frames": len(group["members"])})
    kind_labels = {"liquid": "liquid", "crystal": "crystal", "frame": "frames"}
    items = []
    for i, (kind, curves) in enumerate(paths.items()):
        path = hv.Path(curves, kdims=[k_label, y_label], vdims=[c_label, "curve", "frames"])
        items.append(path.opts(
            color=c_label, cmap=cmap, clim=clim, colorbar=(i == 0), line_width=2.5 if kind == "crystal" else 2,
            line_dash=styles[kind], logy=log, tools=["hover"], colorbar_opts={"title": c_label}))
        # a blank curve gives each kind (line style) a legend entry; the colour bar is the pressure key
        count = sum(c["frames"] for c in curves)
        items.append(hv.Curve(([np.nan], [np.nan]), k_label, y_label,
                              label=f"{kind_labels[kind]} ({count} frames)").opts(
            color="#555555", line_dash=styles[kind], line_width=2))
    overlay = hv.Overlay(items + [_bond_marker(hv)])
    return overlay.opts(
        hv.opts.Curve(logy=log),
        hv.opts.Overlay(title=f"residual spectra, colour: {c_label}", legend_position="top_right",
                        xlabel=k_label, ylabel=y_label, **RESPONSIVE),
    )


def frame_spectrum_plot(spectrum: xr.Dataset, *, y: str = "power_density", log: bool = True,
                        title: str = "Residual spectrum"):
    """The radial power spectrum of one frame (from :func:`elfviz.analysis.radial_power_spectrum`).

    Parameters
    ----------
    spectrum : xarray.Dataset
        dim ``k`` (Å^-1) with ``y`` and ``n_modes``; shells without modes are left out.
    y : str
        ``power_density`` (field^2 Å, default), ``power`` or ``mean_power``.
    log : bool
        Logarithmic power axis.

    Returns
    -------
    holoviews.Overlay
        The curve (with points) and the dashed bond line; width follows the container.
    """
    hv = _hv()
    if y not in spectrum:
        raise GridError(f"the spectrum has no variable '{y}'; choose power, power_density or mean_power")
    keep = (spectrum["n_modes"].values > 0) & (spectrum["k"].values > 0)
    p = spectrum[y].values[keep]
    if log:
        p = np.where(p > 0, p, np.nan)
    k_label, y_label = LABELS["k"], LABELS.get(y, y)
    curve = hv.Curve((spectrum["k"].values[keep], p), k_label, y_label)
    points = hv.Scatter(curve.data, k_label, y_label)
    return (curve * points * _bond_marker(hv, label=False)).opts(
        hv.opts.Curve(logy=log, line_width=2, tools=["hover"]),
        hv.opts.Scatter(logy=log, size=5),
        hv.opts.Overlay(title=title, show_legend=False, **RESPONSIVE),
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
    names = np.round(xs, 3)
    unique = np.unique(names[np.isfinite(names)])
    means = np.array([np.nanmean(ys[names == u]) for u in unique])
    stds = np.array([np.nanstd(ys[names == u]) for u in unique])
    xlabel, ylabel = LABELS.get(x, x), LABELS.get(y, y)
    k_cut = spectra.attrs.get("k_cut")
    title = f"{ylabel} (k < {k_cut:.2f} Å⁻¹)" if (y == "lowk_fraction" and k_cut) else ylabel
    scatter = hv.Scatter((xs, ys), xlabel, ylabel, label="frames").opts(size=6, alpha=0.5, tools=["hover"])
    mean = hv.Curve((unique, means), xlabel, ylabel, label="mean").opts(color="black", line_width=2)
    bars = hv.ErrorBars((unique, means, stds), xlabel, [ylabel, "std"]).opts(color="black")
    return (scatter * mean * bars).opts(
        hv.opts.Overlay(title=title, legend_position="bottom_right", **RESPONSIVE)
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
    if "frame" not in curves.dims:  # one frame: one curve, no legend
        curve = hv.Curve((curves["k_cut"].values, curves[y].values), LABELS["k_cut"], LABELS.get(y, y))
        return (curve * _bond_marker(hv, label=False)).opts(
            hv.opts.Curve(line_width=2, tools=["hover"]),
            hv.opts.Overlay(title="Low-pass Fourier correction: R² after restoring |G| < k_c",
                            show_legend=False, **RESPONSIVE),
        )
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
            legend_position="right",
            **RESPONSIVE,
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
    cell = ds[keys.CELL].values
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
        "responsive": True,
        "height": SLICE_HEIGHT,
        "min_width": MIN_WIDTH,
        "hooks": [equal_aspect_hook],
        "tools": ["hover"],
        "title": f"{field}, plane {axis} = {index}/{ds.sizes[axis]}",
    }
    if field == "residual":
        bound = float(np.abs(values).max()) or 1.0
        opts["clim"] = (-bound, bound)
    return mesh.opts(**opts)
