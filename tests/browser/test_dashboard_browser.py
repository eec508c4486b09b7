"""The dashboard in a real browser, checked against the server-side dashboard of the same session.

Marked ``browser`` (selected by default; deselect with ``-m "not browser"``). Every page runs offline
(requests leaving 127.0.0.1 are aborted and counted) and every test ends with no console error, no page
error and no such request. See tests/browser/live.py for the probes and the 3-D view's contract.
"""

from __future__ import annotations

import io
import time

import numpy as np
import pytest
from dashboard.frames import XYZ

from .live import (
    ARTIFACTS,
    assert_clean,
    assert_consistent,
    assert_one_view,
    assert_silhouette,
    mesh_counts,
    non_background,
    png_array,
    rotate_view,
)

pytestmark = pytest.mark.browser

expect = pytest.importorskip("playwright.sync_api").expect

STEP = 0.01
"""One keyboard step of the isovalue slider."""

# ----------------------------------------------------------------------------- slider and examples
def test_slider_steps_and_example_switches_keep_one_webgl_view_in_step_with_the_server(open_dashboard):
    live = open_dashboard()
    baseline_gl = live.gl()
    assert_one_view(live, baseline_gl)
    first = assert_consistent(live, 0.5, "steps-00-first-view")
    image = png_array(live.canvas_png(str(ARTIFACTS / "steps-00-canvas.png"))).astype(float)
    assert image.std() > 10 and len(np.unique(image.reshape(-1, 3), axis=0)) > 50, "the 3-D canvas looks blank"

    # one step: the status line follows, then the meshes (a new revision)
    live.step_slider(1, "ArrowLeft")
    expect(live.page.locator(".elfviz-percolation-status").filter(has_text="ELF ≥ 0.490").first).to_be_visible()
    after_one = assert_consistent(live, 0.49, "steps-01-one-step", silhouette=False,
                                  after_revision=first["revision"])
    assert after_one["renders"] > first["renders"]

    # 29 rapid steps (they may coalesce: the latest value wins), then a rotation. A lost step is recorded
    # and the test goes on from where the page settled, so one run reports every problem.
    failures = []
    live.step_slider(29, "ArrowLeft")
    isovalue = round(0.49 - 29 * STEP, 2)
    try:
        live.wait_settled(isovalue=isovalue, timeout=30)
    except AssertionError as error:
        live.wait_settled(timeout=30)
        failures.append(f"after 30 steps from 0.50: {error}; slider at {live.slider_value()}")
        isovalue = live.server_isovalue()
    assert_consistent(live, isovalue, "steps-30-rapid", silhouette=False)
    rotate_view(live)
    assert_silhouette(live, "steps-30-rotated")
    assert_one_view(live, baseline_gl)

    # every bundled example (liquid frames and crystals) at the same isovalue
    labels = live.example_labels()
    assert any("crystal" in label for label in labels) and len(labels) >= 3, labels
    for i, label in enumerate(labels[1:] + labels[:1], start=1):
        revision = live.sent()["revision"]
        live.choose_example(label)
        key = label.split("[")[-1].rstrip("]") if "[" in label else label.split()[0]
        expect(live.page.locator(".elfviz-structure-info").filter(has_text=key).first).to_be_visible()
        assert_consistent(live, isovalue, f"steps-example-{i}", after_revision=revision)
        assert_one_view(live, baseline_gl)
    assert_clean(live)
    assert not failures, "\n".join(failures)


# ----------------------------------------------------------------------------- layout
VIEWPORTS = [(1400, 1000), (1024, 700), (600, 900)]
TABS = ["Slices", "Residuals & spectra"]
VIEW_MIN_WIDTH = 300


def plot_boxes(live) -> list[tuple[str, dict]]:
    """Bounding boxes of the visible plots: Bokeh figures (.bk-Canvas) and the 3-D canvas."""
    boxes = []
    for selector in (".bk-Canvas", ".elfviz-view3d canvas"):
        elements = live.page.locator(selector)
        for i in range(elements.count()):
            element = elements.nth(i)
            box = element.bounding_box() if element.is_visible() else None
            if box and box["width"] > 0 and box["height"] > 0:
                boxes.append((f"{selector}[{i}]", box))
    return boxes


@pytest.mark.parametrize("width,height", VIEWPORTS, ids=[f"{w}x{h}" for w, h in VIEWPORTS])
def test_every_plot_fits_the_viewport_width(open_dashboard, width, height):
    live = open_dashboard(viewport={"width": width, "height": height})
    page = live.page
    problems = []
    for tab in TABS:
        live.open_tab(tab)
        time.sleep(1.5)  # Bokeh lays the newly shown tab out (the hidden tab renders only when opened) ...
        deadline = time.monotonic() + 20.0
        boxes = plot_boxes(live)
        while len(boxes) < 3 and time.monotonic() < deadline:  # ... later on a loaded machine
            time.sleep(0.5)
            boxes = plot_boxes(live)
        page.screenshot(path=str(ARTIFACTS / f"layout-{width}x{height}-{tab.split()[0]}.png"), full_page=True)
        assert len(boxes) >= 3, f"{tab}: only {len(boxes)} visible plots: {boxes}"
        for name, box in boxes:
            if box["x"] < -1 or box["x"] + box["width"] > width + 1:
                problems.append(f"{tab}: {name} spans x = {box['x']:.0f}..{box['x'] + box['width']:.0f} px, "
                                f"outside the {width} px viewport")
        view = live.view_canvases().first.bounding_box()
        if view is None or view["width"] < VIEW_MIN_WIDTH:
            problems.append(f"{tab}: 3-D view {view and round(view['width'])} px wide (< {VIEW_MIN_WIDTH})")
    scroll = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
    if scroll[0] > scroll[1] + 1:
        problems.append(f"the page scrolls sideways: {scroll[0]} px of content in a {scroll[1]} px window")
    assert not problems, "\n".join(problems)
    assert_clean(live)


# ----------------------------------------------------------------------------- uploads
def nacl_cif() -> bytes:
    """A rock-salt NaCl cell as CIF bytes (not hydrogen: the model cannot predict it)."""
    from ase.build import bulk
    from ase.io import write

    buffer = io.BytesIO()
    write(buffer, bulk("NaCl", "rocksalt", a=5.64), format="cif")
    return buffer.getvalue()


BAD_UPLOADS = [  # (file name, content, words the error toast must contain)
    ("empty.xyz", b"", ["empty.xyz", "empty"]),
    ("junk.cube", bytes(range(256)) * 8, ["junk.cube", "cube"]),
    ("nacl.cif", None, ["nacl.cif", "hydrogen"]),
]


def page_state(live) -> dict:
    summary = live.summary()
    return {"info": live.info_text(), "status": live.status_text(), "revision": summary["revision"],
            "meshes": mesh_counts(summary["meshes"]), "sent": live.sent()["revision"]}


def test_bad_uploads_show_an_error_and_leave_the_page_as_it_was(open_dashboard):
    live = open_dashboard()
    failures = []
    for name, data, words in BAD_UPLOADS:
        before = page_state(live)
        live.upload(name, nacl_cif() if data is None else data)
        toast = live.page.locator(".notyf__toast").filter(has_text=name).first
        try:
            expect(toast).to_be_visible(timeout=30_000)
        except AssertionError:
            failures.append(f"{name}: no error toast naming the file")
            continue
        text = toast.inner_text()
        live.page.screenshot(path=str(ARTIFACTS / f"upload-bad-{name}.png"))
        missing = [w for w in words if w.lower() not in text.lower()]
        if missing:
            failures.append(f"{name}: the toast {text!r} does not say {missing}")
        time.sleep(2.0)  # anything the upload changed would reach the page by now
        after = page_state(live)
        changed = {k: (before[k], after[k]) for k in before if before[k] != after[k]}
        if changed:
            failures.append(f"{name}: the page changed after a rejected upload: {changed}")
    assert not failures, "\n".join(failures)
    assert_clean(live)


def test_good_upload_changes_info_status_and_view_together(open_dashboard):
    live = open_dashboard()
    baseline_gl = live.gl()
    before = page_state(live)
    live.upload("h2.xyz", XYZ, "chemical/x-xyz")
    expect(live.page.locator(".elfviz-structure-info").filter(has_text="upload: h2.xyz").first).to_be_visible()
    summary = assert_consistent(live, live.server_isovalue(), "upload-good", after_revision=before["sent"])
    after = page_state(live)
    assert after["info"] != before["info"] and "2 atoms" in after["info"], after["info"]
    assert summary["revision"] > before["revision"]
    assert after["meshes"] != before["meshes"], "the 3-D view still shows the previous structure's meshes"
    live.page.screenshot(path=str(ARTIFACTS / "upload-good-page.png"), full_page=True)
    assert not live.page.locator(".notyf__toast").filter(has_text="h2.xyz").count()
    assert_one_view(live, baseline_gl)
    assert_clean(live)


def test_silhouette_helper_sees_shapes():
    """The silhouette comparison itself: identical masks score 1, disjoint ones 0."""
    from .live import iou

    a = np.full((10, 10, 3), 255.0)
    a[2:5, 2:5] = 0
    b = np.full((10, 10, 3), 255.0)
    b[6:9, 6:9] = 0
    assert iou(non_background(a), non_background(a)) == 1.0
    assert iou(non_background(a), non_background(b)) == 0.0
