"""Residuals against the reference, their Fourier spectra versus pressure, and the Fourier correction.

Numbers come from :mod:`elfviz.analysis`: :func:`residual_dataset`, :func:`field_metrics`,
:func:`radial_power_spectrum`, :func:`lowpass_correction`, :func:`r2_versus_kcut` and
:func:`spectra_over_frames` (over the bundled test frames, predicted with the shared cached model); the
figures are :func:`elfviz.viz.slices.slice_plot`, :func:`elfviz.viz.plots.frame_spectrum_plot`,
:func:`elfviz.viz.plots.r2_kcut_plot` and :func:`elfviz.viz.plots.spectra_plot`, each responsive in its own
card (CSS class ``elfviz-plot-card``); the three per-frame cards wrap in a FlexBox on narrow screens.

In a served page the analysis runs in the server's worker threads (:class:`~elfviz.dashboard.ticks.Background`;
the test frames' predictions in the model lane), and only the figures are made on the event loop.
"""

from __future__ import annotations

import logging
from typing import Any

import numpy as np
import panel as pn
import param

from ..errors import ElfvizError
from ..grid import keys
from ..viz.plots import MIN_WIDTH, PLOT_HEIGHT, frame_spectrum_plot, r2_kcut_plot, spectra_plot
from ..viz.slices import lattice_plane_slice, slice_plot
from . import predictions
from .sources import bundled_collection
from .state import DashboardState
from .structure_panel import notify_error
from .ticks import Background

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
        "metrics": field_metrics(res[keys.ELF_REF], res[keys.ELF]),
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


def plot_card(pane, title: str, css_class: str, *, basis: str = "360px") -> pn.Card:
    """A titled card holding one plot; in a FlexBox it grows from ``basis`` and wraps below 300 px.

    The card carries the CSS classes ``elfviz-plot-card`` and ``css_class`` (for tests and styling).
    """
    return pn.Card(pane, title=title, collapsible=False, sizing_mode="stretch_width", min_width=MIN_WIDTH,
                   css_classes=["elfviz-plot-card", css_class], styles={"flex": f"1 1 {basis}"})


class ResidualPanel(pn.viewable.Viewer):
    """Residual slice, spectrum and Fourier-correction effect for the current structure (when it has a
    reference), plus spectra versus pressure over the bundled test frames (computed on request)."""

    state = param.ClassSelector(class_=DashboardState)
    summary = param.Parameter(default=None, doc="residual_summary() of the current structure.")
    spectra = param.Parameter(default=None, doc="Test-frame spectra (after the button is pressed).")

    def __init__(self, state: DashboardState, *, collection: Any = "bundled", **params):
        super().__init__(state=state, **params)
        self._collection = collection
        self._metrics = pn.pane.Markdown("", sizing_mode="stretch_width", css_classes=["elfviz-residual-metrics"])
        self._slice = pn.pane.HoloViews(None, sizing_mode="stretch_width", min_height=320)
        self._spectrum = pn.pane.HoloViews(None, sizing_mode="stretch_width", min_height=PLOT_HEIGHT)
        self._correction = pn.pane.HoloViews(None, sizing_mode="stretch_width", min_height=PLOT_HEIGHT)
        self._frames_plot = pn.pane.HoloViews(None, sizing_mode="stretch_width", min_height=PLOT_HEIGHT)
        self._button = pn.widgets.Button(name="Residual spectra over the bundled test frames", button_type="default")
        self._button.on_click(lambda e: self.compute_test_spectra())
        self._progress = pn.indicators.Progress(value=0, max=1, visible=False, sizing_mode="stretch_width")
        self._frames_card = plot_card(self._frames_plot, "Spectra over the bundled test frames",
                                      "elfviz-test-spectra", basis="100%")
        self._frames_card.visible = False
        self._spectra_ok = False
        self._summary_job = Background(self._summary_inputs, self._summary_compute, self._show_summary,
                                       lane="work", apply_stale=False)
        self._spectra_job = Background(self._spectra_inputs, self._spectra_compute, self._show_spectra,
                                       lane="model", on_error=self._spectra_failed, apply_stale=False)
        self.state.param.watch(lambda *events: self.refresh(), ["reference", "prediction"])
        self.refresh()

    def refresh(self) -> None:
        """Analyse the current reference and prediction (in a worker in a served page) and show the result."""
        self._summary_job.request()

    def _summary_inputs(self):
        return self.state.reference, self.state.prediction

    @staticmethod
    def _summary_compute(pair):
        reference, prediction = pair
        if reference is None or prediction is None:
            return pair, None, None
        try:
            return pair, residual_summary(reference, prediction), None
        except ElfvizError as exc:
            return pair, None, exc

    def _show_summary(self, done) -> None:
        (reference, prediction), summary, error = done
        if reference is not self.state.reference or prediction is not self.state.prediction:
            return  # a newer structure or prediction: its own analysis follows
        if not self.state.residual_available:
            self.summary = None
            self._metrics.object = ("Residuals need a reference ELF (bundled frames and uploaded ELF files carry "
                                    "one) and a model prediction.")
            self._slice.object = self._spectrum.object = self._correction.object = None
            return
        if error is not None:
            self.summary = None
            self._metrics.object = f"Residuals unavailable: {error}"
            return
        self.summary = summary
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
                                        title="Residual (reference − model), ab plane at c = 0",
                                        clabel="reference − model")
        self._spectrum.object = frame_spectrum_plot(s["spectrum"], title="Residual spectrum of this frame")
        self._correction.object = r2_kcut_plot(s["r2_kcut"])

    def compute_test_spectra(self) -> bool:
        """Predict every bundled test frame (cached; in the model worker in a served page) and plot the
        residual spectra coloured by pressure. Returns False (and notifies) on failure, True on success or,
        in a served page, once the work is under way."""
        self._spectra_ok = True
        self._spectra_job.request()
        return self._spectra_ok

    def _spectra_inputs(self):
        self._progress.param.update(visible=True, value=-1, active=True)  # indeterminate: the work is in a thread
        self._button.disabled = True
        return self._collection

    @staticmethod
    def _spectra_compute(collection):
        collection = bundled_collection() if isinstance(collection, str) and collection == "bundled" else collection
        if collection is None:
            return None, "The bundled dataset is not installed; no test frames to analyse."
        try:
            return spectra_of_test_frames(collection), None
        except ElfvizError as exc:
            return None, f"Test-frame spectra failed: {exc}"

    def _show_spectra(self, done) -> None:
        spectra, error = done
        self._progress.param.update(visible=False, active=False)
        self._button.disabled = False
        if error is not None:
            self._spectra_failed(error)
            return
        self.spectra = spectra
        self._frames_plot.object = spectra_plot(self.spectra, color_by="pressure_gpa")
        self._frames_card.visible = True

    def _spectra_failed(self, error) -> None:
        self._progress.param.update(visible=False, active=False)
        self._button.disabled = False
        self._spectra_ok = False
        notify_error(str(error) if isinstance(error, str) else f"Test-frame spectra failed: {error}")

    def __panel__(self):
        cards = pn.FlexBox(
            plot_card(self._slice, "Residual slice", "elfviz-residual-slice"),
            plot_card(self._spectrum, "Residual spectrum", "elfviz-residual-spectrum"),
            plot_card(self._correction, "Low-pass Fourier correction", "elfviz-residual-correction"),
            flex_wrap="wrap", gap="12px", sizing_mode="stretch_width", css_classes=["elfviz-plot-grid"])
        return pn.Column(self._metrics, cards, self._button, self._progress, self._frames_card,
                         sizing_mode="stretch_width")
