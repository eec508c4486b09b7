"""2-D ELF slice on a lattice plane (holoviews), from :func:`elfviz.viz.slices.lattice_plane_slice`."""

from __future__ import annotations

import panel as pn
import param

from ..viz.slices import PLANES, lattice_plane_slice, slice_plot
from .state import DashboardState


class SlicePanel(param.Parameterized):
    """The shown ELF on the plane spanned by two lattice vectors, at a fractional position along the third."""

    state = param.ClassSelector(class_=DashboardState)
    plane = param.Selector(default="ab", objects=list(PLANES), doc="Lattice vectors spanning the plane.")
    position = param.Number(default=0.0, bounds=(0.0, 1.0), step=0.01, doc="Fractional position of the plane.")
    field = param.Selector(default="elf", objects=["elf"], doc="Field of the shown Dataset.")

    def __init__(self, state: DashboardState, **params):
        super().__init__(state=state, **params)
        self._plot = pn.pane.HoloViews(None, sizing_mode="stretch_width", min_height=400)
        self.state.param.watch(lambda *events: self.refresh(), ["field_ds"])
        self.param.watch(lambda *events: self.refresh(), ["plane", "position"])
        self.refresh()

    def current_slice(self):
        """The DataArray currently drawn (None without a field)."""
        ds = self.state.field_ds
        if ds is None:
            return None
        return lattice_plane_slice(ds, field=self.field, plane=self.plane, position=self.position)

    def refresh(self) -> None:
        s = self.current_slice()
        self._plot.object = None if s is None else slice_plot(s, title=f"ELF ({self.state.shown}) on the "
                                                              f"{self.plane} plane at {s.attrs['normal_axis']} = "
                                                              f"{s.attrs['position']:.2f}")

    def __panel__(self):
        widgets = pn.Row(pn.widgets.RadioButtonGroup.from_param(self.param.plane),
                         pn.widgets.FloatSlider.from_param(self.param.position, name="position along the normal"))
        return pn.Column(widgets, self._plot, sizing_mode="stretch_width")
