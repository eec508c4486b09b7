"""A live dashboard server and headless Chromium pages for the browser tests.

The server runs ``build_app`` (tiny frame collection, promolecular stand-in model, see
tests/dashboard/frames.py) in a thread of this process. Every session it creates is kept in a
:class:`DashboardRegistry` under the ``tag`` query argument of its URL, so a test can compare what the
browser shows with what the server-side :class:`~elfviz.dashboard.Dashboard` of that very page sent.
Playwright drives Debian's Chromium (software WebGL); each page gets a fresh browser context with the
probes of :mod:`.live` (console errors, WebGL contexts, requests leaving 127.0.0.1: aborted, so the page
runs offline). Screenshots go to test-artifacts/browser/.
"""

from __future__ import annotations

import itertools
import socket
import threading
import time
from pathlib import Path

import pytest

pn = pytest.importorskip("panel")
playwright_api = pytest.importorskip("playwright.sync_api")

from dashboard.frames import PromolecularPredictor, build_collection  # noqa: E402

from .live import ARTIFACTS, PROBE_SCRIPT, LivePage, PageMonitor  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
LOAD_TIMEOUT_S = 240.0  # first page: server-side build plus software WebGL on a shared 2-core machine
UPDATE_TIMEOUT_S = 120.0
VIEWPORT = {"width": 1400, "height": 1000}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for_port(port: int, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise RuntimeError(f"the server did not open port {port} within {timeout} s")


class DashboardRegistry:
    """The server-side dashboards of every session, by the ``tag`` query argument of the page URL."""

    def __init__(self, collection):
        self.collection = collection
        self._dashboards: dict[str, object] = {}
        self._changed = threading.Condition()

    def create(self):
        """The app function handed to ``pn.serve``: builds a page and records its dashboard."""
        from elfviz.dashboard import build_app

        tag = (pn.state.session_args.get("tag") or [b""])[0].decode()
        page = build_app(collection=self.collection)
        with self._changed:
            self._dashboards[tag] = page.dashboard
            self._changed.notify_all()
        return page

    def wait_for(self, tag: str, timeout: float):
        with self._changed:
            if not self._changed.wait_for(lambda: tag in self._dashboards, timeout=timeout):
                raise AssertionError(f"the server built no session for tag {tag!r} within {timeout:.0f} s")
            return self._dashboards[tag]


@pytest.fixture(scope="session")
def frame_collection(tmp_path_factory):
    return build_collection(tmp_path_factory.mktemp("browser-frames"))


@pytest.fixture(scope="session")
def dashboard_server(frame_collection):
    """``(url, registry)`` of a live dashboard server (stand-in model) for the whole session."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed")
    from elfviz.dashboard import build_app, predictions

    previous = predictions._predictor
    predictions.set_predictor(PromolecularPredictor())
    start = time.perf_counter()
    build_app(collection=frame_collection)  # warm-up: imports, numba kernels, first prediction (cached)
    print(f"\nserver-side warm-up build_app: {time.perf_counter() - start:.1f} s")
    registry = DashboardRegistry(frame_collection)
    port = free_port()
    pn.serve(registry.create, port=port, address="127.0.0.1", threaded=True, show=False, title="elfviz test")
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}/", registry
    finally:
        pn.state.kill_all_servers()
        predictions.set_predictor(previous)


@pytest.fixture(scope="session")
def chromium():
    """One headless Chromium for the session (each page gets its own context)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


def new_probed_page(browser, viewport=None):
    """A page in a fresh context with the WebGL probe, console/page-error capture and the offline guard."""
    context = browser.new_context(viewport=viewport or VIEWPORT, accept_downloads=True)
    context.add_init_script(PROBE_SCRIPT)
    page = context.new_page()
    page.set_default_timeout(UPDATE_TIMEOUT_S * 1000)
    monitor = PageMonitor()
    monitor.attach(context, page)
    return context, page, monitor


_tags = itertools.count(1)


@pytest.fixture
def open_dashboard(dashboard_server, chromium, request):
    """Factory: ``open_dashboard(viewport=None) -> LivePage`` once the 3-D view shows the first scene.

    The contexts are closed after the test; a failing test leaves a full-page screenshot.
    """
    url, registry = dashboard_server
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    opened: list[tuple[object, LivePage]] = []

    def open_(viewport=None, *, wait=True) -> LivePage:
        context, page, monitor = new_probed_page(chromium, viewport)
        tag = f"{request.node.name}-{next(_tags)}"
        name = "".join(c if c.isalnum() or c in "-_" else "_" for c in tag)
        start = time.perf_counter()
        page.goto(f"{url}?tag={tag}", timeout=LOAD_TIMEOUT_S * 1000)
        live = LivePage(page, registry.wait_for(tag, LOAD_TIMEOUT_S), monitor, name)
        opened.append((context, live))
        if wait:
            live.wait_first_view(LOAD_TIMEOUT_S)
            live.first_view_s = time.perf_counter() - start
            print(f"\n{tag}: first view after {live.first_view_s:.1f} s")
        return live

    yield open_
    failed = getattr(request.node, "rep_call", None) is not None and request.node.rep_call.failed
    for context, live in opened:
        if failed:
            try:
                live.page.screenshot(path=str(ARTIFACTS / f"{live.name}-failure.png"), full_page=True)
            except playwright_api.Error:
                pass
        context.close()


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(item, call):
    report = yield
    setattr(item, f"rep_{report.when}", report)
    return report
