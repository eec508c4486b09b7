"""Run the bundled ELF model on the current structure (device shown, results cached per structure).

In a served page the model runs in the server's model worker (:class:`~elfviz.dashboard.ticks.Background`,
lane ``"model"``), never on the event loop all sessions share: while one visitor's structure is predicted,
the other visitors' pages stay live. A prediction is done in two steps, :meth:`ModelPanel.compute_outcome`
(in a worker: the shared cached :func:`~elfviz.dashboard.predictions.predict`) and
:meth:`ModelPanel.show_outcome` (on the loop: the status line).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

import panel as pn
import param

from ..errors import ElfvizError
from . import predictions
from .state import DashboardState
from .structure_panel import notify_error
from .ticks import Background

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    """What one request for a prediction gave: the prediction and its wall time, or why there is none."""

    result: Any = None
    seconds: float = 0.0
    error: str | None = None
    not_run: bool = False


@dataclass(frozen=True)
class ModelSettings:
    """The model panel's choices when a prediction is requested (read on the event loop)."""

    corrected: bool = False
    auto_run: bool = True


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
        self._last_run_ok = False
        self._run_job = Background(self._run_inputs, self._run_compute, self._run_apply, lane="model",
                                   on_error=self._job_failed, apply_stale=False)
        self._members_job = Background(self._members_inputs, self._members_compute, self._members_apply,
                                       lane="model", on_error=self._job_failed, apply_stale=False)
        self.state.predict_on_select = self.prediction_for_new_structure
        self.state.prediction_steps = (self.settings, self.compute_outcome, self.show_outcome)

    # -- a prediction in two steps: compute (any thread) and show (the session's loop)
    def settings(self) -> ModelSettings:
        """The current choices (Fourier correction, run automatically)."""
        return ModelSettings(corrected=bool(self.fourier_correction), auto_run=bool(self.auto_run))

    @staticmethod
    def compute_outcome(ds, settings: ModelSettings, *, run: bool | None = None) -> Outcome:
        """The prediction of ``ds`` (shared cache; thread-safe, touches no widget). With ``run`` False (default:
        ``settings.auto_run``) only a cached prediction is taken."""
        run = settings.auto_run if run is None else run
        if not run and predictions.cached_prediction(ds, settings.corrected) is None:
            return Outcome(not_run=True)
        try:
            result, seconds = predictions.predict(ds, corrected=settings.corrected)
        except ElfvizError as exc:
            return Outcome(error=f"Model failed: {exc}")
        return Outcome(result=result, seconds=seconds)

    def show_outcome(self, outcome: Outcome):
        """Update the status line for ``outcome`` (notify on failure); returns the prediction or None."""
        self._members.object = ""
        if outcome.not_run:
            self.status = "Model not run for this structure yet."
            self._status.object = self.status
            return None
        if outcome.error is not None:
            self.status = outcome.error
            self._status.object = self.status
            notify_error(self.status)
            return None
        result, seconds = outcome.result, outcome.seconds
        predictor = predictions.get_predictor()
        corrected = " + Fourier correction" if "correction" in result.attrs else ""
        self.status = (f"**{result.attrs.get('source', predictor.version)}{corrected}** on "
                       f"**{predictions.device_label(predictor)}** · {seconds:.2f} s"
                       + (" (cached)" if seconds < 0.01 else ""))
        if result.attrs.get("cautions"):  # the Predictor's own warnings (density range, member spread)
            self.status += "\n\n" + "\n\n".join(f"⚠ {c}" for c in str(result.attrs["cautions"]).split(" | "))
        self._status.object = self.status
        self._members_button.visible = getattr(predictor, "n_members", 1) > 1
        return result

    def prediction_for_new_structure(self, ds):
        """The prediction a newly selected structure arrives with: predicted now with ``auto_run`` (or from
        the cache), else None (the status says the model has not run). A failed run notifies and gives None."""
        self._busy(True)
        try:
            outcome = self.compute_outcome(ds, self.settings())
        finally:
            self._busy(False)
        return self.show_outcome(outcome)

    def _on_correction(self, event) -> None:
        if self._reverting or self.state.structure is None:
            return
        self.run()

    def run(self) -> bool:
        """Predict the ELF of the current structure (in the model worker in a served page); returns False (and
        notifies) on failure, True on success or, in a served page, once the run is under way."""
        if self.state.structure is None:
            return False
        self._last_run_ok = True
        self._run_job.request()
        return self._last_run_ok

    def _run_inputs(self):
        self._busy(True)
        return self.state.structure, self.settings()

    def _run_compute(self, inputs):
        ds, settings = inputs
        return ds, settings, self.compute_outcome(ds, settings, run=True)

    def _run_apply(self, done) -> None:
        ds, settings, outcome = done
        self._busy(False)
        if ds is not self.state.structure:
            return  # another structure was chosen meanwhile: it brought its own prediction
        result = self.show_outcome(outcome)
        self._last_run_ok = result is not None
        if result is None:
            if settings.corrected and self.fourier_correction:
                # no correction for these weights: untick, keep the network's prediction and the error message
                self._reverting = True
                try:
                    self.fourier_correction = False
                finally:
                    self._reverting = False
            return
        self.state.prediction = result

    def _job_failed(self, exc: BaseException) -> None:
        self._busy(False)
        self._last_run_ok = False
        notify_error(f"Model failed: {type(exc).__name__}: {exc}")

    # -- the member networks' phi
    def show_member_phi(self) -> str:
        """Show the range of the member networks' φ for the current structure (one φ sweep per network, plus a
        descriptor pass unless the model's last prediction was this structure, so on request only; in the
        model worker in a served page); returns the text shown (empty while it is computed)."""
        if self.state.structure is None:
            return ""
        self._members.object = ""
        self._members_job.request()
        return self._members.object

    def _members_inputs(self):
        self._busy(True)
        return self.state.structure

    @staticmethod
    def _members_compute(ds):
        try:
            return ds, predictions.member_phi_range(ds), None
        except ElfvizError as exc:
            return ds, None, exc

    def _members_apply(self, done) -> None:
        ds, span, error = done
        self._busy(False)
        if ds is not self.state.structure:
            return
        if error is not None:
            notify_error(f"Member φ failed: {error}")
            return
        self._members.object = self.member_phi_text(span)

    @staticmethod
    def member_phi_text(span) -> str:
        """The sentence shown for the members' φ range (None: a single network)."""
        if span is None:
            text = "A single network: no member networks to compare."
        else:
            n = predictions.get_predictor().n_members
            text = (f"φ of the {n} member networks: **{span[0]:.3f}–{span[1]:.3f}** (networks alone, without "
                    "the Fourier correction). The members share much of their error, so this is a lower bound "
                    "on the uncertainty of φ, not an error bar (see the model card).")
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
