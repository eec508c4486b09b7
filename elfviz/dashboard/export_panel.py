"""Downloads: the shown Dataset as netCDF or Gaussian cube, and a PNG of the 3D view."""

from __future__ import annotations

import io
import re
import tempfile
from pathlib import Path

import panel as pn
import param

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
        write(ds, path, force=True, field="elf")
        return path.read_bytes()


class ExportPanel(param.Parameterized):
    """Download buttons for the shown ELF (netCDF with all metadata, cube) and a PNG of the 3D view."""

    state = param.ClassSelector(class_=DashboardState)

    def __init__(self, state: DashboardState, view: View3D, **params):
        super().__init__(state=state, **params)
        self._view = view
        self._netcdf = pn.widgets.FileDownload(callback=lambda: self._file(".nc"), filename="elfviz.nc",
                                               label="netCDF (.nc)", button_type="light", sizing_mode="stretch_width")
        self._cube = pn.widgets.FileDownload(callback=lambda: self._file(".cube"), filename="elfviz.cube",
                                             label="Gaussian cube (.cube)", button_type="light",
                                             sizing_mode="stretch_width")
        self._png = pn.widgets.FileDownload(callback=self._png_file, filename="elfviz.png",
                                            label="3D view (.png)", button_type="light", sizing_mode="stretch_width")
        self.state.param.watch(lambda *events: self._rename(), ["field_ds", "label"])
        self._rename()

    def _rename(self) -> None:
        stem = safe_stem(f"{self.state.label}_{self.state.shown}")
        self._netcdf.filename = f"{stem}.nc"
        self._cube.filename = f"{stem}.cube"
        self._png.filename = f"{stem}.png"

    def _file(self, suffix: str) -> io.BytesIO:
        ds = self.state.field_ds
        if ds is None:
            return io.BytesIO(b"")
        return io.BytesIO(dataset_bytes(ds, suffix))

    def _png_file(self) -> io.BytesIO:
        return io.BytesIO(self._view.png())

    def __panel__(self):
        return pn.Column(pn.pane.Markdown("### Export"), self._netcdf, self._cube, self._png,
                         sizing_mode="stretch_width")
