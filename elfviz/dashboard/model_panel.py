"""Run the bundled ELF model on the current structure (device shown, results cached per structure)."""

from __future__ import annotations

import logging

import panel as pn
import param

from ..errors import ElfvizError
from . import predictions
from .state import DashboardState
from .structure_panel import notify_error

log = logging.getLogger(__name__)


class ModelPanel(pn.viewable.Viewer):
    """The bundled :class:`elfviz.model.Predictor` applied to the selected structure.

    With ``auto_run`` the model runs whenever a new structure is selected (results are cached, so
    revisiting a structure is instant). The busy spinner turns while the server works.
    """

    state = param.ClassSelector(class_=DashboardState)
    auto_run = param.Boolean(default=True, doc="Predict as soon as a structure is selected.")
    fourier_correction = param.Boolean(
        default=False, doc="Apply the shipped Fourier correction (long-wavelength residual) after the network."
    )
    status = param.String(default="", doc="Last run: model, device, time.")

    def __init__(self, state: DashboardState, **params):
        super().__init__(state=state, **params)
        self._button = pn.widgets.Button(name="Run model", button_type="primary", sizing_mode="stretch_width")
        self._button.on_click(lambda event: self.run())
        self._auto = pn.widgets.Checkbox.from_param(self.param.auto_run, name="Run automatically")
        self._correct = pn.widgets.Checkbox.from_param(
            self.param.fourier_correction, name="Fourier correction (long-wavelength residual)"
        )
        self._reverting = False
        self.param.watch(self._on_correction, "fourier_correction")
        # outline buttons with the selected one filled in the accent colour: which ELF is shown is obvious
        self._shown = pn.widgets.RadioButtonGroup.from_param(self.state.param.shown, color="primary",
                                                             variant="outline", sizing_mode="stretch_width",
                                                             css_classes=["elfviz-shown"])
        self._spinner = pn.indicators.LoadingSpinner(value=False, size=24, name="", width=30)
        self._progress = pn.indicators.Progress(active=False, value=0, max=1, sizing_mode="stretch_width",
                                                visible=False)
        self._status = pn.pane.Markdown("", sizing_mode="stretch_width", css_classes=["elfviz-model-status"])
        self._members_button = pn.widgets.Button(name="φ of each member network", sizing_mode="stretch_width",
                                                 visible=False)
        self._members_button.on_click(lambda event: self.show_member_phi())
        self._members = pn.pane.Markdown("", sizing_mode="stretch_width")
        self.state.predict_on_select = self.prediction_for_new_structure

    def prediction_for_new_structure(self, ds):
        """The prediction a newly selected structure arrives with: predicted now with ``auto_run`` (or from
        the cache), else None (the status says the model has not run). A failed run notifies and gives None."""
        cached = predictions.cached_prediction(ds, self.fourier_correction)
        if cached is None and not self.auto_run:
            self.status = "Model not run for this structure yet."
            self._status.object = self.status
            self._members.object = ""
            return None
        return self._predict(ds)

    def _on_correction(self, event) -> None:
        if self._reverting or self.state.structure is None:
            return
        if not self.run() and event.new:
            # no correction for these weights: untick, keep the network's prediction and the error message
            self._reverting = True
            try:
                self.fourier_correction = False
            finally:
                self._reverting = False

    def run(self) -> bool:
        """Predict the ELF of the current structure; returns False (and notifies) on failure."""
        ds = self.state.structure
        if ds is None:
            return False
        result = self._predict(ds)
        if result is None:
            return False
        self.state.prediction = result
        return True

    def _predict(self, ds):
        """The model's prediction of ``ds`` with the status line updated, or None (notified) on failure."""
        self._busy(True)
        try:
            result, seconds = predictions.predict(ds, corrected=self.fourier_correction)
        except ElfvizError as exc:
            self.status = f"Model failed: {exc}"
            self._status.object = self.status
            notify_error(self.status)
            return None
        finally:
            self._busy(False)
        predictor = predictions.get_predictor()
        corrected = " + Fourier correction" if "correction" in result.attrs else ""
        self.status = (f"**{result.attrs.get('source', predictor.version)}{corrected}** on "
                       f"**{predictions.device_label(predictor)}** · {seconds:.2f} s"
                       + (" (cached)" if seconds < 0.01 else ""))
        if result.attrs.get("cautions"):  # the Predictor's own warnings (density range, member spread)
            self.status += "\n\n" + "\n\n".join(f"⚠ {c}" for c in str(result.attrs["cautions"]).split(" | "))
        self._status.object = self.status
        self._members.object = ""
        self._members_button.visible = getattr(predictor, "n_members", 1) > 1
        return result

    def show_member_phi(self) -> str:
        """Show the range of the member networks' φ for the current structure (one φ sweep per network, plus a
        descriptor pass unless the model's last prediction was this structure, so on request only); returns
        the text shown."""
        ds = self.state.structure
        if ds is None:
            return ""
        self._busy(True)
        try:
            span = predictions.member_phi_range(ds)
        except ElfvizError as exc:
            notify_error(f"Member φ failed: {exc}")
            return ""
        finally:
            self._busy(False)
        if span is None:
            text = "A single network: no member networks to compare."
        else:
            n = predictions.get_predictor().n_members
            text = (f"φ of the {n} member networks: **{span[0]:.3f}–{span[1]:.3f}** (networks alone, without "
                    "the Fourier correction). The members share much of their error, so this is a lower bound "
                    "on the uncertainty of φ, not an error bar (see the model card).")
        self._members.object = text
        return text

    def _busy(self, busy: bool) -> None:
        self._spinner.value = busy
        self._progress.visible = busy
        self._progress.active = busy
        self._button.disabled = busy

    def __panel__(self):
        return pn.Column(
            pn.pane.Markdown("### Model"), pn.Row(self._button, self._spinner), self._auto, self._correct,
            self._progress,
            self._status, self._members_button, self._members, pn.pane.Markdown("Show:"), self._shown,
            sizing_mode="stretch_width")
