"""Downloads: the shown Dataset as netCDF or Gaussian cube, and a PNG of the 3D view."""

from __future__ import annotations

import io
import re
import tempfile
from pathlib import Path

import panel as pn
import param

from ..errors import ElfvizError
from ..grid import keys
from .state import DashboardState
from .view3d import View3D


def safe_stem(label: str) -> str:
    """A file-name stem from a label: ``"liquid  rs=1.40 [f-3]"`` -> ``"liquid_rs-1.40_f-3"``.

    Examples
    --------
    >>> safe_stem("upload: H2 (test).cube")
    'upload_H2_test_.cube'
    """
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", label.replace("=", "-")).strip("_")
    return stem or "elfviz"


def dataset_bytes(ds, suffix: str) -> bytes:
    """Write ``ds`` with :func:`elfviz.io.write` (format from ``suffix``) and return the file's bytes."""
    from ..io import write

    with tempfile.TemporaryDirectory(prefix="elfviz-export-") as tmp:
        path = Path(tmp) / f"export{suffix}"
        write(ds, path, force=True, field=keys.ELF)
        return path.read_bytes()


class ExportPanel(pn.viewable.Viewer):
    """Download buttons for the shown ELF (netCDF with all metadata, cube) and a PNG of the 3D view.

    The file names say what the field is (``<label>_model``, ``<label>_reference``). Without a field the
    buttons are disabled, and a download asked for anyway is refused with a message: no empty files.
    """

    state = param.ClassSelector(class_=DashboardState)

    def __init__(self, state: DashboardState, view: View3D, **params):
        super().__init__(state=state, **params)
        self._view = view
        self._netcdf = pn.widgets.FileDownload(callback=lambda: self._file(".nc"), filename="elfviz.nc",
                                               label="netCDF (.nc)", color="light", sizing_mode="stretch_width")
        self._cube = pn.widgets.FileDownload(callback=lambda: self._file(".cube"), filename="elfviz.cube",
                                             label="Gaussian cube (.cube)", color="light",
                                             sizing_mode="stretch_width")
        self._png = pn.widgets.FileDownload(callback=self._png_file, filename="elfviz.png",
                                            label="3D view (.png)", color="light", sizing_mode="stretch_width")
        self._note = pn.pane.Markdown("", sizing_mode="stretch_width", css_classes=["elfviz-export-note"])
        self.state.param.watch(lambda *events: self._rename(), ["field_ds", "label"])
        self._rename()

    @property
    def buttons(self) -> tuple[pn.widgets.FileDownload, ...]:
        return self._netcdf, self._cube, self._png

    def _kind(self) -> str:
        ds, state = self.state.field_ds, self.state
        if ds is None:
            return state.shown
        return "model" if ds is state.prediction else "reference"

    def _rename(self) -> None:
        stem = safe_stem(f"{self.state.label}_{self._kind()}")
        self._netcdf.filename = f"{stem}.nc"
        self._cube.filename = f"{stem}.cube"
        self._png.filename = f"{stem}.png"
        missing = self.state.field_ds is None
        for button in self.buttons:
            button.disabled = missing
        self._note.object = "Nothing to export: no ELF field for this structure yet." if missing else ""

    def _refuse(self) -> None:
        from .structure_panel import notify_error

        notify_error("Nothing to export: the current structure has no ELF field yet (run the model or load a "
                     "structure with a reference ELF).")
        raise ElfvizError("nothing to export: no ELF field")

    def _file(self, suffix: str) -> io.BytesIO:
        ds = self.state.field_ds
        if ds is None:
            self._refuse()
        return io.BytesIO(dataset_bytes(ds, suffix))

    def _png_file(self) -> io.BytesIO:
        if self.state.field_ds is None:
            self._refuse()
        return io.BytesIO(self._view.png())

    def __panel__(self):
        return pn.Column(pn.pane.Markdown("### Export"), self._netcdf, self._cube, self._png, self._note,
                         sizing_mode="stretch_width")
