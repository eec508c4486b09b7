"""phi(t) and phi*(t) through a trajectory, the current frame marked: for notebooks and the dashboard.

One Bokeh figure: the networking value phi (where the ELF network stops percolating) and the molecularity
index phi* (where the atoms of the most bonded pair separate) against MD time, the current frame as a
vertical line (a ``Span`` named :data:`FRAME_MARKER_NAME`) and, optionally, the isovalue of the 3-D view as a
horizontal dashed line (:data:`ISOVALUE_LINE_NAME`): where phi(t) lies above it the network at that isovalue
percolates. :func:`update_phi_time_figure` changes the curves and moves both lines in place (a live page
redraws only what changed).

Examples
--------
>>> fig = phi_time_figure([0.0, 2.5, 5.0], [0.31, 0.35, 0.33], [0.93, 0.90, 0.95], current=2.5, isovalue=0.5)
>>> frame_marker(fig).location, isovalue_line(fig).location
(2.5, 0.5)
>>> update_phi_time_figure(fig, current=5.0, isovalue=0.6)
>>> frame_marker(fig).location, isovalue_line(fig).location
(5.0, 0.6)
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

PHI_COLOUR = "#d62728"
PHI_STAR_COLOUR = "#1f77b4"
MARKER_COLOUR = "#e6550d"
FRAME_MARKER_NAME = "elfviz-frame-marker"
"""``name`` of the ``Span`` marking the current frame (its ``location`` is the frame's time)."""
ISOVALUE_LINE_NAME = "elfviz-trajectory-isovalue"
"""``name`` of the ``Span`` marking the isovalue of the 3-D view (ELF units)."""
SOURCE_NAME = "elfviz-phi-time"
"""``name`` of the ``ColumnDataSource`` with columns ``time``, ``phi``, ``phi_star``, ``frame``."""


def phi_time_figure(time: Sequence[float] = (), phi: Sequence[float] = (), phi_star: Sequence[float] = (), *,
                    frames: Sequence[int] | None = None, current: float | None = None,
                    isovalue: float | None = None, time_label: str = "time (fs)", title: str = "φ(t) and φ*(t)",
                    width: int = 460, height: int = 260, sizing_mode: str | None = None):
    """A Bokeh figure of phi and phi* against time, with the current frame and the isovalue marked.

    Parameters
    ----------
    time : sequence of float
        The frames' MD times (fs), or their indices where the trajectory has no times (say so in
        ``time_label``).
    phi, phi_star : sequence of float
        Networking value and molecularity index of each frame, ELF units (NaN: not known yet).
    frames : sequence of int, optional
        The frames' indices in the trajectory (shown in the hover tool; default 0, 1, ...).
    current : float, optional
        Time of the frame shown (vertical line); hidden when None.
    isovalue : float, optional
        ELF isovalue of the 3-D view (horizontal dashed line); hidden when None.
    time_label, title : str
        Axis label and title.
    width, height : int
        Size in screen pixels; ``sizing_mode`` (e.g. ``"stretch_width"``) makes it responsive.

    Returns
    -------
    bokeh.plotting.figure
    """
    from bokeh.models import ColumnDataSource, HoverTool, Range1d, Span
    from bokeh.plotting import figure

    fig = figure(width=width, height=height, title=title, x_axis_label=time_label, y_axis_label="ELF",
                 x_range=Range1d(*_time_span(time)), y_range=Range1d(0.0, 1.02),
                 tools="pan,wheel_zoom,box_zoom,reset,save", toolbar_location="above", sizing_mode=sizing_mode)
    source = ColumnDataSource(_columns(time, phi, phi_star, frames), name=SOURCE_NAME)
    phi_line = fig.line("time", "phi", source=source, color=PHI_COLOUR, line_width=2, legend_label="φ (networking)")
    fig.scatter("time", "phi", source=source, color=PHI_COLOUR, size=4)
    star_line = fig.line("time", "phi_star", source=source, color=PHI_STAR_COLOUR, line_width=2,
                         legend_label="φ* (molecularity)")
    fig.scatter("time", "phi_star", source=source, color=PHI_STAR_COLOUR, size=4, marker="diamond")
    fig.add_tools(HoverTool(renderers=[phi_line, star_line], mode="vline",
                            tooltips=[("frame", "@frame"), ("t", "@time{0.0}"), ("φ", "@phi{0.000}"),
                                      ("φ*", "@phi_star{0.000}")]))
    fig.add_layout(Span(location=0.0 if current is None else float(current), dimension="height",
                        line_color=MARKER_COLOUR, line_width=2, visible=current is not None, name=FRAME_MARKER_NAME))
    fig.add_layout(Span(location=0.0 if isovalue is None else float(isovalue), dimension="width",
                        line_color="#555555", line_dash="dashed", line_width=1.5, visible=isovalue is not None,
                        name=ISOVALUE_LINE_NAME))
    fig.legend.location = "bottom_right"
    fig.legend.orientation = "horizontal"
    fig.legend.background_fill_alpha = 0.7
    fig.legend.click_policy = "hide"
    return fig


def update_phi_time_figure(fig, time: Sequence[float] | None = None, phi: Sequence[float] | None = None,
                           phi_star: Sequence[float] | None = None, *, frames: Sequence[int] | None = None,
                           current: float | None = None, isovalue: float | None = None,
                           time_label: str | None = None) -> None:
    """Change a :func:`phi_time_figure` in place: new curves (when ``time`` is given), the current frame and the
    isovalue (when given)."""
    if time is not None:
        source = fig.select_one({"name": SOURCE_NAME})
        source.data = _columns(time, phi, phi_star, frames)
        start, end = _time_span(time)  # the whole run from the start: the curves grow into it
        fig.x_range.update(start=start, end=end)
    if current is not None:
        marker = frame_marker(fig)
        marker.update(location=float(current), visible=True)
    if isovalue is not None:
        isovalue_line(fig).update(location=float(isovalue), visible=True)
    if time_label is not None and fig.xaxis[0].axis_label != time_label:
        fig.xaxis[0].axis_label = time_label


def frame_marker(fig):
    """The current-frame ``Span`` of a :func:`phi_time_figure`."""
    return fig.select_one({"name": FRAME_MARKER_NAME})


def isovalue_line(fig):
    """The isovalue ``Span`` of a :func:`phi_time_figure`."""
    return fig.select_one({"name": ISOVALUE_LINE_NAME})


def _time_span(time) -> tuple[float, float]:
    """The x range: first to last time, with 2 % to spare (0-1 without times)."""
    time = np.asarray(time, dtype=float).reshape(-1)
    time = time[np.isfinite(time)]
    if len(time) == 0:
        return 0.0, 1.0
    low, high = float(time.min()), float(time.max())
    pad = 0.02 * (high - low) if high > low else 0.5
    return low - pad, high + pad


def _columns(time, phi, phi_star, frames) -> dict[str, list]:
    time = np.asarray(time, dtype=float).reshape(-1)
    n = len(time)
    phi = np.full(n, np.nan) if phi is None else np.asarray(phi, dtype=float).reshape(-1)
    phi_star = np.full(n, np.nan) if phi_star is None else np.asarray(phi_star, dtype=float).reshape(-1)
    frames = np.arange(n) if frames is None else np.asarray(frames, dtype=np.int64).reshape(-1)
    if not (len(phi) == len(phi_star) == len(frames) == n):
        raise ValueError(f"time, phi, phi_star and frames must have one value per frame, got {n}, {len(phi)}, "
                         f"{len(phi_star)}, {len(frames)}")
    return {"time": time.tolist(), "phi": phi.tolist(), "phi_star": phi_star.tolist(), "frame": frames.tolist()}
