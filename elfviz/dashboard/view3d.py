"""The 3D view: periodic ELF isosurface coloured by component (spanning ones highlighted), atoms, cell."""

from __future__ import annotations

import logging
import time

import panel as pn
import param

from ..viz.scene import Scene, build_plotter, render_png, scene_meshes
from . import vtk_transfer
from .state import DashboardState

log = logging.getLogger(__name__)


def apply_camera(plotter, camera: dict | None) -> None:
    """Copy a vtk.js camera (``position``, ``focalPoint``, ``viewUp``) from the browser onto a plotter."""
    camera = dict(camera or {})
    if camera.get("position") is None:
        return
    plotter.camera.position = camera["position"]
    if camera.get("focalPoint") is not None:
        plotter.camera.focal_point = camera["focalPoint"]
    if camera.get("viewUp") is not None:
        plotter.camera.up = camera["viewUp"]


class View3D(param.Parameterized):
    """vtk.js view of the scene built by :func:`elfviz.viz.scene.scene_meshes`.

    The isovalue slider sets ``state.isovalue`` when released (so dragging does not queue a rebuild per
    pixel); the surface is rebuilt when the components at the new isovalue are known. The camera the
    user chose is kept across rebuilds of the same structure.
    """

    state = param.ClassSelector(class_=DashboardState)
    show_atoms = param.Boolean(default=True, doc="Draw the atoms.")
    show_cell = param.Boolean(default=True, doc="Draw the cell box.")
    show_images = param.Boolean(default=False, doc="Draw 2x2x2 periodic images.")
    scene = param.Parameter(default=None, doc="The last Scene drawn.")
    build_seconds = param.Number(default=0.0, doc="Time of the last scene build (meshes + plotter).")

    def __init__(self, state: DashboardState, *, height: int = 520, **params):
        super().__init__(state=state, **params)
        vtk_transfer.install()  # the pane's triangle lists, converted without a Python loop per value
        self._plotter = None
        self._structure_seen = None
        self._height = height
        self._pane = None  # created with the first render window (pn.pane.VTK needs one to pick its type)
        self._holder = pn.Column(pn.pane.Markdown("No ELF to show yet."), sizing_mode="stretch_width",
                                 min_height=height)
        self._slider = pn.widgets.FloatSlider(name="Isovalue (ELF)", start=0.0, end=1.0, step=0.01,
                                              value=state.isovalue, sizing_mode="stretch_width",
                                              css_classes=["elfviz-isovalue"])
        self._slider.param.watch(self._on_slider, "value_throttled")
        self._toggles = pn.Row(pn.widgets.Checkbox.from_param(self.param.show_atoms, name="atoms"),
                               pn.widgets.Checkbox.from_param(self.param.show_cell, name="cell"),
                               pn.widgets.Checkbox.from_param(self.param.show_images, name="periodic images 2×2×2"))
        self._caption = pn.pane.Markdown("", sizing_mode="stretch_width", css_classes=["elfviz-view3d-caption"])
        self.state.param.watch(self._on_isovalue, "isovalue")
        self.state.param.watch(lambda *events: self.refresh(), ["components"])
        self.param.watch(lambda *events: self.refresh(), ["show_atoms", "show_cell", "show_images"])
        self.refresh()

    @property
    def pane(self) -> pn.pane.VTK | None:
        """The VTK pane (None until the first scene is drawn)."""
        return self._pane

    @property
    def slider(self) -> pn.widgets.FloatSlider:
        return self._slider

    def _on_slider(self, event) -> None:
        if event.new is not None:
            self.state.isovalue = float(event.new)

    def _on_isovalue(self, event) -> None:
        if abs(self._slider.value - event.new) > 1e-12:
            self._slider.value = event.new

    def images(self) -> tuple[int, int, int]:
        return (2, 2, 2) if self.show_images else (1, 1, 1)

    def build_scene(self) -> Scene | None:
        """Meshes for the current state (None without a field)."""
        ds = self.state.field_ds
        if ds is None:
            return None
        components = self.state.components
        if components is None or getattr(components, "threshold", self.state.isovalue) != self.state.isovalue:
            components = "auto"
        return scene_meshes(ds, self.state.isovalue, images=self.images(), components=components,
                            show_atoms=self.show_atoms, show_cell=self.show_cell)

    def refresh(self) -> None:
        """Rebuild the meshes and hand a new render window to the pane, keeping the user's camera."""
        start = time.perf_counter()
        scene = self.build_scene()
        if scene is None:
            self._caption.object = "No ELF to show yet: pick a structure and run the model."
            return
        plotter = build_plotter(self.state.field_ds, scene.isovalue, scene=scene)
        same_structure = self._structure_seen is self.state.structure
        if same_structure and self._pane is not None:
            apply_camera(plotter, self._pane.camera)
        old = self._plotter
        self._plotter = plotter
        if self._pane is None:
            self._pane = pn.pane.VTK(plotter.ren_win, sizing_mode="stretch_width", height=self._height,
                                     orientation_widget=True, enable_keybindings=False,
                                     css_classes=["elfviz-view3d"])
            self._holder.objects = [self._pane]
        else:
            self._pane.object = plotter.ren_win
        if old is not None:
            old.close()
        self._structure_seen = self.state.structure
        self.scene = scene
        self.build_seconds = time.perf_counter() - start
        self._caption.object = self.caption(scene)

    @staticmethod
    def caption(scene: Scene) -> str:
        """One line describing what the surface shows."""
        spanning = "opaque, warm colours: spanning (percolating) components; translucent: finite ones"
        if scene.n_components is None:
            return f"ELF = {scene.isovalue:.3f}"
        plural = "" if scene.n_components == 1 else "s"
        return f"ELF = {scene.isovalue:.3f} · {scene.n_components} component{plural} · {spanning}"

    def png(self, window_size: tuple[int, int] = (1200, 900)) -> bytes:
        """PNG of the current scene from the current camera (for export)."""
        scene = self.scene if self.scene is not None else self.build_scene()
        if scene is None:
            return b""
        plotter = build_plotter(self.state.field_ds, scene.isovalue, scene=scene, window_size=window_size)
        try:
            if self._pane is not None:
                apply_camera(plotter, self._pane.camera)
            return render_png(plotter)
        finally:
            plotter.close()

    def __panel__(self):
        return pn.Column(self._slider, self._toggles, self._holder, self._caption, sizing_mode="stretch_width")
