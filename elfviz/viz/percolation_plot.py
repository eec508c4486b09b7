"""Percolation dimension versus isovalue: the one plot of a field's network, for notebooks and the dashboard.

A step curve of the dimension (0-3) of the most extended component of ``{ELF >= isovalue}``, the
thresholds t1, t2, t3 = phi marked and labelled, phi* marked on the axis, and the current isovalue as a
dashed line. In the live form (``isovalue_stream``) that line is a Bokeh ``Span`` named :data:`MARKER_NAME`,
so a browser test can find it and the dashboard can move it in place. (Static plots leave it unnamed: two
equally named Spans next to labelled elements in one ``hv.Layout`` break BokehJS 3.9's page script.)

Examples
--------
>>> import numpy as np
>>> from elfviz.topology import networking_analysis, percolation_profile
>>> c = np.cos(2 * np.pi * np.arange(16) / 16)
>>> f = 0.5 + 0.25 * c[:, None, None] + 0.15 * c[None, :, None] + 0.1 * c[None, None, :]
>>> plot = dimension_plot(percolation_profile(f), 0.6, networking_analysis(f))
>>> sorted({type(el).__name__ for el in plot})
['Curve', 'Labels', 'Scatter', 'VLine']
"""

from __future__ import annotations

import holoviews as hv

MARKER_NAME = "elfviz-isovalue-marker"
"""``name`` of the Bokeh ``Span`` marking the current isovalue in the dimension plot."""

THRESHOLD_COLOUR = "#d62728"
PHI_STAR_COLOUR = "#1f77b4"
MARKER_COLOUR = "#e6550d"
AXIS = "isovalue (ELF)"
DIMENSION = "percolation dimension"


def dimension_plot(profile, isovalue: float, network=None, *, width: int = 420, height: int = 260,
                   isovalue_stream=None, field=None, title: str = "Percolation dimension versus isovalue"):
    """Percolation dimension versus isovalue (steps) with t1, t2, t3 = phi, phi* and the isovalue marked.

    Parameters
    ----------
    profile : xarray.Dataset or None
        From :func:`elfviz.topology.percolation_profile` (``dimension`` on dim ``threshold``); None draws
        empty axes.
    isovalue : float
        Current isovalue (vertical dashed line), ELF units.
    network : NetworkAnalysis, optional
        Its thresholds t1, t2, t3 are marked as red points labelled ``t1``, ``t2``, ``t3 = φ``; its phi* as
        a blue diamond on the axis labelled ``φ*``.
    width, height : int
        Size in screen pixels (the dashboard makes it responsive).
    isovalue_stream : holoviews.streams.Stream, optional
        A stream with parameter ``isovalue``: the line is then drawn by a DynamicMap that follows it, so a
        new isovalue moves the line in the live plot instead of rebuilding the figure. ``isovalue`` is
        sent to the stream.
    field : tuple(holoviews.streams.Stream, callable), optional
        A stream with parameter ``revision`` and a function returning the current ``(profile, network)``:
        the curve and points are then a DynamicMap too, redrawn in the same figure when the stream's
        revision changes (``profile`` and ``network`` are then ignored).
    title : str
        Plot title.

    Returns
    -------
    holoviews.Overlay or holoviews.DynamicMap
        A DynamicMap when ``isovalue_stream`` or ``field`` is given.
    """
    import holoviews.plotting.bokeh  # noqa: F401

    if field is None:
        curves = profile_elements(profile, network)
    else:
        stream, current = field
        curves = hv.DynamicMap(lambda revision: profile_elements(*current()), streams=[stream])
    if isovalue_stream is None:
        overlay = curves * isovalue_marker(isovalue, named=False)
    else:
        isovalue_stream.event(isovalue=float(isovalue))
        overlay = curves * hv.DynamicMap(isovalue_marker, streams=[isovalue_stream])
    return overlay.opts(width=width, height=height, ylim=(-0.35, 3.45), xlim=(0, 1), yticks=[0, 1, 2, 3],
                        title=title, show_grid=True, legend_position="bottom_left")


def profile_elements(profile, network) -> hv.Overlay:
    """The dimension curve, the t1, t2, t3 points and phi* (all empty without a field, so layers stay put)."""
    x, y = ([], []) if profile is None else (profile["threshold"].values, profile["dimension"].values)
    curve = hv.Curve((x, y), AXIS, DIMENSION, label="dimension of {ELF ≥ isovalue}").opts(
        interpolation="steps-mid", color="#444444", line_width=2)
    thresholds = [] if network is None else list(network.thresholds)
    names = ["t1", "t2", "t3 = φ"][: len(thresholds)]
    points = hv.Scatter((thresholds, [1, 2, 3][: len(thresholds)]), AXIS, DIMENSION,
                        label="t1, t2, t3: first 1-, 2-, 3-D").opts(size=8, color=THRESHOLD_COLOUR,
                                                                  tools=["hover"])
    star = [] if network is None or network.phi_star is None else [float(network.phi_star)]
    star_point = hv.Scatter((star, [0] * len(star)), AXIS, DIMENSION,
                            label="φ*: molecules split into atoms").opts(
        size=10, marker="diamond", color=PHI_STAR_COLOUR)
    labels = hv.Labels((thresholds, [1, 2, 3][: len(thresholds)], names), [AXIS, DIMENSION], "text").opts(
        text_font_size="9pt", text_align="left", xoffset=0.015, yoffset=0.18, text_color="#333333")
    star_label = hv.Labels((star, [0] * len(star), ["φ*"] * len(star)), [AXIS, DIMENSION], "text").opts(
        text_font_size="9pt", text_align="right", xoffset=-0.015, yoffset=0.18, text_color=PHI_STAR_COLOUR)
    return curve * points * star_point * labels * star_label


def isovalue_marker(isovalue: float, named: bool = True) -> hv.VLine:
    """The current isovalue as a dashed vertical line; ``named``: its Bokeh ``Span`` is named :data:`MARKER_NAME`."""
    return hv.VLine(float(isovalue)).opts(color=MARKER_COLOUR, line_width=2, line_dash="dashed",
                                          hooks=[_name_marker] if named else [])


def _name_marker(plot, element) -> None:
    """HoloViews hook: give the isovalue line's Bokeh ``Span`` the name :data:`MARKER_NAME`."""
    plot.handles["glyph"].name = MARKER_NAME
