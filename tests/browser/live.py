"""Helpers for the browser tests: a dashboard page in Chromium next to its server-side ``Dashboard``.

:class:`LivePage` holds the Playwright page, the server-side :class:`elfviz.dashboard.Dashboard` of the same
session (from the conftest's registry) and a :class:`PageMonitor` that records, from the first request on,

- console messages of type ``error`` and uncaught page errors,
- every WebGL context the page creates (an init script wraps ``HTMLCanvasElement.prototype.getContext`` and
  ``OffscreenCanvas.prototype.getContext``) and every ``webglcontextlost`` event,
- every request (HTTP or WebSocket) to a host other than 127.0.0.1 / localhost; those are aborted, so the
  page runs as if the machine were offline.

The 3-D view's contract (elfviz/dashboard/view3d.py): one ``.elfviz-view3d`` component holding one
``<canvas>``; ``window.elfvizScenes[0].summary()`` in the page and ``dashboard.view.sent()`` on the server
describe the meshes drawn and sent, with a ``revision`` counting the scenes the server sent.
"""

from __future__ import annotations

import io
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import numpy as np

ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
SILHOUETTE_GROW_PX = 3
"""Pixels each silhouette grows by before they are compared (line widths and antialiasing differ)."""
LOCAL_HOSTS = {"127.0.0.1", "localhost", "[::1]", "::1"}

PROBE_SCRIPT = """
(() => {
  if (window.__elfvizProbe) return;
  const probe = window.__elfvizProbe = {webgl: 0, lost: 0, restored: 0, types: []};
  const seen = new WeakSet();
  function wrap(proto) {
    if (!proto || !proto.getContext) return;
    const original = proto.getContext;
    proto.getContext = function (type, ...rest) {
      const ctx = original.call(this, type, ...rest);
      if (ctx && /webgl/i.test(String(type)) && !seen.has(ctx)) {
        seen.add(ctx);
        probe.webgl += 1;
        probe.types.push(String(type) + ' on canvas.' + (this.className || '(no class)')
                         + (this.isConnected ? '' : ' (detached)'));
        this.addEventListener('webglcontextlost', () => { probe.lost += 1; });
        this.addEventListener('webglcontextrestored', () => { probe.restored += 1; });
      }
      return ctx;
    };
  }
  wrap(window.HTMLCanvasElement && HTMLCanvasElement.prototype);
  wrap(window.OffscreenCanvas && OffscreenCanvas.prototype);
})();
"""

SUMMARY_JS = """() => {
  const scenes = window.elfvizScenes;
  if (!scenes || !scenes.length || typeof scenes[0].summary !== 'function') return null;
  return scenes[0].summary();
}"""

MARKER_JS = """(name) => {
  const out = [];
  for (const doc of (window.Bokeh && Bokeh.documents) || []) {
    for (const model of doc.all_models) {
      if (model.name === name) out.push({name: model.name, location: model.location, visible: model.visible,
                                         type: model.constructor.__name__});
    }
  }
  return out;
}"""

TEXT_JS = """(el) => {
  const root = el.shadowRoot;
  if (!root) return el.innerText;
  return Array.from(root.children).filter(c => !['STYLE', 'LINK'].includes(c.tagName))
    .map(c => c.innerText).join('\\n');
}"""

GL_JS = "() => { const p = window.__elfvizProbe; return p ? {webgl: p.webgl, lost: p.lost, types: p.types} : null; }"


def is_local(url: str) -> bool:
    """True for URLs that stay on this machine (127.0.0.1, localhost) or never touch the network."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "chrome", "chrome-extension", "devtools"):
        return True
    return (parts.hostname or "") in {h.strip("[]") for h in LOCAL_HOSTS}


@dataclass
class PageMonitor:
    """What a page did that a test may forbid: console errors, page errors, requests leaving the machine."""

    console_errors: list[str] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    external_requests: list[str] = field(default_factory=list)

    def attach(self, context, page) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda error: self.page_errors.append(str(error)))
        page.on("websocket", lambda ws: None if is_local(ws.url) else self.external_requests.append(ws.url))
        context.route(lambda url: not is_local(url), self._block)

    def _on_console(self, message) -> None:
        if message.type == "error":
            location = message.location or {}
            self.console_errors.append(f"{message.text} ({location.get('url', '')}:{location.get('lineNumber', '')})")

    def _block(self, route) -> None:
        self.external_requests.append(route.request.url)
        route.abort("internetdisconnected")

    def problems(self) -> list[str]:
        return ([f"console error: {e}" for e in self.console_errors] + [f"page error: {e}" for e in self.page_errors]
                + [f"request leaving 127.0.0.1: {u}" for u in self.external_requests])


def mesh_counts(meshes: dict) -> dict:
    """``{name: (points, triangles, lines)}`` of a ``summary()`` or ``sent()`` mesh table."""
    return {name: (int(m["points"]), int(m["triangles"]), int(m["lines"])) for name, m in (meshes or {}).items()}


def non_background(image: np.ndarray, threshold: float = 12.0) -> np.ndarray:
    """Mask of pixels that differ from the white background (RGB array, 0-255)."""
    return (255.0 - image[..., :3].astype(float)).max(axis=-1) > threshold


def iou(a: np.ndarray, b: np.ndarray, grow: int = 0) -> float:
    """Intersection over union of two masks, each first grown by ``grow`` pixels (so a 1-px line drawn one
    pixel apart or with another width still overlaps)."""
    if grow:
        from scipy.ndimage import binary_dilation

        a, b = binary_dilation(a, iterations=grow), binary_dilation(b, iterations=grow)
    union = np.logical_or(a, b).sum()
    return float(np.logical_and(a, b).sum() / union) if union else 1.0


def png_array(data: bytes) -> np.ndarray:
    from PIL import Image

    return np.asarray(Image.open(io.BytesIO(data)).convert("RGB"))


class LivePage:
    """A dashboard page in Chromium and the server-side Dashboard of the same Bokeh session."""

    def __init__(self, page, dashboard, monitor: PageMonitor, name: str):
        self.page = page
        self.dashboard = dashboard
        self.monitor = monitor
        self.name = name

    # -- what the browser shows
    def summary(self) -> dict | None:
        """``window.elfvizScenes[0].summary()`` (None before the 3-D view exists)."""
        return self.page.evaluate(SUMMARY_JS)

    def gl(self) -> dict:
        """WebGL contexts created and lost so far in the page."""
        return self.page.evaluate(GL_JS)

    def view_canvases(self):
        return self.page.locator(".elfviz-view3d canvas")

    def text_of(self, css_class: str) -> str:
        """The rendered text of the first element with this class (a Panel pane draws it in a shadow root)."""
        return self.page.locator(f".{css_class}").first.evaluate(TEXT_JS).strip()

    def status_text(self) -> str:
        return self.text_of("elfviz-percolation-status")

    def info_text(self) -> str:
        return self.text_of("elfviz-structure-info")

    def slider_value(self) -> float:
        """The isovalue slider's value as the browser shows it (the handle's aria-valuetext: 2 decimals;
        noUiSlider rounds aria-valuenow to 1)."""
        return float(self.page.locator(".elfviz-isovalue .noUi-handle").first.get_attribute("aria-valuetext"))

    def marker_locations(self, name: str = "elfviz-isovalue-marker") -> list[float]:
        """Locations of the Bokeh models called ``name`` (the isovalue Span of the dimension plot)."""
        return [m["location"] for m in self.page.evaluate(MARKER_JS, name)]

    # -- what the server holds
    def sent(self) -> dict:
        return self.dashboard.view.sent()

    def server_isovalue(self) -> float:
        return float(self.dashboard.state.isovalue)

    # -- actions
    def step_slider(self, steps: int, key: str = "ArrowRight", pause_s: float = 0.0) -> None:
        """Press ``key`` on the isovalue handle ``steps`` times (one 0.01 step each)."""
        handle = self.page.locator(".elfviz-isovalue .noUi-handle").first
        handle.focus()
        for _ in range(steps):
            handle.press(key)
            if pause_s:
                time.sleep(pause_s)

    def example_select(self):
        """The Example <select> (the one whose options are the built-in examples)."""
        return self.page.locator("select").filter(has=self.page.locator("option", has_text="liquid")).first

    def example_labels(self) -> list[str]:
        return [label.strip() for label in self.example_select().locator("option").all_inner_texts()]

    def choose_example(self, label: str) -> None:
        self.example_select().select_option(label=label)

    def toggle_button(self, label: str):
        """A display toggle of the 3-D view (atoms, cell, periodic images): a button of a CheckButtonGroup."""
        return self.page.locator(".elfviz-view3d-toggles button").filter(
            has_text=re.compile(rf"^\s*{re.escape(label)}")).first

    def toggle_active(self, label: str) -> bool:
        return "bk-active" in (self.toggle_button(label).get_attribute("class") or "")

    def open_tab(self, title: str) -> None:
        self.page.locator(".bk-tab", has_text=title).first.click()

    def upload(self, name: str, data: bytes, mime: str = "application/octet-stream") -> None:
        self.page.locator("input[type=file]").first.set_input_files(
            files=[{"name": name, "mimeType": mime, "buffer": data}])

    # -- waiting
    def wait_first_view(self, timeout: float) -> dict:
        """Wait until the 3-D view shows the server's first scene; returns its summary."""
        self.view_canvases().first.wait_for(state="visible", timeout=timeout * 1000)
        return self.wait_settled(timeout=timeout)

    def wait_settled(self, *, isovalue: float | None = None, after_revision: int | None = None,
                     timeout: float = 60.0, stable_s: float = 0.4) -> dict:
        """Wait until browser and server agree and stay so for ``stable_s``.

        Agree means: the server's isovalue is ``isovalue`` (if given), the status line shows the server's
        isovalue, the server builds no scene and the one it sent last is at that isovalue (the status line
        moves before the new meshes are built), and the browser's scene summary has the revision and mesh
        counts of that scene, a revision above ``after_revision`` if given (a scene sent after an action).
        Returns the summary.
        """
        deadline = time.monotonic() + timeout
        last_key, since, why = None, 0.0, "nothing read yet"
        while time.monotonic() < deadline:
            summary, sent = self.summary(), self.sent()
            iso = self.server_isovalue()
            status = self.status_text()
            if isovalue is not None and abs(iso - isovalue) > 1e-9:
                why = f"server isovalue {iso} != {isovalue}"
            elif f"ELF ≥ {iso:.3f}" not in status:
                why = f"status {status!r} does not show the server's isovalue {iso:.3f}"
            elif summary is None:
                why = "no window.elfvizScenes[0].summary() yet"
            elif sent["building"]:
                why = f"the server is still building the scene after revision {sent['revision']}"
            elif sent["isovalue"] is not None and abs(sent["isovalue"] - iso) > 1e-9:
                why = f"the scene sent last (revision {sent['revision']}) is at ELF {sent['isovalue']}, not {iso}"
            elif after_revision is not None and sent["revision"] <= after_revision:
                why = f"the server has sent no scene after revision {after_revision}"
            elif summary["revision"] != sent["revision"]:
                why = f"browser revision {summary['revision']} != server revision {sent['revision']}"
            elif mesh_counts(summary["meshes"]) != mesh_counts(sent["meshes"]):
                why = (f"revision {sent['revision']}: browser meshes {mesh_counts(summary['meshes'])} != sent "
                       f"{mesh_counts(sent['meshes'])}")
            else:
                key = (summary["revision"], iso, status)
                if key != last_key:
                    last_key, since = key, time.monotonic()
                elif time.monotonic() - since >= stable_s:
                    return summary
                why = "settling"
            time.sleep(0.1)
        self.page.screenshot(path=str(ARTIFACTS / f"{self.name}-not-settled.png"), full_page=True)
        raise AssertionError(f"browser and server did not settle within {timeout:.0f} s: {why}")

    # -- pictures
    def canvas_png(self, path: str | None = None) -> bytes:
        canvas = self.view_canvases().first
        return canvas.screenshot(path=path, timeout=30_000)

    def silhouette_iou(self, name: str) -> float:
        """Intersection over union of the non-background pixels: browser canvas vs the server's VTK render of
        the same scene from the camera the browser last reported. Both images go to test-artifacts/."""
        browser = png_array(self.canvas_png(str(ARTIFACTS / f"{name}-browser.png")))
        h, w = browser.shape[:2]
        server_png = self.dashboard.view.png(window_size=(w, h))
        (ARTIFACTS / f"{name}-server.png").write_bytes(server_png)
        server = png_array(server_png)
        assert server.shape[:2] == (h, w), f"server render {server.shape[:2]} vs canvas {(h, w)}"
        return iou(non_background(browser), non_background(server), grow=SILHOUETTE_GROW_PX)


# ----------------------------------------------------------------------------- checks shared by the tests
SILHOUETTE_IOU = 0.8
"""Least intersection over union of the browser's and the server's non-background pixels."""


def assert_clean(live) -> None:
    problems = live.monitor.problems()
    assert not problems, "\n".join(problems)


def assert_one_view(live, baseline_gl: dict) -> None:
    """Exactly one 3-D canvas, and no WebGL context created or lost since ``baseline_gl`` was read."""
    assert live.view_canvases().count() == 1, "the 3-D view should hold exactly one <canvas>"
    gl = live.gl()
    assert gl["webgl"] == baseline_gl["webgl"], f"WebGL contexts created since first load: {gl['types']}"
    assert gl["lost"] == 0, f"{gl['lost']} WebGL context(s) lost"


def assert_marker_at(live, isovalue: float, timeout: float = 30.0) -> None:
    """The dimension plot's isovalue Span (Bokeh model named elfviz-isovalue-marker) sits at ``isovalue``."""
    deadline = time.monotonic() + timeout
    while True:
        locations = live.marker_locations()
        if len(locations) == 1 and abs(locations[0] - isovalue) < 1e-6:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"isovalue marker(s) at {locations}, expected one at {isovalue}")
        time.sleep(0.2)


def rotate_view(live, dx: float = 120, dy: float = 40) -> None:
    """Drag across the 3-D canvas (an orbit gesture; the browser reports the camera when it ends)."""
    box = live.view_canvases().first.bounding_box()
    x, y = box["x"] + box["width"] / 2, box["y"] + box["height"] / 2
    live.page.mouse.move(x, y)
    live.page.mouse.down()
    live.page.mouse.move(x + dx, y + dy, steps=6)
    live.page.mouse.up()


def assert_silhouette(live, name: str, timeout: float = 20.0) -> float:
    """The browser's canvas and the server's render of the same camera cover the same pixels (IoU)."""
    deadline = time.monotonic() + timeout
    while True:  # the camera reaches the server a moment after the gesture ends
        score = live.silhouette_iou(name)
        if score > SILHOUETTE_IOU or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert score > SILHOUETTE_IOU, (f"{name}: silhouette IoU {score:.3f} (browser vs server render, see "
                                    f"test-artifacts/browser/{name}-*.png)")
    return score


def assert_consistent(live, isovalue: float, name: str, *, silhouette: bool = True,
                      after_revision: int | None = None) -> dict:
    """Browser and server agree at ``isovalue``: status, meshes (same revision), slider, marker, picture."""
    summary = live.wait_settled(isovalue=isovalue, after_revision=after_revision, timeout=60)
    sent = live.sent()
    assert f"ELF ≥ {isovalue:.3f}" in live.status_text()
    assert abs(live.slider_value() - isovalue) < 1e-6, f"slider at {live.slider_value()}, state at {isovalue}"
    assert sent["isovalue"] is not None and abs(sent["isovalue"] - isovalue) < 1e-9, sent["isovalue"]
    assert summary["revision"] == sent["revision"] or mesh_counts(summary["meshes"]) == mesh_counts(
        sent["meshes"]), (f"the server sent revision {sent['revision']} with meshes {mesh_counts(sent['meshes'])} "
                          f"after the browser settled on revision {summary['revision']} with "
                          f"{mesh_counts(summary['meshes'])}")
    assert summary["meshes"], "the 3-D view draws no mesh"
    assert_marker_at(live, isovalue)
    if silhouette:
        assert_silhouette(live, name)
    return summary
