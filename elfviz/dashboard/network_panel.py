"""Live percolation analysis at the current isovalue: dimension, components, phi, phi*, Tc estimate.

The dimension-versus-isovalue plot is one live figure per session: a new field updates its data in place
(no new figure) and a new isovalue only moves its marker, a Bokeh ``Span`` named :data:`MARKER_NAME`
(``location`` in ELF units), so a browser test can read it from ``Bokeh.documents[0].all_models``.
"""

from __future__ import annotations

import logging

import holoviews as hv
import numpy as np
import panel as pn
import param

from ..topology import tc_applicability
from .state import DashboardState
from .ticks import dispatching

log = logging.getLogger(__name__)

DIMENSION_NAMES = {0: "none (isolated pieces)", 1: "1-D (chains)", 2: "2-D (sheets)", 3: "3-D (network)"}

MARKER_NAME = "elfviz-isovalue-marker"
"""``name`` of the Bokeh ``Span`` marking the current isovalue in the dimension plot."""


def percolation_status(isovalue: float, dimension: int, n_components: int | None) -> str:
    """The one-line status shown under the 3D view, e.g. ``"ELF ≥ 0.620: percolates in 2-D (sheets) · 3 components"``.

    Examples
    --------
    >>> percolation_status(0.62, 2, 3)
    'ELF ≥ 0.620: percolates in 2-D (sheets) · 3 components'
    >>> percolation_status(0.9, 0, 12)
    'ELF ≥ 0.900: does not percolate · 12 components'
    """
    head = f"ELF ≥ {isovalue:.3f}: " + (f"percolates in {DIMENSION_NAMES[dimension]}" if dimension
                                         else "does not percolate")
    if n_components is not None:
        head += f" · {n_components} component" + ("s" if n_components != 1 else "")
    return head


def dimension_plot(profile, isovalue: float, network=None, *, width: int = 420, height: int = 260,
                   isovalue_stream=None, field=None):
    """Percolation dimension versus isovalue (steps) with the current isovalue and t1, t2, t3 marked.

    Parameters
    ----------
    profile : xarray.Dataset or None
        From :func:`elfviz.topology.percolation_profile` (``dimension`` on dim ``threshold``); None draws
        empty axes.
    isovalue : float
        Current isovalue (vertical line, a Bokeh ``Span`` named :data:`MARKER_NAME`).
    network : NetworkAnalysis, optional
        Its thresholds t1, t2, t3 are marked as points.
    isovalue_stream : holoviews.streams.Stream, optional
        A stream with parameter ``isovalue``: the line is then drawn by a DynamicMap that follows it, so a
        new isovalue moves the line in the live plot instead of rebuilding the figure. ``isovalue`` is
        sent to the stream.
    field : tuple(holoviews.streams.Stream, callable), optional
        A stream with parameter ``revision`` and a function returning the current ``(profile, network)``:
        the curve and points are then a DynamicMap too, redrawn in the same figure when the stream's
        revision changes (``profile`` and ``network`` are then ignored).

    Returns
    -------
    holoviews.Overlay or holoviews.DynamicMap
        A DynamicMap when ``isovalue_stream`` or ``field`` is given.
    """
    import holoviews.plotting.bokeh  # noqa: F401

    if field is None:
        curves = _profile_elements(profile, network)
    else:
        stream, current = field
        curves = hv.DynamicMap(lambda revision: _profile_elements(*current()), streams=[stream])
    if isovalue_stream is None:
        overlay = curves * _marker(isovalue)
    else:
        isovalue_stream.event(isovalue=float(isovalue))
        overlay = curves * hv.DynamicMap(_marker, streams=[isovalue_stream])
    return overlay.opts(width=width, height=height, ylim=(-0.2, 3.3), xlim=(0, 1), yticks=[0, 1, 2, 3],
                        title="Percolation dimension versus isovalue", show_grid=True)


def _profile_elements(profile, network) -> hv.Overlay:
    """The dimension curve and the t1, t2, t3 points (both empty without a field, so the layers stay put)."""
    x, y = ([], []) if profile is None else (profile["threshold"].values, profile["dimension"].values)
    curve = hv.Curve((x, y), "isovalue (ELF)", "percolation dimension").opts(
        interpolation="steps-mid", color="#444444", line_width=2)
    thresholds = [] if network is None else list(network.thresholds)
    points = hv.Scatter((thresholds, [1, 2, 3][: len(thresholds)]), "isovalue (ELF)", "percolation dimension")
    return curve * points.opts(size=8, color="#d62728", tools=["hover"])


def _marker(isovalue: float) -> hv.VLine:
    return hv.VLine(float(isovalue)).opts(color="#e6550d", line_width=2, line_dash="dashed", hooks=[_name_marker])


def _name_marker(plot, element) -> None:
    """HoloViews hook: give the isovalue line's Bokeh ``Span`` the name :data:`MARKER_NAME`."""
    plot.handles["glyph"].name = MARKER_NAME


def field_kind(ds, state: DashboardState | None = None) -> str:
    """What the analysed field is, for headings and file names: ``"model prediction (elfnet-fft@1.0)"``,
    ``"DFT reference (qe ...)"``, ``"uploaded ELF (file:x.cube)"``, or ``"ELF"``.

    Examples
    --------
    >>> import xarray as xr
    >>> field_kind(xr.Dataset(attrs={"source": "model:elfnet-fft@1.0"}))
    'model prediction (elfnet-fft@1.0)'
    >>> field_kind(xr.Dataset(attrs={"source": "dft:pyscf PBE gth-dzvp"}))
    'DFT reference (pyscf PBE gth-dzvp)'
    """
    source = str(ds.attrs.get("source", "")) if ds is not None else ""
    kind, _, detail = source.partition(":")
    if state is not None and ds is not None and ds is state.prediction or kind == "model":
        name = "model prediction"
    elif kind == "dft":
        name = "DFT reference"
    elif kind == "file":
        name = "uploaded ELF"
    elif state is not None and ds is not None and ds is state.reference:
        name = "reference ELF"
    else:
        name = "ELF"
    detail = detail if kind in ("model", "dft", "file") else source
    if "correction" in getattr(ds, "attrs", {}):
        detail += " + Fourier correction"
    return f"{name} ({detail.strip()})" if detail.strip() else name


def crystal_phases() -> set[str]:
    """Names of the crystal phases elfviz builds (for :func:`elfviz.topology.tc_applicability`)."""
    from .. import structures

    return set(structures.PHASES)


class NetworkPanel(pn.viewable.Viewer):
    """Percolation at the isovalue, the networking value phi, the molecularity index phi* and the Tc estimate.

    All numbers come from :mod:`elfviz.topology` (via :class:`DashboardState`).
    """

    state = param.ClassSelector(class_=DashboardState)
    status = param.String(default="", doc="The percolation status line.")

    def __init__(self, state: DashboardState, **params):
        super().__init__(state=state, **params)
        self._heading = pn.pane.Markdown("### Network", sizing_mode="stretch_width",
                                         css_classes=["elfviz-network-heading"])
        self._status = pn.pane.Markdown("", sizing_mode="stretch_width", css_classes=["elfviz-percolation-status"])
        self._summary = pn.pane.Markdown("", sizing_mode="stretch_width", css_classes=["elfviz-network-summary"])
        self._isovalue_stream = hv.streams.Stream.define("Isovalue", isovalue=0.5)()
        self._field_stream = hv.streams.Stream.define("Field", revision=0)()
        self._plotted = (None, None)  # the (profile, network) the plot shows: a new isovalue only moves its line
        # one figure for the session: a new field redraws its curve in place, a new isovalue moves its Span
        self._plot = pn.pane.HoloViews(
            dimension_plot(None, self.state.isovalue, isovalue_stream=self._isovalue_stream,
                           field=(self._field_stream, lambda: self._plotted)),
            sizing_mode="stretch_width", min_height=270)
        # hidden without a field; the box is what is hidden (Panel 1.9 fails to sync `visible` of a HoloViews
        # pane to its Bokeh pane: TypeError on the stylesheets)
        self._plot_box = pn.Column(self._plot, sizing_mode="stretch_width", visible=False)
        self.state.param.watch(lambda *events: self.refresh(), ["components", "network", "profile", "field_ds"])
        self.refresh()

    def refresh(self) -> None:
        network, state = self.state.network, self.state
        self._heading.object = "### Network" + ("" if state.field_ds is None else
                                                 f" — {field_kind(state.field_ds, state)}")
        if network is None:
            self.status = "No ELF field yet."
            self._status.object = self.status
            self._summary.object = ""
            self._plot_box.visible = False
            return
        n_components = None if state.components is None else int(state.components.n_components)
        self.status = percolation_status(state.isovalue, network.percolation_dimension(state.isovalue),
                                         n_components)
        self._status.object = f"**{self.status}**"
        self._summary.object = self.summary_markdown(network, state.structure)
        if state.profile is None:
            return
        isovalue = float(state.isovalue)
        if self._plotted[0] is not state.profile or self._plotted[1] is not network:
            self._plotted = (state.profile, network)
            revision = self._field_stream.revision + 1
            dispatching(lambda: self._field_stream.event(revision=revision))
        if self._isovalue_stream.isovalue != isovalue:
            dispatching(lambda: self._isovalue_stream.event(isovalue=isovalue))
        self._plot_box.visible = True

    @staticmethod
    def summary_markdown(network, structure=None) -> str:
        """Table of t1, t2, t3, phi, phi* and the Tc estimate with its caveat.

        The Tc estimate is shown only for a structure with crystal-phase provenance
        (:func:`tc_applicability`); otherwise the reason it does not apply is shown instead.
        """
        rows = [("t1: 1-D percolation", network.t1), ("t2: 2-D percolation", network.t2),
                ("t3 = φ: networking value", network.phi)]
        text = "| | ELF |\n|---|---|\n" + "\n".join(f"| {name} | {value:.3f} |" for name, value in rows)
        star = "n/a (no atoms)" if network.phi_star is None else f"{network.phi_star:.3f}"
        text += f"\n| φ*: molecularity index | {star} |"
        applies, reason = tc_applicability({} if structure is None else structure.attrs,
                                            known_phases=crystal_phases())
        if not applies:
            text += f"\n\n**Tc estimate (Belli et al. 2021):** {reason}."
        elif np.isfinite(network.phi) and 0.0 <= network.phi <= 1.0:
            est = network.tc_estimate()
            text += (f"\n\n**Tc ≈ {est.tc_k:.0f} ± {est.scatter_k:.0f} K** if this crystal is a metal "
                     f"({est.formula})  \n<small>{est.caveat}</small>")
        return text

    def __panel__(self):
        return pn.Column(self._heading, self._status, self._plot_box, self._summary,
                         sizing_mode="stretch_width")
