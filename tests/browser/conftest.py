"""A live dashboard server and a headless Chromium page for the browser tests.

The server runs ``build_app`` (tiny frame collection, promolecular stand-in model, see
tests/dashboard/frames.py) in a thread of this process; Playwright drives Debian's Chromium, which draws
the vtk.js pane with SwiftShader (software WebGL). Screenshots go to test-artifacts/browser/.
"""

from __future__ import annotations

import socket
import time
from pathlib import Path

import pytest

pn = pytest.importorskip("panel")
playwright_api = pytest.importorskip("playwright.sync_api")

from dashboard.frames import PromolecularPredictor, build_collection  # noqa: E402

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "browser"
LOAD_TIMEOUT_MS = 240_000  # first page: server-side build plus software WebGL on a shared 2-core machine
UPDATE_TIMEOUT_MS = 120_000


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
    raise RuntimeError(f"the dashboard server did not open port {port} within {timeout} s")


@pytest.fixture(scope="session")
def server_url(tmp_path_factory):
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed")
    from elfviz.dashboard import build_app, predictions

    collection = build_collection(tmp_path_factory.mktemp("browser-frames"))
    previous = predictions._predictor
    predictions.set_predictor(PromolecularPredictor())
    start = time.perf_counter()
    build_app(collection=collection)  # warm-up: imports, numba kernels, first prediction (cached)
    print(f"\nserver-side warm-up build_app: {time.perf_counter() - start:.1f} s")
    port = free_port()
    pn.serve(lambda: build_app(collection=collection), port=port, address="127.0.0.1", threaded=True,
             show=False, title="elfviz test")
    try:
        wait_for_port(port)
        yield f"http://127.0.0.1:{port}/"
    finally:
        pn.state.kill_all_servers()
        predictions.set_predictor(previous)


@pytest.fixture(scope="session")
def chromium_context(tmp_path_factory):
    with playwright_api.sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM, args=CHROMIUM_ARGS,
            headless=True, viewport={"width": 1400, "height": 1000})
        try:
            yield context
        finally:
            context.close()


@pytest.fixture(scope="session")
def dashboard_page(server_url, chromium_context):
    """One dashboard session shared by the browser tests (they run in file order)."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page = chromium_context.new_page()
    page.set_default_timeout(UPDATE_TIMEOUT_MS)
    start = time.perf_counter()
    page.goto(server_url, timeout=LOAD_TIMEOUT_MS)
    loaded = time.perf_counter()
    page.wait_for_selector(".elfviz-view3d canvas", state="visible", timeout=LOAD_TIMEOUT_MS)
    print(f"\ndashboard page: HTML after {loaded - start:.1f} s, 3D canvas after {time.perf_counter() - start:.1f} s")
    return page
