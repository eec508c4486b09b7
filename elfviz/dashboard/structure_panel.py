"""Structure selection: built-in examples and file upload.

In a served page an example chosen from the list is read and predicted in the server's worker threads
(:class:`~elfviz.dashboard.ticks.Background`: file and analysis in the ``"work"`` lane, the model in the
``"model"`` lane), and the session's state changes once, on its event loop, when everything is ready.
"""

from __future__ import annotations

import logging
from typing import Any

import panel as pn
import param

from .. import grid
from ..errors import ElfvizError
from ..grid import keys
from .sources import MAX_UPLOAD_BYTES, Example, example_catalog, has_field, load_example, read_upload
from .state import DashboardState, field_analysis, shown_field
from .ticks import Background, Then, in_server_session

log = logging.getLogger(__name__)

UPLOAD_ACCEPT = ".cube,.xsf,.nc,.vasp,.cif,.xyz,.extxyz,.in,.pwi,.json,.traj,ELFCAR,CHGCAR,POSCAR,CONTCAR"

UPLOAD_KEY = "upload:"
"""Prefix of the example-list key of the loaded upload (``"upload:<file name>"``)."""


def upload_label(key: str) -> str:
    """The list label (and structure label) of an upload's key: ``"upload:h2.xyz"`` -> ``"upload: h2.xyz"``."""
    return key.replace(UPLOAD_KEY, "upload: ", 1)


def notify_error(message: str) -> None:
    """Show an error toast when notifications are enabled (server or notebook), and log it."""
    log.warning("%s", message)
    if pn.state.notifications is not None:
        pn.state.notifications.error(message, duration=8000)


class StructurePanel(pn.viewable.Viewer):
    """Pick a built-in example or upload a structure / ELF file.

    An uploaded file with an ELF field is shown as is and serves as the reference; a structure without a
    field is handed to the model. The file is read and checked completely (format, grid, pure hydrogen)
    before the state changes, so a bad upload (empty, unreadable, other species, too large) shows an error
    saying what is wrong and what to do, and leaves the current structure, its prediction and its views
    as they were. A good upload appears in the example list as ``"upload: <file name>"`` (selected);
    choosing an example from the list loads it again.
    """

    state = param.ClassSelector(class_=DashboardState)
    example = param.Selector(default=None, objects=[], doc="Built-in example (key).")
    error = param.String(default="", doc="Message of the last failed load ('' after a success).")

    def __init__(self, state: DashboardState, *, collection: Any = "bundled",
                 max_upload_bytes: int = MAX_UPLOAD_BYTES, **params):
        super().__init__(state=state, **params)
        self._collection = collection
        self._max_upload_bytes = max_upload_bytes
        self.examples: dict[str, Example] = {ex.key: ex for ex in example_catalog(collection)}
        self.param.example.objects = list(self.examples)
        self._select = pn.widgets.Select(name="Example", options=self._options(), sizing_mode="stretch_width",
                                         css_classes=["elfviz-example"])
        self._upload_key: str | None = None  # the list entry of the last good upload
        self._uploaded = None  # and its Dataset (choosing the entry again loads it again)
        self._upload = pn.widgets.FileInput(accept=UPLOAD_ACCEPT, multiple=False, sizing_mode="stretch_width")
        self._info = pn.pane.Markdown("", sizing_mode="stretch_width", css_classes=["elfviz-structure-info"])
        self._alert = pn.pane.Alert("", alert_type="danger", visible=False, sizing_mode="stretch_width")
        self._requested: dict = {}
        self._quiet_select = False
        self._load_job = Background(self._load_inputs, self._load_compute, self._load_apply, lane="work",
                                    on_error=lambda exc: self._fail(f"Could not load the example: {exc}"),
                                    apply_stale=False)
        self._select.param.watch(self._on_select, "value")
        # an empty file arrives as value None with a file name, so both are watched
        self._upload.param.watch(self._on_upload, ["value", "filename"])
        self.state.param.watch(lambda *events: self._describe(), ["structure", "prediction"])

    def _options(self, upload_key: str | None = None) -> dict[str, str]:
        options = {ex.label: ex.key for ex in self.examples.values()}
        if upload_key is not None:
            options = {upload_label(upload_key): upload_key, **options}
        return options

    # -- actions
    def load_example(self, key: str) -> bool:
        """Load the example with this key; returns False (and notifies) on failure."""
        try:
            example = self.examples[key]
            ds = load_example(example, self._collection)
            self.state.set_structure(ds, example.label)
        except (ElfvizError, KeyError) as exc:
            self._fail(f"Could not load example {key!r}: {exc}")
            return False
        self._succeed()
        self._show_choice(key)
        return True

    def load_upload(self, data: bytes | None, filename: str) -> bool:
        """Load an uploaded file; returns False (and notifies, state untouched) if it cannot be used."""
        try:
            ds = read_upload(data, filename, max_bytes=self._max_upload_bytes)  # parsed and checked in full
            key = f"{UPLOAD_KEY}{filename}"
            self.state.set_structure(ds, upload_label(key))
        except ElfvizError as exc:
            self._fail(f"Upload failed: {exc}")
            return False
        self._succeed()
        self._remember_upload(key, ds)
        return True

    def _remember_upload(self, key: str, ds) -> None:
        self._upload_key, self._uploaded = key, ds
        self._select.options = self._options(key)  # the list says an upload is loaded ...
        self._show_choice(key)  # ... and choosing an example afterwards loads it

    def _on_select(self, event) -> None:
        if event.new is None or self._quiet_select:
            return
        if event.new == self._upload_key:  # the last upload's entry: load it again unless it is shown
            if self.state.structure is not self._uploaded:
                self.state.set_structure(self._uploaded, upload_label(event.new))
                self._succeed()
            return
        if event.new not in self.examples:
            self.load_example(event.new)  # reports the unknown key
            return
        self.request_example(event.new)

    def request_example(self, key: str) -> None:
        """Load the example ``key``: in a served page in the server's workers (the choice shows at once, the
        structure with its prediction follows; quick successive choices coalesce into the last one), else
        at once (as :meth:`load_example`)."""
        example = self.examples.get(key)
        self._requested = {"kind": "example", "key": key, "example": example, "collection": self._collection,
                           "label": example.label if example is not None else key}
        if in_server_session() and example is not None:
            self._info.object = f"Loading **{example.label}** and predicting its ELF …"
        self._load_job.request()

    def request_upload(self, data: bytes | None, filename: str) -> None:
        """Load an uploaded file: in a served page parsed, checked and predicted in the server's workers (the
        page stays as it was until then, and as it was if the file is refused), else at once."""
        key = f"{UPLOAD_KEY}{filename}"
        self._requested = {"kind": "upload", "key": key, "data": data, "filename": filename,
                           "max_bytes": self._max_upload_bytes, "label": upload_label(key)}
        if in_server_session():
            self._info.object = f"Reading **{filename}** …"
        self._load_job.request()

    # -- loading in steps: inputs on the loop, reading and predicting in workers, the state on the loop
    def _load_inputs(self) -> dict:
        steps = self.state.prediction_steps
        job = {**self._requested, "compute": steps[1] if steps is not None else None,
               "settings": steps[0]() if steps is not None else None, "shown": self.state.shown}
        self._requested = {**self._requested, "data": None}  # an upload's bytes travel with its job only
        return job

    @staticmethod
    def _load_compute(job: dict):
        """Read the example or the upload (worker thread); continue in the model lane for a prediction."""
        from . import predictions

        try:
            if job["kind"] == "upload":
                ds = read_upload(job["data"], job["filename"], max_bytes=job["max_bytes"])
            elif job["example"] is None:
                raise KeyError(job["key"])
            else:
                ds = load_example(job["example"], job["collection"])
                grid.validate(ds)
        except (ElfvizError, KeyError) as exc:
            prefix = "Upload failed" if job["kind"] == "upload" else f"Could not load example {job['key']!r}"
            return {**job, "error": f"{prefix}: {exc}", "data": None}
        job = {**job, "ds": ds, "data": None}
        settings = job["settings"]
        if (job["compute"] is not None and settings.auto_run
                and predictions.cached_prediction(ds, settings.corrected) is None):
            return Then("model", StructurePanel._load_predict, job)
        return StructurePanel._load_predict(job)

    @staticmethod
    def _load_predict(job: dict) -> dict:
        """The prediction (model lane, or a cache hit) and the percolation sweep of the field to be shown."""
        ds, outcome = job["ds"], None
        if job["compute"] is not None:
            outcome = job["compute"](ds, job["settings"])
        prediction = outcome.result if outcome is not None else None
        field = shown_field(job["shown"], ds if has_field(ds, keys.ELF) else None, prediction)
        if field is not None:
            try:
                field_analysis(field)  # into the shared cache: the state's own update finds it there
            except ElfvizError:
                pass  # the state's update reports it
        return {**job, "outcome": outcome, "error": None}

    def _load_apply(self, job: dict) -> None:
        if job.get("error"):
            self._fail(job["error"])
            self._describe()
            return
        steps = self.state.prediction_steps
        try:
            if job["outcome"] is not None and steps is not None:
                self.state.set_structure(job["ds"], job["label"], prediction=steps[2](job["outcome"]))
            else:
                self.state.set_structure(job["ds"], job["label"])
        except ElfvizError as exc:
            self._fail(f"Upload failed: {exc}" if job["kind"] == "upload" else
                       f"Could not load example {job['key']!r}: {exc}")
            self._describe()
            return
        self._succeed()
        if job["kind"] == "upload":
            self._remember_upload(job["key"], job["ds"])
        else:
            self._show_choice(job["key"])

    def release(self) -> None:
        """Forget the last upload and any pending request (the page has closed)."""
        self._upload_key, self._uploaded, self._requested = None, None, {}

    def _show_choice(self, key: str) -> None:
        """Select ``key`` in the list without loading it again."""
        if self._select.value != key:
            self._quiet_select = True
            try:
                self._select.value = key
            finally:
                self._quiet_select = False

    def _on_upload(self, *events) -> None:
        filename = self._upload.filename
        if not filename:
            return  # the input was cleared
        self.request_upload(self._upload.value, filename)
        self._upload.clear()  # the same file can be chosen again (e.g. after fixing it)

    def _fail(self, message: str) -> None:
        self.error = message
        self._alert.object = message
        self._alert.visible = True
        notify_error(message)

    def _succeed(self) -> None:
        self.error = ""
        self._alert.visible = False

    def _describe(self) -> None:
        ds = self.state.structure
        if ds is None:
            self._info.object = "No structure loaded."
            return
        attrs = ds.attrs
        lines = [f"**{self.state.label}**",
                 f"{ds.sizes['atom']} atoms · rs = {attrs.get('rs_bohr', float('nan')):.3f} bohr · "
                 f"{attrs.get('density_g_cm3', float('nan')):.3f} g/cm³ · "
                 f"grid {'×'.join(map(str, grid.grid_shape(ds)))}"]
        if "pressure_gpa" in attrs:
            lines.append(f"pressure {float(attrs['pressure_gpa']):.0f} GPa")
        lines.append(f"reference ELF: {attrs.get('source', 'file')}" if has_field(ds) else
                     "no ELF in the file: the model predicts it")
        self._info.object = "  \n".join(lines)

    def __panel__(self):
        return pn.Column(
            pn.pane.Markdown("### Structure"), self._select,
            pn.pane.Markdown("or upload a pure-hydrogen structure / ELF file (cube, XSF, ELFCAR, netCDF, CIF, "
                             f"XYZ, QE input; at most {self._max_upload_bytes / 2**20:.0f} MiB):"),
            self._upload, self._alert, self._info, sizing_mode="stretch_width")
