"""Live percolation analysis at the current isovalue: dimension, components, phi, phi*, Tc estimate.

The dimension-versus-isovalue plot is one live figure per session: a new field updates its data in place
(no new figure) and a new isovalue only moves its marker, a Bokeh ``Span`` named
:data:`elfviz.viz.percolation_plot.MARKER_NAME` (``location`` in ELF units), so a browser test can read it
from ``Bokeh.documents[0].all_models``.
"""

from __future__ import annotations

import logging

import holoviews as hv
import panel as pn
import param

from ..viz.percolation_plot import dimension_plot
from .state import DashboardState
from .ticks import dispatching

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

        The Tc estimate follows :func:`elfviz.topology.tc_verdict`: shown with its caveat for crystals,
        flagged without crystal provenance, withheld (with the reason) for fluids and molecular structures.
        """
        rows = [("t1: 1-D percolation", network.t1), ("t2: 2-D percolation", network.t2),
                ("t3 = φ: networking value", network.phi)]
        text = "| | ELF |\n|---|---|\n" + "\n".join(f"| {name} | {value:.3f} |" for name, value in rows)
        star = "n/a (no atoms)" if network.phi_star is None else f"{network.phi_star:.3f}"
        text += f"\n| φ*: molecularity index | {star} |"
        verdict = network.tc_verdict(structure)
        if verdict.estimate is None:
            text += f"\n\n**Tc estimate (Belli et al. 2021) withheld:** {verdict.reason}."
        else:
            est = verdict.estimate
            text += f"\n\n**Tc ≈ {est.tc_k:.0f} ± {est.scatter_k:.0f} K** if this crystal is a metal ({est.formula})"
            if verdict.status == "flagged":
                text += f"  \n⚠ {verdict.reason}."
            text += f"  \n<small>{est.caveat}</small>"
        return text

    def __panel__(self):
        return pn.Column(self._heading, self._status, self._plot_box, self._summary,
                         sizing_mode="stretch_width")
