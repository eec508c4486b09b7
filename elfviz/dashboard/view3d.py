"""The 3D view: periodic ELF isosurface coloured by component (spanning ones highlighted), atoms, cell.

The meshes come from :func:`elfviz.viz.scene.scene_meshes`; they travel to the browser as one binary
payload (:mod:`elfviz.viz.payload`) drawn by :class:`~elfviz.dashboard.scene_view.SceneView`, which keeps
one WebGL scene for the life of the page and swaps the meshes in place.

Updates are ordered for a live page: a new isovalue first updates the state (components, and with them
the Network panel's status line), and the meshes are built in one of the server's worker threads
(:class:`~elfviz.dashboard.ticks.Background`), off the event loop that all sessions share; the finished
scene is sent from the loop. Requests that arrive while a build runs coalesce: one more build follows,
of the state current then.
"""

from __future__ import annotations

import logging
import time

import panel as pn
import param

from ..viz.payload import payload_counts, scene_payload
from ..viz.scene import Scene, build_plotter, render_png, scene_meshes
from .scene_view import SceneView
from .state import DashboardState
from .ticks import Background, LatestOnly

log = logging.getLogger(__name__)

TOGGLES = {"atoms": "show_atoms", "cell": "show_cell", "periodic images 2×2×2": "show_images"}
"""Labels of the display toggles and the View3D parameters they set."""


def apply_camera(plotter, camera: dict | None) -> None:
    """Copy a browser camera (``position``, ``focalPoint``, ``viewUp`` in Å, ``viewAngle`` in degrees)
    onto a pyvista plotter, so a server render shows what the browser shows."""
    camera = dict(camera or {})
    if camera.get("position") is None:
        return
    plotter.camera.position = camera["position"]
    if camera.get("focalPoint") is not None:
        plotter.camera.focal_point = camera["focalPoint"]
    if camera.get("viewUp") is not None:
        plotter.camera.up = camera["viewUp"]
    if camera.get("viewAngle") is not None:
        plotter.camera.view_angle = float(camera["viewAngle"])
    plotter.reset_camera_clipping_range()


class View3D(pn.viewable.Viewer):
    """Three.js view of the scene built by :func:`elfviz.viz.scene.scene_meshes`, with its controls.

    The isovalue slider sets ``state.isovalue`` when released or stepped with the keyboard. The camera
    the user chose is kept across updates of the same structure and reset for a new structure or a
    new set of periodic images.
    """

    state = param.ClassSelector(class_=DashboardState)
    show_atoms = param.Boolean(default=True, doc="Draw the atoms.")
    show_cell = param.Boolean(default=True, doc="Draw the cell box.")
    show_images = param.Boolean(default=False, doc="Draw 2x2x2 periodic images.")
    scene = param.Parameter(default=None, doc="The last Scene drawn (None without a field).")
    revision = param.Integer(default=0, doc="Number of scenes sent to the browser.")
    build_seconds = param.Number(default=0.0, doc="Time of the last scene build (meshes + payload).")

    def __init__(self, state: DashboardState, *, height: int = 520, **params):
        super().__init__(state=state, **params)
        self._structure_seen = None
        self._structure_count = 0
        self._rebuild = Background(self._scene_inputs, self._build, self._show, lane="work",
                                   on_error=self._build_failed)
        self._requested_isovalue = state.isovalue
        self._apply_isovalue = LatestOnly(lambda: setattr(self.state, "isovalue", self._requested_isovalue))
        self._view = SceneView(sizing_mode="stretch_width", height=height, min_width=280,
                               css_classes=["elfviz-view3d"])
        self._slider = pn.widgets.FloatSlider(name="Isovalue (ELF)", start=0.0, end=1.0, step=0.01,
                                              value=state.isovalue, sizing_mode="stretch_width", min_width=200,
                                              css_classes=["elfviz-isovalue"])
        self._slider.param.watch(self._on_slider, "value_throttled")
        self._toggles = pn.widgets.CheckButtonGroup(
            options=list(TOGGLES), value=[label for label, name in TOGGLES.items() if getattr(self, name)],
            button_type="primary", button_style="outline", css_classes=["elfviz-view3d-toggles"])
        self._toggles.param.watch(self._on_toggles, "value")
        self._caption = pn.pane.Markdown("", sizing_mode="stretch_width", css_classes=["elfviz-view3d-caption"])
        self.state.param.watch(self._on_isovalue, "isovalue")
        self.state.param.watch(lambda *events: self.schedule(), ["components", "field_ds"])
        self.param.watch(self._on_display_params, list(TOGGLES.values()))
        self.refresh()

    # -- widgets
    @property
    def view(self) -> SceneView:
        """The browser component drawing the scene."""
        return self._view

    @property
    def slider(self) -> pn.widgets.FloatSlider:
        return self._slider

    @property
    def toggles(self) -> pn.widgets.CheckButtonGroup:
        return self._toggles

    def _on_slider(self, event) -> None:
        if event.new is not None:  # rapid steps coalesce: the state takes the latest value
            self._requested_isovalue = float(event.new)
            self._apply_isovalue.request()

    def _on_isovalue(self, event) -> None:
        # move the handle only for an isovalue set elsewhere: writing back a value the slider sent would pull
        # the handle back from where the user has moved it meanwhile (quick key steps)
        from_slider = abs(event.new - self._requested_isovalue) < 1e-12 or self._apply_isovalue.pending
        if not from_slider and abs(self._slider.value - event.new) > 1e-12:
            self._slider.value = event.new

    def _on_toggles(self, event) -> None:
        self.param.update({name: label in event.new for label, name in TOGGLES.items()})

    def _on_display_params(self, *events) -> None:
        chosen = [label for label, name in TOGGLES.items() if getattr(self, name)]
        if chosen != list(self._toggles.value):
            self._toggles.value = chosen
        self.schedule()

    # -- scene
    def images(self) -> tuple[int, int, int]:
        return (2, 2, 2) if self.show_images else (1, 1, 1)

    def _scene_inputs(self) -> dict:
        """What a scene is built from (a snapshot of the state, taken on the event loop)."""
        components = self.state.components
        if components is None or getattr(components, "threshold", self.state.isovalue) != self.state.isovalue:
            components = "auto"
        return {"ds": self.state.field_ds, "structure": self.state.structure, "isovalue": self.state.isovalue,
                "components": components, "images": self.images(), "show_atoms": self.show_atoms,
                "show_cell": self.show_cell, "start": time.perf_counter()}

    @staticmethod
    def _build(inputs: dict) -> dict:
        """The meshes of a snapshot (any thread: pure function of the snapshot)."""
        ds = inputs["ds"]
        scene = None if ds is None else scene_meshes(
            ds, inputs["isovalue"], images=inputs["images"], components=inputs["components"],
            show_atoms=inputs["show_atoms"], show_cell=inputs["show_cell"])
        return {**inputs, "scene": scene}

    def _show(self, built: dict) -> None:
        """Send a built scene to the browser (on the event loop)."""
        scene = built["scene"]
        self.revision += 1
        key = self.view_key(built["structure"], built["images"])
        self._view.payload = scene_payload(scene, revision=self.revision, view_key=key)
        self._caption.object = ("No ELF to show yet: pick a structure and run the model." if scene is None
                                else self.caption(scene))
        self.scene = scene
        self.build_seconds = time.perf_counter() - built["start"]

    def _build_failed(self, exc: BaseException) -> None:
        log.error("3-D view: building the scene failed: %s", exc, exc_info=exc)
        self._caption.object = f"The 3-D view could not be drawn: {type(exc).__name__}: {exc}"

    def build_scene(self) -> Scene | None:
        """Meshes for the current state (None without a field)."""
        return self._build(self._scene_inputs())["scene"]

    def schedule(self) -> None:
        """Rebuild the meshes in a worker thread, after the current event's cheap updates reach the browser
        (in a server session), or now (in a notebook or a script). Requests while one runs coalesce."""
        self._rebuild.request()

    def view_key(self, structure=None, images=None) -> str:
        """Changes when the camera should reset: a new structure or another set of periodic images (default:
        the current ones)."""
        structure = self.state.structure if structure is None else structure
        if self._structure_seen is not structure:
            self._structure_seen = structure
            self._structure_count += 1
        return f"{self._structure_count}:{self.images() if images is None else images}"

    def refresh(self) -> None:
        """Build the scene of the current state and send it to the browser now (an empty one without a field)."""
        self._show(self._build(self._scene_inputs()))

    def sent(self) -> dict:
        """What the browser was last sent, and whether a newer scene is on its way.

        ``{"revision": int, "isovalue": float | None, "building": bool,
        "meshes": {name: {points, triangles, lines}}}``: ``isovalue`` is the sent scene's (None without one);
        ``building`` is True while a rebuild runs, so the sent scene is about to be superseded.
        """
        return {"revision": self.revision, "isovalue": None if self.scene is None else float(self.scene.isovalue),
                "building": self._rebuild.busy,
                "meshes": payload_counts(self._view.payload)}

    @staticmethod
    def caption(scene: Scene) -> str:
        """One line describing what the surface shows (and why there is none, when there is none)."""
        spanning = "opaque, warm colours: spanning (percolating) components; translucent: finite ones"
        low, high = scene.meta.get("field_range", (float("nan"), float("nan")))
        if scene.spanning.n_cells + scene.finite.n_cells == 0:
            if scene.isovalue <= low:
                return (f"ELF = {scene.isovalue:.3f}: no surface, the ELF is above the isovalue everywhere "
                        f"(lowest {low:.3f}): one component filling the cell")
            if scene.isovalue >= high:
                return (f"ELF = {scene.isovalue:.3f}: no surface, the ELF is below the isovalue everywhere "
                        f"(highest {high:.3f})")
        if scene.n_components is None:
            return f"ELF = {scene.isovalue:.3f}"
        plural = "" if scene.n_components == 1 else "s"
        return f"ELF = {scene.isovalue:.3f} · {scene.n_components} component{plural} · {spanning}"

    def png(self, window_size: tuple[int, int] = (1200, 900)) -> bytes:
        """PNG of the current scene (server-side VTK render) from the camera the browser last reported."""
        scene = self.scene if self.scene is not None else self.build_scene()
        if scene is None:
            return b""
        plotter = build_plotter(self.state.field_ds, scene.isovalue, scene=scene, window_size=window_size)
        try:
            apply_camera(plotter, self._view.camera)
            return render_png(plotter)
        finally:
            plotter.close()

    def __panel__(self):
        return pn.Column(self._slider, self._toggles, self._view, self._caption, sizing_mode="stretch_width",
                         min_width=280)
