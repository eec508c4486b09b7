"""The demo tour, scripted: what a visitor does in the first minutes, twice in a row, with zero console errors.

Each step checks that the page and the server-side dashboard agree (tests/browser/live.py) and saves a
numbered screenshot, test-artifacts/browser/demo-NN-<step>.png (the second run: demo-NN-<step>-run2.png),
so a person can look at the tour without running the dashboard.
"""

from __future__ import annotations

import time

import pytest

from .live import ARTIFACTS, assert_clean, assert_consistent, assert_one_view

pytestmark = pytest.mark.browser

expect = pytest.importorskip("playwright.sync_api").expect

HDF5_SIGNATURE = b"\x89HDF\r\n\x1a\n"  # netCDF-4 files are HDF5 files


class Tour:
    """Numbered screenshots of one run of the tour."""

    def __init__(self, live, run: int):
        self.live, self.run, self.n = live, run, 0

    def shot(self, name: str) -> None:
        self.n += 1
        suffix = "" if self.run == 1 else f"-run{self.run}"
        self.live.page.screenshot(path=str(ARTIFACTS / f"demo-{self.n:02d}-{name}{suffix}.png"))


def toggle(live, label: str, on: bool) -> None:
    """Set a display toggle of the 3-D view and wait for the new scene."""
    if live.toggle_active(label) == on:
        return
    revision = live.sent()["revision"]
    live.toggle_button(label).click()
    assert_consistent(live, live.server_isovalue(), f"demo-toggle-{label.split()[0]}", silhouette=False,
                      after_revision=revision)
    assert live.toggle_active(label) == on


def choose(live, label: str) -> None:
    revision = live.sent()["revision"]
    live.choose_example(label)
    key = label.split("[")[-1].rstrip("]") if "[" in label else label.split()[0]
    expect(live.page.locator(".elfviz-structure-info").filter(has_text=key).first).to_be_visible()
    assert_consistent(live, live.server_isovalue(), f"demo-example-{key}", silhouette=False,
                      after_revision=revision)


@pytest.mark.parametrize("run", [1, 2])
def test_demo_tour(open_dashboard, run):
    start = time.perf_counter()
    live = open_dashboard()
    tour = Tour(live, run)
    page = live.page
    baseline_gl = live.gl()
    assert_consistent(live, 0.5, f"demo-first-view-run{run}")
    tour.shot("first-view")

    # the isovalue down through the networking value, a step at a time
    live.step_slider(25, "ArrowLeft", pause_s=0.05)
    assert_consistent(live, 0.25, f"demo-slider-run{run}", silhouette=False)
    expect(live.page.locator(".elfviz-percolation-status").filter(has_text="percolates").first).to_be_visible()
    tour.shot("slider-0.25-percolates")

    # display toggles
    toggle(live, "atoms", False)
    tour.shot("atoms-off")
    toggle(live, "cell", False)
    tour.shot("cell-off")
    toggle(live, "periodic images", True)
    tour.shot("periodic-images")
    toggle(live, "periodic images", False)
    toggle(live, "atoms", True)
    toggle(live, "cell", True)

    # examples: the other liquid density, then a crystal
    labels = live.example_labels()
    liquids = [label for label in labels if label.startswith("liquid")]
    crystals = [label for label in labels if "crystal" in label]
    choose(live, liquids[-1])
    tour.shot("liquid-low-density")
    choose(live, next((c for c in crystals if c.startswith("C2c-24")), crystals[0]))
    tour.shot("crystal")
    choose(live, liquids[0])  # back to a frame with a reference ELF, for the residuals

    # analysis tabs
    live.open_tab("Slices")
    page.locator(".elfviz-slice-plane button", has_text="bc").first.click()
    time.sleep(1.5)
    page.locator(".elfviz-slice").first.scroll_into_view_if_needed()
    tour.shot("slices-bc")
    live.open_tab("Residuals & spectra")
    expect(page.locator(".elfviz-residual-metrics").filter(has_text="R²").first).to_be_visible()
    time.sleep(1.0)
    page.locator(".elfviz-residual-metrics").first.scroll_into_view_if_needed()
    tour.shot("residuals")
    canvases = page.locator(".bk-Canvas").count()
    button = page.locator("button", has_text="Residual spectra over the bundled test frames").first
    button.scroll_into_view_if_needed()
    clicked = time.perf_counter()
    button.click()
    deadline = time.monotonic() + 60
    while page.locator(".bk-Canvas").count() <= canvases and time.monotonic() < deadline:
        time.sleep(0.2)
    assert page.locator(".bk-Canvas").count() > canvases, "the test-frame spectra plot did not appear"
    print(f"\ntest-frame spectra (tiny collection): {time.perf_counter() - clicked:.1f} s")
    time.sleep(1.0)
    page.locator(".bk-Canvas").last.scroll_into_view_if_needed()
    tour.shot("test-frame-spectra")

    # export: the shown ELF as netCDF
    download_button = page.locator("button", has_text="netCDF (.nc)").first
    download_button.scroll_into_view_if_needed()
    with page.expect_download(timeout=60_000) as download_info:
        download_button.click()
    download = download_info.value
    target = ARTIFACTS / f"demo-export-run{run}-{download.suggested_filename}"
    download.save_as(str(target))
    assert download.suggested_filename.endswith(".nc"), download.suggested_filename
    assert target.read_bytes()[:8] == HDF5_SIGNATURE, "the netCDF download is not a netCDF-4/HDF5 file"
    tour.shot("export")

    assert_one_view(live, baseline_gl)
    assert_clean(live)
    print(f"demo run {run}: {time.perf_counter() - start:.1f} s")
