"""Assemble the dashboard: :func:`build_app` returns a Panel template holding every component."""

from __future__ import annotations

import logging
from typing import Any

import panel as pn
import param

from .export_panel import ExportPanel
from .model_panel import ModelPanel
from .network_panel import NetworkPanel
from .residual_panel import ResidualPanel
from .sessions import keep_while_page_loads, release_on_close
from .slice_panel import SlicePanel
from .sources import MAX_UPLOAD_BYTES
from .state import DashboardState
from .structure_panel import StructurePanel
from .ticks import in_server_session
from .trajectory_panel import TrajectoryPanel
from .view3d import View3D

log = logging.getLogger(__name__)

TITLE = "elfviz · electron localization in dense hydrogen"

VIEW_MIN_WIDTH = 360
"""Narrowest 3-D view (px) beside the network panel; below that the two stack."""

NETWORK_WIDTH = 440
"""Preferred width (px) of the network panel beside the 3-D view (flex basis)."""

NETWORK_MIN_WIDTH = 300
"""Narrowest network panel (px), on phone-sized screens where it sits below the view."""


NARROW_SCREEN_WIDTH = 800
"""Viewport width (px) below which the sidebar starts folded away and opens over the page."""

NARROW_SCREEN_CSS = f"""
@media screen and (max-width: {NARROW_SCREEN_WIDTH}px) {{
  #sidebar:not(.hidden) {{
    position: absolute; z-index: 1000; background: var(--background-color, #ffffff);
    min-width: min(var(--sidebar-width), 90vw); max-width: min(var(--sidebar-width), 90vw);
    box-shadow: 4px 0 16px rgba(0, 0, 0, 0.3);
  }}
  #main {{ padding: 0 6px; }}
  #header .title {{
    font-size: 1.05em; min-width: 0; flex: 1 1 auto; overflow: hidden; text-overflow: ellipsis; white-space: nowrap;
  }}
}}
"""
"""On narrow screens the open sidebar lies over the main area instead of squeezing it."""


class NarrowScreenSidebar(pn.custom.JSComponent):
    """Folds the template's sidebar away when the page opens on a narrow screen (an empty element).

    FastListTemplate only knows ``collapsed_sidebar`` on the server, which cannot see the screen; this
    calls the template's own ``closeNav()`` in the browser, so its menu button opens the sidebar again.
    """

    _esm = f"""
    export function render() {{
      if (window.innerWidth < {NARROW_SCREEN_WIDTH} && typeof window.closeNav === "function") {{
        window.closeNav();
      }}
      return document.createElement("span");
    }}
    """

    def __init__(self, **params):
        super().__init__(width=0, height=0, margin=0, **params)


class Dashboard:
    """All components of one session, sharing one :class:`DashboardState`.

    Parameters
    ----------
    collection : FrameCollection, None or "bundled"
        Source of example frames and test frames (default the bundled dataset).
    initial : str, optional
        Key of the example to load first (default the first in the catalogue).
    max_upload_bytes : int
        Largest accepted upload (default :data:`~elfviz.dashboard.sources.MAX_UPLOAD_BYTES`, what a server
        with the default websocket message limit can receive; ``elfviz serve`` raises both).
    """

    def __init__(self, *, collection: Any = "bundled", initial: str | None = None,
                 max_upload_bytes: int = MAX_UPLOAD_BYTES):
        self.state = DashboardState()
        self.structure = StructurePanel(self.state, collection=collection, max_upload_bytes=max_upload_bytes)
        self.model = ModelPanel(self.state)
        self.view = View3D(self.state)
        self.network = NetworkPanel(self.state)
        self.slices = SlicePanel(self.state)
        self.residuals = ResidualPanel(self.state, collection=collection)
        self.export = ExportPanel(self.state, self.view)
        self.trajectory = TrajectoryPanel(self.state, max_upload_bytes=max_upload_bytes)
        keys = list(self.structure.examples)
        first = initial or (keys[0] if keys else None)
        if first is not None:  # in a served page the first example arrives from the server's workers
            self.structure.request_example(first)

    def release(self) -> None:
        """Drop this session's data (structure, fields, analyses, scene): called when its page has closed."""
        with param.discard_events(self.state):
            self.state.param.update(structure=None, reference=None, prediction=None, field_ds=None, network=None,
                                    profile=None, components=None, predict_on_select=None,
                                    prediction_steps=None)
        with param.discard_events(self.view):
            self.view.scene = None
        with param.discard_events(self.residuals):
            self.residuals.param.update(summary=None, spectra=None)
        self.structure.release()
        self.trajectory.release()

    def template(self) -> pn.template.FastListTemplate:
        """The page: controls in the sidebar, 3D view and network in the main area, analysis in tabs.

        The 3-D view (CSS class ``elfviz-main-view``, at least :data:`VIEW_MIN_WIDTH` px, it takes the
        spare width) and the network panel (``elfviz-main-network``, :data:`NETWORK_WIDTH` px) sit side by
        side in a wrapping flex box (``elfviz-main-top``) where both fit, and stack (view above network,
        both full width) where they do not; the tabs (``elfviz-main-tabs``) follow below. The template
        folds the sidebar away on narrow screens. The trajectory player and φ(t) (hidden until a trajectory is
        loaded) sit above them in the same card, so no empty card shows without a trajectory.
        """
        tabs = pn.Tabs(("Slices", self.slices), ("Residuals & spectra", self.residuals), dynamic=True,
                       sizing_mode="stretch_width", css_classes=["elfviz-main-tabs"])
        view = pn.Column(self.view, sizing_mode="stretch_width", min_width=VIEW_MIN_WIDTH,
                         css_classes=["elfviz-main-view"], styles={"flex": f"3 1 {VIEW_MIN_WIDTH + 120}px"})
        network = pn.Column(self.network, sizing_mode="stretch_width", min_width=NETWORK_MIN_WIDTH,
                            css_classes=["elfviz-main-network"], styles={"flex": f"1 1 {NETWORK_WIDTH}px"})
        top = pn.FlexBox(view, network, flex_wrap="wrap", align_items="flex-start", gap="16px",
                         sizing_mode="stretch_width", css_classes=["elfviz-main-top"])
        return pn.template.FastListTemplate(
            title=TITLE, sidebar=[self.structure, self.trajectory, self.model, self.export],
            main=[pn.Column(self.trajectory.playback, top, sizing_mode="stretch_width"), tabs], sidebar_width=360,
            accent_base_color="#e6550d", header_background="#3d3d3d", raw_css=[NARROW_SCREEN_CSS],
            header=[NarrowScreenSidebar()])


DISCONNECTED = ("The connection to the server was lost (the server stopped, or a message was too large, e.g. an "
                "upload over the server's limit). Reload the page.")
"""Shown when the page loses its server connection."""


def use_local_stylesheets() -> None:
    """In a served session, make Panel point every stylesheet at the server's own copy from the start.

    Panel learns a page's resource URL when it renders the page's HTML, and until then gives new
    components its CDN's stylesheet URLs (patched when the HTML is rendered). A session that the server
    creates for a websocket instead (Bokeh discards a page's session when the browser takes longer than
    the unused-session lifetime, 15 s by default, to connect, e.g. 20 pages opening at once on a small
    machine) never has its HTML rendered, so its page asked an offline browser for cdn.holoviz.org and
    drew unstyled. Setting the URL up front gives both kinds of session the server's own stylesheets.
    """
    from panel.io.resources import LOCAL_DIST, use_cdn

    doc = pn.state.curdoc
    if not in_server_session() or use_cdn() or doc is None:
        return
    rel_path = pn.state.rel_path
    doc._template_variables.setdefault("dist_url", f"{rel_path}/{LOCAL_DIST}" if rel_path else LOCAL_DIST)


def build_app(*, collection: Any = "bundled", initial: str | None = None,
              max_upload_bytes: int = MAX_UPLOAD_BYTES, weights: str | None = None) -> pn.template.FastListTemplate:
    """Build the dashboard page (call once per session; ``.servable()`` it or pass it to ``pn.serve``).

    ``weights``: the model every session of this server predicts with (a shipped version such as
    ``elfnet-fft@1.6``, or a weights path; :func:`~elfviz.dashboard.predictions.use_weights`); None keeps the
    server's model (the default model unless one was chosen).

    Examples
    --------
    ``panel serve app/app.py``, ``elfviz serve``, or in a notebook::

        import panel as pn
        pn.extension(inline=True)   # offline-safe: Panel's JS from the package
        from elfviz.dashboard import build_app
        build_app()                 # the whole page; Dashboard().view etc. for single components
    """
    if weights is not None:
        from .predictions import use_weights

        use_weights(weights)
    pn.extension(notifications=True, disconnect_notification=DISCONNECTED)
    use_local_stylesheets()
    keep_while_page_loads()
    dashboard = Dashboard(collection=collection, initial=initial, max_upload_bytes=max_upload_bytes)
    release_on_close(dashboard.release)
    page = dashboard.template()
    # no web fonts: the Fast template and its design both link Open Sans on fonts.googleapis.com, which an
    # offline page cannot reach (console errors); the system sans-serif is used instead
    page.font_url = ""
    # Panel reads the font from the design class; same name so its bundled resource paths (from the name) hold
    page.design = type("Fast", (pn.theme.Fast,), {"_resources": {**pn.theme.Fast._resources, "font": {}}})
    page.dashboard = dashboard  # keep a handle for tests and notebooks
    return page
