"""A trajectory in the dashboard, in a real browser: load, step, play, the views following the frame, phi(t),
the isovalue line, the GIF, an upload and a refused one.

Marked ``browser``. The server runs the promolecular stand-in model (tests/browser/conftest.py), so the 24
frames of the bundled example are ready in seconds; every check compares what the page shows with the
server-side dashboard of the same session.
"""

from __future__ import annotations

import io
import time

import ase.io
import numpy as np
import pytest
from ase import Atoms

from .live import ARTIFACTS, MARKER_JS, assert_clean, assert_consistent, assert_one_view

pytestmark = pytest.mark.browser

expect = pytest.importorskip("playwright.sync_api").expect

SOURCE_JS = """(name) => {
  for (const doc of (window.Bokeh && Bokeh.documents) || []) {
    for (const model of doc.all_models) {
      if (model.name === name) {
        const data = {};
        const entries = model.data instanceof Map ? model.data.entries() : Object.entries(model.data);
        for (const [key, value] of entries) data[key] = Array.from(value);
        return data;
      }
    }
  }
  return null;
}"""


def player_button(live, kind: str):
    """A button of the trajectory's player (kinds: first, previous, reverse, pause, play, next, last)."""
    return live.page.locator(f".elfviz-trajectory-player button.{kind}").first


def wait_for(condition, timeout: float, what: str, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"{what} within {timeout:.0f} s")


def frame_marker(live) -> float | None:
    spans = live.page.evaluate(MARKER_JS, "elfviz-frame-marker")
    return spans[0]["location"] if len(spans) == 1 and spans[0]["visible"] else None


def assert_page_shows_frame(live, k: int) -> None:
    """The page and the server agree on frame ``k``: the server's state holds it, and the frame line, the
    structure info, the phi(t) marker and the 3-D view (same revision and meshes as sent) show it."""
    panel = live.dashboard.trajectory
    trajectory = panel.trajectory
    wait_for(lambda: live.dashboard.state.structure is trajectory.frames[k], 30, f"the server to show frame {k}")
    label = trajectory.label(k)
    expect(live.page.locator(".elfviz-trajectory-frame").filter(has_text=label).first).to_be_visible(timeout=30_000)
    expect(live.page.locator(".elfviz-structure-info").filter(has_text=label).first).to_be_visible(timeout=30_000)
    wait_for(lambda: frame_marker(live) == pytest.approx(float(trajectory.times[k])), 30,
             f"the phi(t) marker to reach t = {trajectory.times[k]}")
    numbers = trajectory.numbers[k]
    assert f"φ = {numbers['phi']:.3f}" in live.text_of("elfviz-trajectory-frame")
    # the network panel analyses this frame's field
    assert live.dashboard.state.network.phi == pytest.approx(numbers["phi"], abs=1e-9)
    assert_consistent(live, live.server_isovalue(), f"trajectory-frame-{k}", silhouette=False)


def test_a_newcomer_plays_the_example_trajectory_and_every_view_follows_the_frame(open_dashboard):
    live = open_dashboard({"width": 1400, "height": 1000})
    baseline_gl = live.gl()
    assert not live.page.locator(".elfviz-trajectory-playback").first.is_visible()

    # load: frames are predicted one by one, the first is shown as soon as it is ready
    live.page.locator(".elfviz-trajectory-example button").first.click()
    status = live.page.locator(".elfviz-trajectory-status").filter(has_text="24 frames ready; φ from")
    expect(status.first).to_be_visible(timeout=120_000)
    expect(live.page.locator(".elfviz-trajectory-playback").first).to_be_visible()
    panel = live.dashboard.trajectory
    trajectory = panel.trajectory
    assert trajectory.n_frames == 24 and trajectory.has_time
    assert_page_shows_frame(live, 0)
    live.page.screenshot(path=str(ARTIFACTS / "trajectory-loaded.png"))

    # phi(t) in the page: the server's numbers for all 24 frames, times 0 ... 57.5 fs
    data = live.page.evaluate(SOURCE_JS, "elfviz-phi-time")
    np.testing.assert_allclose(data["time"], trajectory.times)
    np.testing.assert_allclose(data["phi"], trajectory.column("phi"), atol=1e-12)
    np.testing.assert_allclose(data["phi_star"], trajectory.column("phi_star"), atol=1e-12)
    assert np.ptp(data["phi"]) > 0.01, "phi(t) is flat: the frames do not differ"

    # one step forward with the player's 'next' button: a new frame, a new scene
    revision = live.sent()["revision"]
    meshes_before = live.summary()["meshes"]
    player_button(live, "next").click()
    assert_page_shows_frame(live, 1)
    assert live.sent()["revision"] > revision
    assert live.summary()["meshes"] != meshes_before, "the 3-D view kept frame 0's geometry"
    assert panel.step_seconds < 1.0, f"a step to a ready frame took {panel.step_seconds:.2f} s on the server"

    # play for a few seconds, then pause: the frame moved on and every view shows where it stopped
    player_button(live, "play").click()
    wait_for(lambda: panel.frame >= 4, 30, "playing to reach frame 4")
    player_button(live, "pause").click()
    time.sleep(1.0)
    stopped = panel.frame
    assert_page_shows_frame(live, stopped)
    live.page.screenshot(path=str(ARTIFACTS / "trajectory-paused.png"))

    # the isovalue: the dashed line of phi(t) follows the slider
    live.step_slider(10, "ArrowRight")
    wait_for(lambda: abs(live.server_isovalue() - 0.6) < 1e-9, 30, "the isovalue to reach 0.60")
    wait_for(lambda: [s["location"] for s in live.page.evaluate(MARKER_JS, "elfviz-trajectory-isovalue")] == [0.6], 30,
             "the isovalue line of phi(t) to move to 0.60")
    assert_consistent(live, 0.6, "trajectory-isovalue", silhouette=False)

    # a GIF at that isovalue, downloaded as a person would
    live.page.locator(".elfviz-trajectory-movie button").first.click()
    download_button = live.page.locator(".elfviz-trajectory-download").first
    expect(download_button).to_be_visible(timeout=180_000)
    with live.page.expect_download(timeout=60_000) as info:
        download_button.locator("a, button").first.click()
    download = info.value
    assert download.suggested_filename == "trajectory-rs1.47-elf0.60.gif"
    path = ARTIFACTS / "trajectory.gif"
    download.save_as(str(path))
    from PIL import Image

    with Image.open(path) as gif:
        assert gif.format == "GIF" and gif.n_frames == 24

    # another structure while playing: the player stops, the example is shown
    player_button(live, "play").click()
    wait_for(lambda: panel._player.direction != 0, 10, "the player to start")
    label = [lb for lb in live.example_labels() if "crystal" in lb][0]
    live.choose_example(label)
    key = label.split("[")[-1].rstrip("]") if "[" in label else label.split()[0]
    expect(live.page.locator(".elfviz-structure-info").filter(has_text=key).first).to_be_visible(timeout=60_000)
    wait_for(lambda: panel._player.direction == 0, 10, "the player to pause")
    time.sleep(1.5)
    assert key in live.info_text(), "the trajectory took the view back from the chosen example"
    assert_one_view(live, baseline_gl)
    assert_clean(live)


def _trajectory_xyz(symbols: str = "H4", frames: int = 5) -> bytes:
    buffer = io.StringIO()
    images = []
    for k in range(frames):
        d = 0.74 + 0.15 * k
        atoms = Atoms(symbols, [[0.5, 1.0, 1.0], [0.5 + d, 1.0, 1.0], [1.0, 3.0, 3.0], [1.74, 3.0, 3.0]],
                      cell=[4.0] * 3, pbc=True)
        atoms.info["time"] = 0.5 * k
        images.append(atoms)
    ase.io.write(buffer, images, format="extxyz")
    return buffer.getvalue().encode()


def test_an_uploaded_trajectory_plays_and_a_bad_one_is_refused_with_the_page_unchanged(open_dashboard):
    live = open_dashboard()
    panel = live.dashboard.trajectory
    upload = live.page.locator(".elfviz-trajectory-upload input[type=file]").first

    # a refused upload: a toast names the file and the problem, nothing else changes
    info_before, revision = live.info_text(), live.sent()["revision"]
    upload.set_input_files(files=[{"name": "lih.xyz", "mimeType": "chemical/x-xyz",
                                   "buffer": _trajectory_xyz("LiH3")}])
    toast = live.page.locator(".notyf__toast").filter(has_text="lih.xyz").first
    expect(toast).to_be_visible(timeout=30_000)
    assert "Li" in toast.inner_text() and "hydrogen" in toast.inner_text().lower()
    time.sleep(1.5)
    assert live.info_text() == info_before and live.sent()["revision"] == revision and panel.trajectory is None

    # a good one: 5 frames of a stretching molecule, from memory
    upload.set_input_files(files=[{"name": "stretch.xyz", "mimeType": "chemical/x-xyz",
                                   "buffer": _trajectory_xyz()}])
    expect(live.page.locator(".elfviz-trajectory-status").filter(has_text="5 frames ready").first).to_be_visible(
        timeout=60_000)
    assert panel.trajectory.name == "stretch.xyz" and panel.trajectory.n_frames == 5
    assert_page_shows_frame(live, 0)
    player_button(live, "last").click()
    assert_page_shows_frame(live, 4)
    live.page.screenshot(path=str(ARTIFACTS / "trajectory-upload.png"))
    assert_clean(live)
