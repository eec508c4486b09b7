"""The dashboard in a real browser: loads, draws the 3D view, reacts to the slider and to uploads.

Marked ``browser`` (selected by default; deselect with ``-m "not browser"``).
"""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from dashboard.frames import XYZ

from .conftest import ARTIFACTS, UPDATE_TIMEOUT_MS

pytestmark = pytest.mark.browser

expect = pytest.importorskip("playwright.sync_api").expect


CANVAS_ATTEMPT_MS = 10_000  # one screenshot try; the pane may swap its canvas while a new scene arrives


def canvas_image(page, name: str) -> np.ndarray:
    """Screenshot of the visible vtk.js canvas (saved under test-artifacts/browser/) as an RGB array.

    The locator is resolved afresh on every call and only visible canvases count, so a canvas the pane
    has just replaced (detached or hidden) is never waited on.
    """
    from PIL import Image

    canvas = page.locator(".elfviz-view3d canvas").filter(visible=True).first
    png = canvas.screenshot(path=str(ARTIFACTS / f"{name}.png"), timeout=CANVAS_ATTEMPT_MS)
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB")).astype(float)


def canvas_diagnostics(page, name: str) -> str:
    """What the 3D view's canvases look like now (and a full-page screenshot), for a failure message."""
    page.screenshot(path=str(ARTIFACTS / f"{name}-failure-page.png"), full_page=True)
    canvases = page.locator(".elfviz-view3d canvas")
    described = [f"canvas {i}: visible={canvases.nth(i).is_visible()} box={canvases.nth(i).bounding_box()}"
                 for i in range(canvases.count())]
    return "; ".join(described) or "no canvas inside .elfviz-view3d"


def settled_canvas(page, name: str, previous: np.ndarray | None = None,
                   timeout: float = 120.0) -> np.ndarray:
    """The canvas once it has drawn something (and differs from ``previous`` if given)."""
    from playwright.sync_api import Error as PlaywrightError

    deadline = time.monotonic() + timeout
    while True:
        try:
            image = canvas_image(page, name)
        except PlaywrightError as error:  # no visible canvas right now: the pane is swapping scenes
            if time.monotonic() > deadline:
                raise AssertionError(f"no visible 3D canvas within {timeout:.0f} s "
                                     f"({canvas_diagnostics(page, name)})") from error
            time.sleep(1.0)
            continue
        changed = previous is None or image.shape != previous.shape or np.abs(image - previous).mean() > 0.5
        if (image.std() > 10 and changed) or time.monotonic() > deadline:
            return image
        time.sleep(1.0)


def status_with(page, text: str):
    """The percolation status line if it contains ``text`` (Panel renders it inside a shadow root)."""
    return page.locator(".elfviz-percolation-status").filter(has_text=text).first


def test_page_loads_with_a_non_blank_3d_view(dashboard_page):
    page = dashboard_page
    expect(status_with(page, "ELF ≥ 0.500")).to_be_visible()
    image = settled_canvas(page, "01-initial-canvas")
    page.screenshot(path=str(ARTIFACTS / "01-initial-page.png"), full_page=True)
    assert image.std() > 10, "the 3D canvas is blank"
    assert len(np.unique(image.reshape(-1, 3), axis=0)) > 50  # shaded surfaces, not a flat fill


def test_isovalue_slider_changes_the_picture_and_the_percolation_status(dashboard_page):
    page = dashboard_page
    expect(status_with(page, "does not percolate")).to_be_visible()  # 0.5 is above the networking value
    before = settled_canvas(page, "02-before-slider")
    handle = page.locator(".elfviz-isovalue .noUi-handle").first
    box = handle.bounding_box()
    track = page.locator(".elfviz-isovalue .noUi-base").first.bounding_box()
    x0, y0 = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    target = track["x"] + 0.2 * track["width"]  # isovalue about 0.2: below the networking value
    page.mouse.move(x0, y0)
    page.mouse.down()
    page.mouse.move(target, y0, steps=8)
    page.mouse.up()
    expect(status_with(page, "percolates in 3-D")).to_be_visible(timeout=UPDATE_TIMEOUT_MS)
    expect(status_with(page, "does not percolate")).to_have_count(0)
    after = settled_canvas(page, "02-after-slider", previous=before)
    page.screenshot(path=str(ARTIFACTS / "02-after-slider-page.png"), full_page=True)
    assert np.abs(after - before).mean() > 0.5, "moving the isovalue did not change the 3D view"


def test_bad_upload_shows_an_error_notification(dashboard_page):
    page = dashboard_page
    page.locator("input[type=file]").first.set_input_files(
        files=[{"name": "broken.cube", "mimeType": "application/octet-stream", "buffer": b"not a cube\n"}])
    toast = page.locator(".notyf__toast").filter(has_text="Upload failed")
    expect(toast.first).to_be_visible(timeout=UPDATE_TIMEOUT_MS)
    expect(toast.first).to_contain_text("broken.cube")
    page.screenshot(path=str(ARTIFACTS / "03-bad-upload.png"))
    expect(status_with(page, "ELF ≥")).to_be_visible()


def test_good_upload_updates_the_view(dashboard_page):
    page = dashboard_page
    before = settled_canvas(page, "04-before-upload")
    page.locator("input[type=file]").first.set_input_files(
        files=[{"name": "h2.xyz", "mimeType": "chemical/x-xyz", "buffer": XYZ}])
    expect(page.locator(".elfviz-structure-info").filter(has_text="upload: h2.xyz").first).to_be_visible(
        timeout=UPDATE_TIMEOUT_MS)
    after = settled_canvas(page, "04-after-upload", previous=before)
    page.screenshot(path=str(ARTIFACTS / "04-after-upload-page.png"), full_page=True)
    assert after.std() > 10 and np.abs(after - before).mean() > 0.5
