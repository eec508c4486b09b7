"""Live percolation analysis at the current isovalue: dimension, components, phi, phi*, Tc estimate."""

from __future__ import annotations

import logging

import holoviews as hv
import numpy as np
import panel as pn
import param

from .state import DashboardState

log = logging.getLogger(__name__)

DIMENSION_NAMES = {0: "none (isolated pieces)", 1: "1-D (chains)", 2: "2-D (sheets)", 3: "3-D (network)"}


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
                   isovalue_stream=None):
    """Percolation dimension versus isovalue (steps) with the current isovalue and t1, t2, t3 marked.

    Parameters
    ----------
    profile : xarray.Dataset
        From :func:`elfviz.topology.percolation_profile` (``dimension`` on dim ``threshold``).
    isovalue : float
        Current isovalue (vertical line).
    network : NetworkAnalysis, optional
        Its thresholds t1, t2, t3 are marked as points.
    isovalue_stream : holoviews.streams.Stream, optional
        A stream with parameter ``isovalue``: the line is then drawn by a DynamicMap that follows it, so a
        new isovalue moves the line in the live plot instead of rebuilding the figure. ``isovalue`` is
        sent to the stream.

    Returns
    -------
    holoviews.Overlay or holoviews.DynamicMap
        A DynamicMap when ``isovalue_stream`` is given.
    """
    import holoviews.plotting.bokeh  # noqa: F401

    curve = hv.Curve((profile["threshold"].values, profile["dimension"].values), "isovalue (ELF)",
                     "percolation dimension").opts(interpolation="steps-mid", color="#444444", line_width=2)

    def marker(isovalue: float) -> hv.VLine:
        return hv.VLine(float(isovalue)).opts(color="#e6550d", line_width=2, line_dash="dashed")

    if isovalue_stream is None:
        overlay = curve * marker(isovalue)
    else:
        isovalue_stream.event(isovalue=float(isovalue))
        overlay = curve * hv.DynamicMap(marker, streams=[isovalue_stream])
    if network is not None:
        points = hv.Scatter((list(network.thresholds), [1, 2, 3]), "isovalue (ELF)", "percolation dimension")
        overlay = overlay * points.opts(size=8, color="#d62728", tools=["hover"])
    return overlay.opts(width=width, height=height, ylim=(-0.2, 3.3), xlim=(0, 1), yticks=[0, 1, 2, 3],
                        title="Percolation dimension versus isovalue", show_grid=True)


class NetworkPanel(param.Parameterized):
    """Percolation at the isovalue, the networking value phi, the molecularity index phi* and the Tc estimate.

    All numbers come from :mod:`elfviz.topology` (via :class:`DashboardState`).
    """

    state = param.ClassSelector(class_=DashboardState)
    status = param.String(default="", doc="The percolation status line.")

    def __init__(self, state: DashboardState, **params):
        super().__init__(state=state, **params)
        self._status = pn.pane.Markdown("", sizing_mode="stretch_width", css_classes=["elfviz-percolation-status"])
        self._summary = pn.pane.Markdown("", sizing_mode="stretch_width", css_classes=["elfviz-network-summary"])
        self._plot = pn.pane.HoloViews(None, sizing_mode="stretch_width", min_height=270)
        self._isovalue_stream = hv.streams.Stream.define("Isovalue", isovalue=0.5)()
        self._plotted = (None, None)  # the (profile, network) the plot shows: a new isovalue only moves its line
        self.state.param.watch(lambda *events: self.refresh(), ["components", "network", "profile"])
        self.refresh()

    def refresh(self) -> None:
        network, state = self.state.network, self.state
        if network is None:
            self.status = "No ELF field yet."
            self._status.object = self.status
            self._summary.object = ""
            self._plot.object = None
            self._plotted = (None, None)
            return
        n_components = None if state.components is None else int(state.components.n_components)
        self.status = percolation_status(state.isovalue, network.percolation_dimension(state.isovalue),
                                         n_components)
        self._status.object = f"**{self.status}**"
        self._summary.object = self.summary_markdown(network)
        if state.profile is None:
            return
        if self._plotted[0] is state.profile and self._plotted[1] is network:
            self._isovalue_stream.event(isovalue=float(state.isovalue))
        else:
            self._plot.object = dimension_plot(state.profile, state.isovalue, network,
                                               isovalue_stream=self._isovalue_stream)
            self._plotted = (state.profile, network)

    @staticmethod
    def summary_markdown(network) -> str:
        """Table of t1, t2, t3, phi, phi* and the Tc estimate with its caveat."""
        rows = [("t1: 1-D percolation", network.t1), ("t2: 2-D percolation", network.t2),
                ("t3 = φ: networking value", network.phi)]
        text = "| | ELF |\n|---|---|\n" + "\n".join(f"| {name} | {value:.3f} |" for name, value in rows)
        star = "n/a (no atoms)" if network.phi_star is None else f"{network.phi_star:.3f}"
        text += f"\n| φ*: molecularity index | {star} |"
        if np.isfinite(network.phi) and 0.0 <= network.phi <= 1.0:
            est = network.tc_estimate()
            text += (f"\n\n**Tc ≈ {est.tc_k:.0f} ± {est.scatter_k:.0f} K** ({est.formula})  \n"
                     f"<small>{est.caveat}</small>")
        return text

    def __panel__(self):
        return pn.Column(pn.pane.Markdown("### Network"), self._status, self._plot, self._summary,
                         sizing_mode="stretch_width")
