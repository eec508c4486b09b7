"""Residuals against the reference, their Fourier spectra versus pressure, and the Fourier correction.

Numbers come from :mod:`elfviz.analysis`: :func:`residual_dataset`, :func:`field_metrics`,
:func:`radial_power_spectrum`, :func:`lowpass_correction`, :func:`r2_versus_kcut` and
:func:`spectra_over_frames` (over the bundled test frames, predicted with the shared cached model); the
spectra-versus-pressure figure is :func:`elfviz.viz.plots.spectra_plot`.
"""

from __future__ import annotations

import logging
from typing import Any

import holoviews as hv
import numpy as np
import panel as pn
import param

from ..errors import ElfvizError
from ..viz.slices import lattice_plane_slice, slice_plot
from . import predictions
from .sources import bundled_collection
from .state import DashboardState
from .structure_panel import notify_error

log = logging.getLogger(__name__)


def residual_summary(ref_ds, pred_ds) -> dict[str, Any]:
    """Residual Dataset, metrics, spectrum and low-pass correction of one frame (all from elfviz.analysis)."""
    from ..analysis import (
        K_BOND,
        field_metrics,
        lowpass_correction,
        r2_versus_kcut,
        radial_power_spectrum,
        residual_dataset,
    )

    res = residual_dataset(ref_ds, pred_ds)
    return {
        "residual": res,
        "metrics": field_metrics(res["elf_ref"], res["elf"]),
        "spectrum": radial_power_spectrum(res),
        "correction": lowpass_correction(res, k_cut=K_BOND),
        "r2_kcut": r2_versus_kcut(res),
        "k_bond": K_BOND,
    }


def spectra_of_test_frames(collection, progress=None):
    """Residual spectra of the bundled test frames (reference minus cached model prediction).

    Returns
    -------
    xarray.Dataset
        :func:`elfviz.analysis.spectra_over_frames` of the residuals (dims ``frame``, ``k``).
    """
    from ..analysis import residual_dataset, spectra_over_frames

    rows = collection.select(split="test")
    residuals = []
    for i, frame_id in enumerate(rows["frame_id"].astype(str)):
        ref = collection.read(frame_id)
        pred, _ = predictions.predict(ref)
        residuals.append(residual_dataset(ref, pred))
        if progress is not None:
            progress(i + 1, len(rows))
    return spectra_over_frames(residuals)


class ResidualPanel(param.Parameterized):
    """Residual slice, spectrum and Fourier-correction effect for the current structure (when it has a
    reference), plus spectra versus pressure over the bundled test frames (computed on request)."""

    state = param.ClassSelector(class_=DashboardState)
    summary = param.Parameter(default=None, doc="residual_summary() of the current structure.")
    spectra = param.Parameter(default=None, doc="Test-frame spectra (after the button is pressed).")

    def __init__(self, state: DashboardState, *, collection: Any = "bundled", **params):
        super().__init__(state=state, **params)
        self._collection = collection
        self._metrics = pn.pane.Markdown("", sizing_mode="stretch_width", css_classes=["elfviz-residual-metrics"])
        self._slice = pn.pane.HoloViews(None, min_height=360)
        self._spectrum = pn.pane.HoloViews(None, min_height=300)
        self._frames_plot = pn.pane.HoloViews(None, min_height=300)
        self._button = pn.widgets.Button(name="Residual spectra over the bundled test frames", button_type="default")
        self._button.on_click(lambda e: self.compute_test_spectra())
        self._progress = pn.indicators.Progress(value=0, max=1, visible=False, sizing_mode="stretch_width")
        self.state.param.watch(lambda *events: self.refresh(), ["reference", "prediction"])
        self.refresh()

    def refresh(self) -> None:
        if not self.state.residual_available:
            self.summary = None
            self._metrics.object = ("Residuals need a reference ELF (bundled frames and uploaded ELF files carry "
                                    "one) and a model prediction.")
            self._slice.object = self._spectrum.object = None
            return
        try:
            self.summary = residual_summary(self.state.reference, self.state.prediction)
        except ElfvizError as exc:
            self.summary = None
            self._metrics.object = f"Residuals unavailable: {exc}"
            return
        s = self.summary
        m, corr = s["metrics"], s["correction"].attrs
        self._metrics.object = (
            f"**Model vs reference**: R² = {m['r2']:.4f} · MAE = {m['mae']:.4f} · RMSE = {m['rmse']:.4f} · "
            f"max |err| = {m['max_abs_error']:.3f}  \n"
            f"Fourier correction (restore |G| < {s['k_bond']:.2f} Å⁻¹ of the residual): "
            f"R² {corr['r2_before']:.4f} → {corr['r2_after']:.4f}, MAE {corr['mae_before']:.4f} → "
            f"{corr['mae_after']:.4f}")
        residual = lattice_plane_slice(s["residual"], field="residual", plane="ab", position=0.0)
        bound = float(max(np.abs(residual.values).max(), 1e-6))
        self._slice.object = slice_plot(residual, cmap="RdBu_r", clim=(-bound, bound),
                                        title="Residual (reference − model), ab plane at c = 0")
        spectrum = s["spectrum"]
        keep = spectrum["n_modes"].values > 0
        r2 = s["r2_kcut"]
        self._spectrum.object = (
            hv.Curve((spectrum["k"].values[keep], spectrum["power_density"].values[keep]), "k (Å⁻¹)",
                     "residual power density").opts(logy=True, width=380, height=280, title="Residual spectrum")
            + hv.Curve((r2["k_cut"].values, r2["r2"].values), "k_cut (Å⁻¹)", "R² after correction").opts(
                width=380, height=280, title="Low-pass Fourier correction")
            * hv.VLine(s["k_bond"]).opts(color="grey", line_dash="dashed"))

    def compute_test_spectra(self) -> bool:
        """Predict every bundled test frame (cached) and plot the residual spectra coloured by pressure."""
        collection = bundled_collection() if self._collection == "bundled" else self._collection
        if collection is None:
            notify_error("The bundled dataset is not installed; no test frames to analyse.")
            return False
        self._progress.visible = True

        def progress(done, total):
            self._progress.max = total
            self._progress.value = done

        try:
            self.spectra = spectra_of_test_frames(collection, progress)
        except ElfvizError as exc:
            notify_error(f"Test-frame spectra failed: {exc}")
            return False
        finally:
            self._progress.visible = False
        import holoviews.plotting.bokeh  # noqa: F401  (plots.spectra_plot needs the backend's option builders)

        from ..viz.plots import spectra_plot

        hv.Store.set_current_backend("bokeh")  # fills hv.opts.<Element> builders (idempotent)

        self._frames_plot.object = spectra_plot(self.spectra, color_by="pressure_gpa")
        return True

    def __panel__(self):
        return pn.Column(self._metrics, pn.Row(self._slice, self._spectrum), self._button, self._progress,
                         self._frames_plot, sizing_mode="stretch_width")
