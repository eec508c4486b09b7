"""The trajectory panel outside a server: loading, frame by frame predictions, stepping, phi(t), refusals, GIF.

The browser side (player buttons, the page following the frame, download) is in
tests/browser/test_trajectory_browser.py.
"""

from __future__ import annotations

import io
import math

import ase.io
import numpy as np
import pytest
from ase import Atoms

from elfviz import grid
from elfviz.errors import FileFormatError, SpeciesError, StructureError

pn = pytest.importorskip("panel")

from elfviz.dashboard import Dashboard, predictions  # noqa: E402
from elfviz.dashboard.trajectory_panel import MAX_FRAMES, movie_bytes, read_frames  # noqa: E402
from elfviz.viz.trajectory_plot import frame_marker, isovalue_line  # noqa: E402


def xyz_bytes(bonds=(0.74, 0.9, 1.1, 1.4, 1.8), symbols="H4", times=True) -> bytes:
    images = []
    for k, d in enumerate(bonds):
        atoms = Atoms(symbols, [[0.5, 1.0, 1.0], [0.5 + d, 1.0, 1.0], [1.0, 3.0, 3.0], [1.74, 3.0, 3.0]],
                      cell=[4.0] * 3, pbc=True)
        if times:
            atoms.info["time"] = 2.0 * k
        images.append(atoms)
    buffer = io.StringIO()
    ase.io.write(buffer, images, format="extxyz")
    return buffer.getvalue().encode()


@pytest.fixture
def dashboard(collection, predictor):
    return Dashboard(collection=collection)


def test_the_example_trajectory_is_predicted_frame_by_frame_and_every_view_follows_a_step(dashboard):
    panel = dashboard.trajectory
    panel.request_example()
    trajectory = panel.trajectory
    assert trajectory.n_frames == 24 and trajectory.has_time and panel.ready >= 1
    assert dashboard.state.structure is trajectory.frames[0]  # the first frame shows as soon as it is ready
    shapes = {grid.grid_shape(f) for f in trajectory.frames}
    assert shapes == {(45, 45, 45)}  # one grid for every frame (0.12 Å spacing of the 5.0 Å cell)
    panel.predict_all()
    assert panel.ready == 24 and "24 frames ready" in panel.status
    np.testing.assert_allclose(trajectory.times, 2.5 * np.arange(24))

    # a step: structure, label, prediction, network, 3-D scene and the phi(t) marker change together
    scene_before = dashboard.view.scene
    assert panel.show_frame(7)
    state = dashboard.state
    assert state.structure is trajectory.frames[7] and state.prediction is trajectory.predictions[7]
    assert state.label == "trajectory-rs1.47.xyz · frame 7 · t = 17.5 fs"
    assert state.network.phi == pytest.approx(trajectory.numbers[7]["phi"], abs=1e-12)
    assert dashboard.view.scene is not scene_before
    assert frame_marker(panel.figure).location == 17.5 and frame_marker(panel.figure).visible
    assert "frame 7" in dashboard.structure._info.object and panel._player.value == 7

    # phi(t) holds every frame's numbers; the isovalue line follows the state
    data = panel.figure.select_one({"name": "elfviz-phi-time"}).data
    np.testing.assert_allclose(data["phi"], trajectory.column("phi"))
    assert np.all(np.isfinite(data["phi"])) and np.ptp(data["phi"]) > 0.01
    state.isovalue = 0.7
    assert isovalue_line(panel.figure).location == 0.7


def test_a_step_reuses_the_cached_prediction_and_sweep(dashboard):
    panel = dashboard.trajectory
    panel.request_example()
    panel.predict_all()
    calls = predictions.cache_stats("trajectories")["misses"]
    for k in (3, 4, 3):
        assert panel.show_frame(k)
    assert predictions.cache_stats("trajectories")["misses"] == calls  # no frame predicted again
    # trajectory frames live apart from the single structures' predictions
    assert predictions.cached_prediction(panel.trajectory.frames[3], shelf="trajectories") is not None
    assert predictions.cached_prediction(panel.trajectory.frames[3]) is None


def test_a_frame_not_predicted_yet_is_not_shown(dashboard):
    panel = dashboard.trajectory
    panel.request_example()  # outside a server only the first frame is predicted until predict_all()
    assert panel.ready == 1
    shown = dashboard.state.structure
    assert not panel.show_frame(5)
    assert dashboard.state.structure is shown and "still being predicted" in panel._frame_line.object


def test_an_upload_is_read_from_memory_with_every_nth_frame(dashboard):
    panel = dashboard.trajectory
    panel._every.value = 2
    panel.request_upload(xyz_bytes(), "stretch.xyz")
    panel.predict_all()
    trajectory = panel.trajectory
    assert trajectory.name == "stretch.xyz" and trajectory.n_frames == 3
    assert [trajectory.frame_index(k) for k in range(3)] == [0, 2, 4]
    np.testing.assert_allclose(trajectory.times, [0.0, 4.0, 8.0])
    phi_star = trajectory.column("phi_star")
    assert np.all(np.isfinite(phi_star))


def test_a_trajectory_without_times_is_plotted_against_the_frame(dashboard):
    panel = dashboard.trajectory
    panel.request_upload(xyz_bytes(times=False), "untimed.xyz")
    panel.predict_all()
    assert not panel.trajectory.has_time
    assert panel.figure.xaxis[0].axis_label.startswith("frame")
    assert panel.trajectory.label(1).endswith("frame 2 of 5")


@pytest.mark.parametrize("data,name,error,words", [
    (b"", "empty.xyz", FileFormatError, "empty"),
    (b"\x00\x01garbage\xff" * 10, "garbage.xyz", FileFormatError, "could not be read"),
    (xyz_bytes(symbols="LiH3"), "lih.xyz", SpeciesError, "contains Li"),
    (b"hello", "notes.txt", FileFormatError, "cannot tell the trajectory format"),
])
def test_bad_uploads_are_refused_and_leave_the_dashboard_as_it_was(dashboard, data, name, error, words):
    with pytest.raises(error, match=words):
        read_frames(data, name, 1)
    panel = dashboard.trajectory
    shown = dashboard.state.structure
    panel.request_upload(data, name)
    assert panel.trajectory is None and dashboard.state.structure is shown
    assert "Trajectory refused" in panel.status and name in panel.status


def test_changing_atom_counts_oversized_and_too_long_uploads_say_what_to_do():
    two = Atoms("H2", [[0, 0, 0], [0.74, 0, 0]], cell=[4.0] * 3, pbc=True)
    four = Atoms("H4", [[0, 0, 0], [0.74, 0, 0], [2, 2, 2], [2.74, 2, 2]], cell=[4.0] * 3, pbc=True)
    buffer = io.StringIO()
    ase.io.write(buffer, [two, four], format="extxyz")
    with pytest.raises(StructureError, match="has 4 atoms but frame 0 has 2"):
        read_frames(buffer.getvalue().encode(), "mixed.xyz", 1)
    with pytest.raises(FileFormatError, match="above the 0 MiB upload limit"):
        read_frames(xyz_bytes(), "big.xyz", 1, max_bytes=10)
    long = xyz_bytes(bonds=[0.74 + 0.001 * k for k in range(MAX_FRAMES + 1)])
    with pytest.raises(FileFormatError, match=f"more than {MAX_FRAMES} frames at every 1.*larger 'every'"):
        read_frames(long, "long.xyz", 1)
    assert read_frames(long, "long.xyz", 2).n_frames == math.ceil((MAX_FRAMES + 1) / 2)


def test_choosing_another_structure_pauses_the_player_and_keeps_the_trajectory(dashboard):
    panel = dashboard.trajectory
    panel.request_example()
    panel.predict_all()
    panel._player.direction = 1  # playing
    key = list(dashboard.structure.examples)[-1]
    dashboard.structure.request_example(key)
    assert panel._player.direction == 0 and panel.trajectory is not None
    assert dashboard.state.structure is not panel.trajectory.frames[panel.frame]
    assert panel.show_frame(2) and dashboard.state.structure is panel.trajectory.frames[2]


def test_the_gif_has_one_captioned_picture_per_frame(dashboard):
    from PIL import Image

    panel = dashboard.trajectory
    panel.request_upload(xyz_bytes(), "stretch.xyz")
    with pytest.raises(Exception, match="not predicted yet"):
        movie_bytes(panel.trajectory, 0.6)
    panel.predict_all()
    panel.request_movie()
    assert panel._download.visible and panel._download.filename == "stretch-elf0.50.gif"
    gif = Image.open(io.BytesIO(panel._download.file.getvalue()))
    assert gif.format == "GIF" and gif.n_frames == 5


def test_release_drops_the_trajectory(dashboard):
    panel = dashboard.trajectory
    panel.request_example()
    dashboard.release()
    assert panel.trajectory is None
