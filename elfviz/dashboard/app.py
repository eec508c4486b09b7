"""Assemble the dashboard: :func:`build_app` returns a Panel template holding every component."""

from __future__ import annotations

import logging
from typing import Any

import panel as pn

from .export_panel import ExportPanel
from .model_panel import ModelPanel
from .network_panel import NetworkPanel
from .residual_panel import ResidualPanel
from .slice_panel import SlicePanel
from .state import DashboardState
from .structure_panel import StructurePanel
from .view3d import View3D

log = logging.getLogger(__name__)

TITLE = "elfviz · electron localization in dense hydrogen"


class Dashboard:
    """All components of one session, sharing one :class:`DashboardState`.

    Parameters
    ----------
    collection : FrameCollection, None or "bundled"
        Source of example frames and test frames (default the bundled dataset).
    initial : str, optional
        Key of the example to load first (default the first in the catalogue).
    """

    def __init__(self, *, collection: Any = "bundled", initial: str | None = None):
        self.state = DashboardState()
        self.structure = StructurePanel(self.state, collection=collection)
        self.model = ModelPanel(self.state)
        self.view = View3D(self.state)
        self.network = NetworkPanel(self.state)
        self.slices = SlicePanel(self.state)
        self.residuals = ResidualPanel(self.state, collection=collection)
        self.export = ExportPanel(self.state, self.view)
        keys = list(self.structure.examples)
        first = initial or (keys[0] if keys else None)
        if first is not None:
            self.structure.load_example(first)

    def template(self) -> pn.template.FastListTemplate:
        """The page: controls in the sidebar, 3D view and network in the main area, analysis in tabs."""
        tabs = pn.Tabs(("Slices", self.slices), ("Residuals & spectra", self.residuals), dynamic=False,
                       sizing_mode="stretch_width")
        main = [
            pn.Row(pn.Column(self.view, sizing_mode="stretch_width"),
                   pn.Column(self.network, width=460), sizing_mode="stretch_width"),
            tabs,
        ]
        return pn.template.FastListTemplate(
            title=TITLE, sidebar=[self.structure, self.model, self.export], main=main, sidebar_width=360,
            accent_base_color="#e6550d", header_background="#3d3d3d")


def build_app(*, collection: Any = "bundled", initial: str | None = None) -> pn.template.FastListTemplate:
    """Build the dashboard page (call once per session; ``.servable()`` it or pass it to ``pn.serve``).

    Examples
    --------
    ``panel serve app/app.py``, ``elfviz serve``, or in a notebook::

        from elfviz.dashboard import build_app
        build_app()          # displays inline after pn.extension("vtk")
    """
    pn.extension("vtk", notifications=True)
    dashboard = Dashboard(collection=collection, initial=initial)
    page = dashboard.template()
    page.dashboard = dashboard  # keep a handle for tests and notebooks
    return page
