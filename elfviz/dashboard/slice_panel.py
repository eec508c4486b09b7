"""2-D ELF slice on a lattice plane (holoviews), from :func:`elfviz.viz.slices.lattice_plane_slice`."""

from __future__ import annotations

import panel as pn
import param

from ..grid import keys
from ..viz.slices import PLANES, lattice_plane_slice, slice_plot
from ..viz.slices import SLICE_MIN_WIDTH as MIN_WIDTH
from .state import DashboardState

#: The look of the plane and field choosers: the selected button is filled, the others outlined
#: (Panel >= 1.9 names these options ``color``/``variant``; older versions ``button_type``/``button_style``).
CHOOSER = ({"color": "primary", "variant": "outline"} if "variant" in pn.widgets.RadioButtonGroup.param
           else {"button_type": "primary", "button_style": "outline"})

#: Fields the slice can show, with their labels; the member spread comes with ensemble predictions only.
FIELDS = {keys.ELF: "ELF", keys.ELF_MEMBER_STD: "member spread (std of the networks)"}


class SlicePanel(pn.viewable.Viewer):
    """The shown ELF on the plane spanned by two lattice vectors, at a fractional position along the third."""

    state = param.ClassSelector(class_=DashboardState)
    plane = param.Selector(default="ab", objects=list(PLANES), doc="Lattice vectors spanning the plane.")
    position = param.Number(default=0.0, bounds=(0.0, 1.0), step=0.01, doc="Fractional position of the plane.")
    field = param.Selector(default=keys.ELF, objects=list(FIELDS), doc="Field of the shown Dataset.")

    def __init__(self, state: DashboardState, **params):
        super().__init__(state=state, **params)
        self._plot = pn.pane.HoloViews(None, sizing_mode="stretch_width", min_height=320)
        self._field_choice = pn.widgets.RadioButtonGroup(options={label: name for name, label in FIELDS.items()},
                                                         value=keys.ELF, visible=False, **CHOOSER)
        self._field_choice.param.watch(lambda event: setattr(self, "field", event.new), "value")
        self.state.param.watch(lambda *events: self._follow_fields(), ["field_ds"])
        self.param.watch(lambda *events: self.refresh(), ["plane", "position", "field"])
        self._follow_fields()

    def available_fields(self) -> list[str]:
        """Fields of :data:`FIELDS` that the shown Dataset has (``elf_member_std`` only for ensemble predictions)."""
        ds = self.state.field_ds
        return [name for name in FIELDS if ds is not None and name in ds]

    def _follow_fields(self) -> None:
        fields = self.available_fields()
        self._field_choice.visible = len(fields) > 1
        if self.field not in fields and self.field != keys.ELF:
            with param.discard_events(self):
                self.field = keys.ELF
            self._field_choice.value = keys.ELF
        self.refresh()

    def current_slice(self):
        """The DataArray currently drawn (None without a field)."""
        ds = self.state.field_ds
        if ds is None:
            return None
        return lattice_plane_slice(ds, field=self.field, plane=self.plane, position=self.position)

    def refresh(self) -> None:
        s = self.current_slice()
        if s is None:
            self._plot.object = None
            return
        spread = self.field == keys.ELF_MEMBER_STD
        self._plot.object = slice_plot(
            s,
            cmap="magma" if spread else "viridis",
            clim=None if spread else (0.0, 1.0),
            title=f"{FIELDS[self.field]} ({self.state.shown}) on the {self.plane} plane at "
            f"{s.attrs['normal_axis']} = {s.attrs['position']:.2f}",
        )

    def __panel__(self):
        plane = pn.widgets.RadioButtonGroup.from_param(self.param.plane, width=180, **CHOOSER)
        plane.css_classes = ["elfviz-slice-plane"]
        position = pn.widgets.FloatSlider.from_param(self.param.position, name="position along the normal",
                                                     min_width=200, sizing_mode="stretch_width",
                                                     styles={"flex": "1 1 240px"})
        widgets = pn.FlexBox(plane, position, self._field_choice, flex_wrap="wrap", align_items="center",
                             gap="8px 16px", sizing_mode="stretch_width")
        card = pn.Card(self._plot, title="Slice", hide_header=True, sizing_mode="stretch_width",
                       min_width=MIN_WIDTH, css_classes=["elfviz-plot-card", "elfviz-slice"])
        return pn.Column(widgets, card, sizing_mode="stretch_width")
