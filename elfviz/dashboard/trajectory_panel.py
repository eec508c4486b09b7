"""Play an MD trajectory: the 3-D view and the network panel follow the frame, phi(t) and phi*(t) beside them.

A trajectory (the bundled example, or an upload parsed from memory: extended XYZ, ASE .traj, XDATCAR, pw.x
output, LAMMPS dump, elfviz .npz) is read in a worker thread, put on one grid
(:func:`elfviz.trajectory.on_one_grid`) and predicted frame by frame in the model lane (the shared
predictor, cached apart from the single structures' predictions: :data:`elfviz.dashboard.predictions.SHELVES`);
each frame's numbers (:func:`elfviz.trajectory.frame_numbers`) and percolation sweep
(:func:`elfviz.dashboard.state.field_analysis`) are computed with it. Frames are playable as soon as they are
ready. Stepping to a ready frame hands its structure and prediction to the shared state in one update
(everything it needs is cached); the 3-D scene follows in a worker. A GIF of the isosurface through the
frames (:func:`elfviz.viz.movie.write_movie`) is made in a worker and offered for download.
"""

from __future__ import annotations

import io
import logging
import math
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import panel as pn
import param

from .. import grid
from ..errors import ElfvizError, FileFormatError, GridError
from .sources import MAX_UPLOAD_BYTES, check_upload_size
from .state import DashboardState, field_analysis
from .structure_panel import notify_error
from .ticks import Background, Then, in_server_session

log = logging.getLogger(__name__)

MAX_FRAMES = 150
"""Most frames one session plays (pick every n-th frame of a longer run, or use ``elfviz trajectory``)."""

MAX_TRAJECTORY_BYTES = 192 * 2**20
"""Most bytes of predicted fields one session keeps for a trajectory (ELF and member spread, float32 each)."""

SPACING = 0.12
"""Largest grid spacing (Å) of the frames' common grid (the first frame's cell sets it)."""

PLAY_INTERVAL_MS = 700
"""Time between two frames while playing."""

MOVIE_FPS = 4.0
"""Frames per second of the GIF made here."""

FRAME_ATTRS = ("frame_index", "md_step", "md_time_fs", "trajectory")
"""A frame's attrs that say where it lies in the trajectory."""


@dataclass
class Trajectory:
    """A trajectory loaded in one session: its frames on one grid, and each frame's prediction and numbers."""

    name: str
    frames: list
    times: np.ndarray
    has_time: bool
    predictions: list = field(default_factory=list)
    numbers: list = field(default_factory=list)

    def __post_init__(self):
        self.predictions = [None] * len(self.frames)
        self.numbers = [None] * len(self.frames)

    @property
    def n_frames(self) -> int:
        return len(self.frames)

    @property
    def n_ready(self) -> int:
        """Frames predicted so far (they are predicted in order)."""
        return next((k for k, p in enumerate(self.predictions) if p is None), self.n_frames)

    def frame_index(self, k: int) -> int:
        return int(self.frames[k].attrs.get("frame_index", k))

    def label(self, k: int) -> str:
        when = f"t = {self.times[k]:.1f} fs" if self.has_time else f"frame {k + 1} of {self.n_frames}"
        return f"{self.name} · frame {self.frame_index(k)} · {when}"

    def column(self, key: str) -> np.ndarray:
        return np.array([math.nan if n is None else float(n[key]) for n in self.numbers])


def read_frames(data: bytes | None, name: str, every: int, *, path: str | None = None,
                max_bytes: int = MAX_UPLOAD_BYTES, max_frames: int = MAX_FRAMES) -> Trajectory:
    """The frames of an uploaded trajectory (``data``) or of a file (``path``) on one grid, checked.

    Raises
    ------
    FileFormatError
        Empty, oversized or unreadable files, more than ``max_frames`` frames (the message says which ``every``
        fits), or fields too large for a session.
    SpeciesError, StructureError
        Frames with other atoms than hydrogen, changing atom counts, no cell.
    """
    from ..trajectory import on_one_grid, read_trajectory, read_trajectory_bytes

    if path is None:
        check_upload_size(data, name, max_bytes,
                          expected="an MD trajectory (extended XYZ with Lattice=, ASE .traj, XDATCAR, pw.x output, "
                                   "LAMMPS dump)",
                          instead="use `elfviz trajectory` on the command line for long runs")
        frames_read = read_trajectory_bytes(bytes(data), name, every)
    else:
        frames_read = read_trajectory(path, every)
    structures = []
    for frame in frames_read:
        if len(structures) == max_frames:
            raise FileFormatError(
                f"{name} has more than {max_frames} frames at every {every}; play every n-th frame (a larger "
                f"'every'), or analyse the whole run with `elfviz trajectory {name} -o OUT.nc`")
        structures.append(frame)
    frames = on_one_grid(structures, spacing=SPACING)
    shape = grid.grid_shape(frames[0])
    needed = len(frames) * math.prod(shape) * 8
    if needed > MAX_TRAJECTORY_BYTES:
        raise FileFormatError(
            f"{name}: {len(frames)} frames on a {'x'.join(map(str, shape))} grid need {needed / 2**20:.0f} MiB, above "
            f"the {MAX_TRAJECTORY_BYTES / 2**20:.0f} MiB a session keeps; play every n-th frame (a larger 'every')")
    times = np.array([float(f.attrs.get("md_time_fs", math.nan)) for f in frames])
    has_time = bool(np.all(np.isfinite(times)))
    if not has_time:
        times = np.arange(len(frames), dtype=float)
    return Trajectory(name=name, frames=frames, times=times, has_time=has_time)


class TrajectoryPanel(pn.viewable.Viewer):
    """Load a trajectory, play it, and see phi(t) and phi*(t) with the current frame marked.

    The sidebar part (:meth:`__panel__`) chooses the trajectory; :attr:`playback` (player, frame line,
    phi(t) plot, movie) goes at the top of the main area, above the 3-D view, and shows once a trajectory is
    loaded.
    """

    state = param.ClassSelector(class_=DashboardState)
    frame = param.Integer(default=0, bounds=(0, None), doc="Position (0-based) of the frame shown.")
    ready = param.Integer(default=0, doc="Frames predicted and analysed so far.")
    status = param.String(default="", doc="What the panel is doing, or what failed.")
    step_seconds = param.Number(default=0.0, doc="Server time of the last frame step (the state's update; the "
                                                 "3-D scene follows in a worker).")

    def __init__(self, state: DashboardState, *, max_upload_bytes: int = MAX_UPLOAD_BYTES, **params):
        from ..viz.trajectory_plot import phi_time_figure

        super().__init__(state=state, **params)
        self.trajectory: Trajectory | None = None
        self._max_upload_bytes = max_upload_bytes
        self._requested: dict = {}
        self._generation = 0  # a new trajectory makes the old one's pending predictions moot
        self._shown = None  # the frame Dataset last handed to the state
        self._paused_at: float | None = None  # when another structure paused the player
        self._example_button = pn.widgets.Button(name="Play the example trajectory", sizing_mode="stretch_width",
                                                 css_classes=["elfviz-trajectory-example"])
        self._example_button.on_click(lambda event: self.request_example())
        self._upload = pn.widgets.FileInput(multiple=False, sizing_mode="stretch_width",
                                            css_classes=["elfviz-trajectory-upload"])
        self._upload.param.watch(self._on_upload, ["value", "filename"])
        self._every = pn.widgets.IntInput(name="every n-th frame", value=1, start=1, end=10000, width=120,
                                          css_classes=["elfviz-trajectory-every"])
        self._status = pn.pane.Markdown("", sizing_mode="stretch_width", css_classes=["elfviz-trajectory-status"])
        self._progress = pn.indicators.Progress(value=0, max=1, visible=False, sizing_mode="stretch_width",
                                                css_classes=["elfviz-trajectory-progress"])
        self._player = pn.widgets.Player(start=0, end=1, value=0, interval=PLAY_INTERVAL_MS, loop_policy="loop",
                                         show_loop_controls=False, disabled=True, sizing_mode="stretch_width",
                                         css_classes=["elfviz-trajectory-player"])
        self._player.param.watch(self._on_player, "value")
        self._frame_line = pn.pane.Markdown("", sizing_mode="stretch_width", css_classes=["elfviz-trajectory-frame"])
        self.figure = phi_time_figure(sizing_mode="stretch_width", height=260)
        self._plot = pn.pane.Bokeh(self.figure, sizing_mode="stretch_width", min_height=260,
                                   css_classes=["elfviz-phi-time"])
        self._movie_button = pn.widgets.Button(name="Make a GIF at the current isovalue", disabled=True,
                                               css_classes=["elfviz-trajectory-movie"])
        self._movie_button.on_click(lambda event: self.request_movie())
        self._download = pn.widgets.FileDownload(file=None, filename="trajectory.gif", visible=False,
                                                 button_type="success", label="Download the GIF",
                                                 css_classes=["elfviz-trajectory-download"])
        controls = pn.Column(pn.pane.Markdown("### Trajectory", margin=(0, 10)), self._player, self._frame_line,
                             pn.Row(self._movie_button, self._download), width=440, min_width=300,
                             styles={"flex": "1 1 420px"})
        plot = pn.Column(self._plot, sizing_mode="stretch_width", min_width=300, styles={"flex": "2 1 420px"})
        self.playback = pn.FlexBox(controls, plot, flex_wrap="wrap", align_items="flex-start", gap="16px",
                                   sizing_mode="stretch_width", visible=False,
                                   css_classes=["elfviz-trajectory-playback"])
        self._load_job = Background(self._load_inputs, self._load_compute, self._load_apply, lane="work",
                                    on_error=lambda exc: self._fail(f"Could not read the trajectory: {exc}"),
                                    apply_stale=False)
        self._predict_job = Background(self._predict_inputs, self._predict_compute, self._predict_apply,
                                       lane="model", on_error=self._predict_failed)
        self._movie_job = Background(self._movie_inputs, self._movie_compute, self._movie_apply, lane="work",
                                     on_error=lambda exc: self._fail(f"The GIF could not be made: {exc}"),
                                     apply_stale=False)
        self.state.param.watch(self._on_isovalue, "isovalue")
        self.state.param.watch(self._on_structure, "structure")

    # -- loading
    def request_example(self) -> None:
        """Load the bundled example trajectory (in a worker in a served page)."""
        from ..data import example_trajectory_path

        path = example_trajectory_path()
        self._request({"path": str(path), "data": None, "name": path.name})

    def request_upload(self, data: bytes | None, filename: str) -> None:
        """Load an uploaded trajectory (parsed from memory, in a worker in a served page)."""
        self._request({"path": None, "data": data, "name": str(filename or "upload")})

    def _request(self, job: dict) -> None:
        self._requested = {**job, "every": int(self._every.value or 1), "max_bytes": self._max_upload_bytes}
        self._set_status(f"Reading **{job['name']}** …")
        self._load_job.request()

    def _on_upload(self, *events) -> None:
        filename = self._upload.filename
        if not filename:
            return
        self.request_upload(self._upload.value, filename)
        self._upload.clear()

    def _load_inputs(self) -> dict:
        job, self._requested = self._requested, {**self._requested, "data": None}
        return job

    @staticmethod
    def _load_compute(job: dict) -> dict:
        try:
            trajectory = read_frames(job["data"], job["name"], job["every"], path=job["path"],
                                     max_bytes=job["max_bytes"])
        except ElfvizError as exc:
            return {"error": f"Trajectory refused: {exc}"}
        return {"trajectory": trajectory, "error": None}

    def _load_apply(self, result: dict) -> None:
        if result["error"]:
            self._fail(result["error"])
            return
        self.load(result["trajectory"])

    def load(self, trajectory: Trajectory) -> None:
        """Start playing ``trajectory``: its frames are predicted in order, each playable once ready."""
        self._generation += 1
        self.trajectory = trajectory
        self._shown = None
        self.ready = 0
        self._player.param.update(value=0, start=0, end=max(trajectory.n_frames - 1, 1), disabled=True)
        self._progress.param.update(value=0, max=trajectory.n_frames, visible=True)
        self._download.param.update(visible=False, file=None)
        self._movie_button.disabled = True
        self._update_plot()
        self.playback.visible = True
        shape = "×".join(map(str, grid.grid_shape(trajectory.frames[0])))
        self._set_status(f"**{trajectory.name}**: {trajectory.n_frames} frames, {trajectory.frames[0].sizes['atom']} "
                         f"atoms, grid {shape}. Predicting frame 1 …")
        self._predict_job.request()

    # -- predicting frame by frame (model lane), analysing (work lane)
    def _predict_inputs(self) -> dict | None:
        trajectory = self.trajectory
        if trajectory is None or trajectory.n_ready >= trajectory.n_frames:
            return None
        k = trajectory.n_ready
        return {"k": k, "frame": trajectory.frames[k], "generation": self._generation, "trajectory": trajectory}

    @staticmethod
    def _predict_compute(job: dict | None):
        if job is None:
            return None
        from . import predictions

        prediction, seconds = predictions.predict(job["frame"], shelf="trajectories")
        return Then("work", TrajectoryPanel._analyse_compute, {**job, "prediction": prediction, "seconds": seconds})

    @staticmethod
    def _analyse_compute(job: dict) -> dict:
        from ..trajectory import DEFAULT_ISOVALUE, frame_numbers

        prediction = job["prediction"]
        network, _ = field_analysis(prediction)  # the sweep the state needs when the frame is shown, now cached
        return {**job, "frame_numbers": frame_numbers(prediction, DEFAULT_ISOVALUE, analysis=network)}

    def _predict_apply(self, job: dict | None) -> None:
        if job is None or job["generation"] != self._generation or job["trajectory"] is not self.trajectory:
            return
        trajectory, k = self.trajectory, job["k"]
        trajectory.predictions[k], trajectory.numbers[k] = job["prediction"], job["frame_numbers"]
        self.ready = trajectory.n_ready
        self._progress.value = self.ready
        self._update_plot()
        if k == 0:
            self._player.disabled = False
            self.show_frame(0)
        if self.ready < trajectory.n_frames:
            self._set_status(f"**{trajectory.name}**: {self.ready} of {trajectory.n_frames} frames ready; "
                             f"predicting frame {self.ready + 1} …")
            if in_server_session():
                self._predict_job.request()  # one frame at a time: other sessions' predictions interleave
            return
        self._progress.visible = False
        self._movie_button.disabled = False
        phi = trajectory.column("phi")
        self._set_status(f"**{trajectory.name}**: {trajectory.n_frames} frames ready; φ from {np.nanmin(phi):.3f} to "
                         f"{np.nanmax(phi):.3f}. Press ▶ to play.")

    def predict_all(self) -> None:
        """Predict every frame not predicted yet (outside a served page, where each request runs at once)."""
        while self.trajectory is not None and self.trajectory.n_ready < self.trajectory.n_frames:
            before = self.trajectory.n_ready
            self._predict_job.request()
            if self.trajectory.n_ready == before:
                break

    def _predict_failed(self, exc: BaseException) -> None:
        self._progress.visible = False
        self._fail(f"The model failed on the trajectory: {exc}")

    # -- playing
    def _on_player(self, event) -> None:
        if event.new is None:
            return
        k = int(event.new)
        if self._paused_at is not None and time.monotonic() - self._paused_at < 2 * PLAY_INTERVAL_MS / 1000:
            # the player's timer may have sent its next step before it learnt it was paused
            if self.trajectory is not None and k == (self.frame + 1) % self.trajectory.n_frames:
                return
        self._paused_at = None
        self.show_frame(k)

    def show_frame(self, k: int) -> bool:
        """Show frame ``k`` (0-based) in every view; False (and a status line) if it is not predicted yet."""
        trajectory = self.trajectory
        if trajectory is None or not 0 <= k < trajectory.n_frames:
            return False
        if trajectory.predictions[k] is None:
            self._frame_line.object = (f"Frame {k + 1} of {trajectory.n_frames} is still being predicted "
                                       f"({self.ready} ready).")
            return False
        start = time.perf_counter()
        self._shown = trajectory.frames[k]
        self.frame = k
        self.state.set_structure(self._shown, trajectory.label(k), prediction=trajectory.predictions[k])
        if self._player.value != k:
            self._player.value = k
        self._mark_frame()
        self.step_seconds = time.perf_counter() - start
        return True

    def _mark_frame(self) -> None:
        from ..viz.trajectory_plot import update_phi_time_figure

        trajectory, k = self.trajectory, self.frame
        numbers = trajectory.numbers[k]
        star = numbers["phi_star"]
        self._frame_line.object = (f"**{trajectory.label(k)}** · φ = {numbers['phi']:.3f} · "
                                   f"φ* = {'n/a' if math.isnan(star) else f'{star:.3f}'}")
        update_phi_time_figure(self.figure, current=float(trajectory.times[k]), isovalue=float(self.state.isovalue))

    def _update_plot(self) -> None:
        from ..viz.trajectory_plot import update_phi_time_figure

        trajectory = self.trajectory
        update_phi_time_figure(
            self.figure, trajectory.times, trajectory.column("phi"), trajectory.column("phi_star"),
            frames=[trajectory.frame_index(k) for k in range(trajectory.n_frames)],
            isovalue=float(self.state.isovalue),
            time_label="time (fs)" if trajectory.has_time else "frame (the file records no times)")

    def _on_isovalue(self, event) -> None:
        if self.trajectory is not None:
            from ..viz.trajectory_plot import update_phi_time_figure

            update_phi_time_figure(self.figure, isovalue=float(event.new))

    def _on_structure(self, event) -> None:
        # another structure chosen (an example, an upload): stop playing; the trajectory stays loaded
        if self.trajectory is not None and event.new is not self._shown and self._player.direction != 0:
            self._paused_at = time.monotonic()
            self._player.pause()
            self._frame_line.object = "Paused: another structure is shown. Move the slider or press ▶ to return."

    # -- movie
    def request_movie(self) -> None:
        """Make a GIF of the isosurface at the current isovalue through every frame (in a worker)."""
        if self.trajectory is None or self.trajectory.n_ready < self.trajectory.n_frames:
            return
        self._movie_button.disabled = True
        self._set_status(f"Making the GIF of {self.trajectory.n_frames} frames at ELF = {self.state.isovalue:.2f} …")
        self._movie_job.request()

    def _movie_inputs(self) -> dict:
        return {"trajectory": self.trajectory, "isovalue": float(self.state.isovalue)}

    @staticmethod
    def _movie_compute(job: dict) -> dict:
        return {**job, "gif": movie_bytes(job["trajectory"], job["isovalue"])}

    def _movie_apply(self, job: dict) -> None:
        self._movie_button.disabled = False
        if job["trajectory"] is not self.trajectory:
            return
        stem = Path(self.trajectory.name).stem
        self._download.param.update(file=io.BytesIO(job["gif"]), filename=f"{stem}-elf{job['isovalue']:.2f}.gif",
                                    label=f"Download the GIF ({len(job['gif']) / 2**20:.1f} MiB)", visible=True)
        self._set_status(f"GIF ready: {self.trajectory.n_frames} frames at ELF = {job['isovalue']:.2f}.")

    # -- status
    def _set_status(self, text: str) -> None:
        self.status = text
        self._status.object = text

    def _fail(self, message: str) -> None:
        self._set_status(f"⚠ {message}")
        notify_error(message)

    def release(self) -> None:
        """Drop the trajectory (the page has closed)."""
        self._generation += 1
        self.trajectory, self._shown, self._requested = None, None, {}

    def __panel__(self):
        return pn.Column(
            pn.pane.Markdown("### Trajectory"),
            pn.pane.Markdown("Watch the ELF network through an MD run: play the bundled example (64 H atoms, "
                             "rs 1.47 bohr, 1500 K) or upload a trajectory (extended XYZ with Lattice=, ASE .traj, "
                             "XDATCAR, pw.x output, LAMMPS dump; at most "
                             f"{self._max_upload_bytes / 2**20:.0f} MiB, {MAX_FRAMES} frames)."),
            self._example_button, self._upload, self._every, self._progress, self._status,
            sizing_mode="stretch_width", css_classes=["elfviz-trajectory"])


def movie_bytes(trajectory: Trajectory, isovalue: float, *, fps: float = MOVIE_FPS) -> bytes:
    """A GIF of the isosurface at ``isovalue`` through every frame of a loaded trajectory (captioned with t and φ)."""
    from ..trajectory.records import frame_record, trajectory_table
    from ..viz.movie import write_movie

    if trajectory.n_ready < trajectory.n_frames:
        raise GridError("the trajectory is not predicted yet; wait until every frame is ready")
    records = []
    for frame, prediction, numbers in zip(trajectory.frames, trajectory.predictions, trajectory.numbers, strict=True):
        prediction = prediction.copy(deep=False)  # the cached prediction keeps its attrs
        prediction.attrs = {**prediction.attrs, **{key: frame.attrs[key] for key in FRAME_ATTRS if key in frame.attrs}}
        records.append(frame_record(prediction, numbers))
    table = trajectory_table(records)
    with tempfile.TemporaryDirectory(prefix="elfviz-movie-") as folder:
        path = write_movie(table, Path(folder) / "trajectory.gif", isovalue=isovalue, fps=fps)
        return path.read_bytes()


__all__ = ["MAX_FRAMES", "Trajectory", "TrajectoryPanel", "movie_bytes", "read_frames"]
