"""The 3-D view inside JupyterLab: a notebook shows ``Dashboard(...).view`` and the three.js canvas draws,
offline (every request that would leave 127.0.0.1 is aborted and counted; there must be none).

JupyterLab runs as a subprocess on 127.0.0.1 with a token, its config, runtime, data and workspace
folders in a temporary directory, no update or news checks, and the app exposed in the page
(``window.jupyterapp``) so the test can run all cells through JupyterLab's own command. The notebook uses
the tiny frame collection and the promolecular stand-in model of tests/dashboard/frames.py.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from .conftest import CHROMIUM, free_port, new_probed_page
from .live import ARTIFACTS, SUMMARY_JS, png_array

pytestmark = pytest.mark.browser

nbformat = pytest.importorskip("nbformat")
pytest.importorskip("jupyterlab")
pytest.importorskip("panel")

TESTS = Path(__file__).resolve().parents[1]
START_TIMEOUT_S = 120.0
EXTENSION = os.environ.get("ELFVIZ_TEST_NOTEBOOK_EXTENSION", "pn.extension(inline=True)")
"""How the notebook loads Panel (the line notebooks/quickstart.ipynb gives users; the environment variable
tries another)."""
SHOW = os.environ.get("ELFVIZ_TEST_NOTEBOOK_SHOW", "d.view")
"""The cell's last expression, displayed by JupyterLab (as notebooks/quickstart.ipynb says)."""
DRAW_TIMEOUT_S = 180.0  # kernel start, imports, first prediction and percolation sweep, software WebGL


def notebook_source(frames: Path, extension: str = EXTENSION, show: str = SHOW) -> list[str]:
    return [
        f"import sys\nsys.path.insert(0, {str(TESTS)!r})\n"
        "from dashboard.frames import PromolecularPredictor, build_collection\n"
        "import panel as pn\n"
        f"{extension}\n",
        "from elfviz.dashboard import Dashboard, predictions\n"
        "predictions.set_predictor(PromolecularPredictor())\n"
        f"d = Dashboard(collection=build_collection({str(frames)!r}))\n"
        f"{show}",
    ]


def write_notebook(path: Path, frames: Path, extension: str = EXTENSION, show: str = SHOW) -> None:
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in notebook_source(frames, extension, show)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, str(path))


def start_jupyterlab(root: Path, port: int, token: str) -> subprocess.Popen:
    env = {**os.environ,
           "JUPYTER_CONFIG_DIR": str(root / ".jupyter-config"),
           "JUPYTER_RUNTIME_DIR": str(root / ".jupyter-runtime"),
           "JUPYTER_DATA_DIR": str(root / ".jupyter-data"),
           "IPYTHONDIR": str(root / ".ipython"),
           "JUPYTER_PLATFORM_DIRS": "1"}
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.open_browser=False",
               "--ServerApp.ip=127.0.0.1", f"--ServerApp.port={port}", "--ServerApp.port_retries=0",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}",
               f"--LabApp.workspaces_dir={root / '.workspaces'}", "--LabApp.expose_app_in_browser=True",
               "--LabApp.news_url=None", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
               "--LabApp.extension_manager=readonly"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:  # CI containers run as root
        command.append("--allow-root")
    log = open(root / "jupyterlab.log", "w")  # noqa: SIM115 (closed with the process)
    return subprocess.Popen(command, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)


def wait_for_jupyter(url: str, token: str, process: subprocess.Popen, log: Path) -> float:
    start = time.monotonic()
    while time.monotonic() - start < START_TIMEOUT_S:
        if process.poll() is not None:
            raise AssertionError(f"jupyter lab exited with {process.returncode}:\n{log.read_text()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{url}api/status?token={token}", timeout=2) as response:
                json.load(response)
                return time.monotonic() - start
        except OSError:
            time.sleep(0.3)
    raise AssertionError(f"jupyter lab did not answer within {START_TIMEOUT_S:.0f} s:\n{log.read_text()[-3000:]}")


IDLE_JS = """() => {
  const w = window.jupyterapp.shell.currentWidget;
  const kernel = w && w.sessionContext.session && w.sessionContext.session.kernel;
  const prompts = Array.from(document.querySelectorAll('.jp-Notebook .jp-InputPrompt')).map(e => e.textContent);
  return kernel && kernel.status === 'idle' && prompts.length && prompts.every(p => /\\[\\d+\\]/.test(p));
}"""


def wait_for_view(page, monitor) -> None:
    """Wait for a visible 3-D canvas in the notebook; fail early (with what the cell showed instead) once the
    cells have run and the kernel has been idle for a while without one."""
    canvas = page.locator(".elfviz-view3d canvas").first
    deadline, idle_since = time.monotonic() + DRAW_TIMEOUT_S, None
    while time.monotonic() < deadline:
        if canvas.count() and canvas.is_visible():
            return
        if page.evaluate(IDLE_JS):
            idle_since = idle_since or time.monotonic()
            if time.monotonic() - idle_since > 20:
                break
        else:
            idle_since = None
        time.sleep(0.5)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "jupyterlab-no-view.png"))
    outputs = [text[:300] for text in page.locator(".jp-OutputArea-output").all_inner_texts() if text.strip()]
    raise AssertionError(
        f"no 3-D canvas in the notebook ({EXTENSION!r}, then {SHOW!r}); the cells showed {outputs}; "
        f"requests leaving 127.0.0.1: {monitor.external_requests}; console errors: {monitor.console_errors[:6]}")


@pytest.fixture
def jupyterlab(tmp_path):
    """``(url, token, root)`` of a JupyterLab server in ``tmp_path`` (stopped after the test)."""
    if not Path(CHROMIUM).exists():
        pytest.skip(f"{CHROMIUM} not installed")
    token, port = secrets.token_hex(16), free_port()
    process = start_jupyterlab(tmp_path, port, token)
    url = f"http://127.0.0.1:{port}/"
    try:
        seconds = wait_for_jupyter(url, token, process, tmp_path / "jupyterlab.log")
        print(f"\njupyter lab answered after {seconds:.1f} s")
        yield url, token, tmp_path
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def test_notebook_view_draws_offline_in_jupyterlab(jupyterlab, chromium):
    url, token, root = jupyterlab
    frames = root / "frames"
    write_notebook(root / "view.ipynb", frames)
    context, page, monitor = new_probed_page(chromium)
    try:
        start = time.monotonic()
        page.goto(f"{url}lab/tree/view.ipynb?token={token}", timeout=START_TIMEOUT_S * 1000)
        page.wait_for_function("() => window.jupyterapp && document.querySelector('.jp-Notebook')",
                               timeout=START_TIMEOUT_S * 1000)
        page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=START_TIMEOUT_S * 1000)
        page.wait_for_function(  # the kernel is up before the cells are sent
            "() => { const w = window.jupyterapp.shell.currentWidget;"
            " return w && w.sessionContext && w.sessionContext.session"
            " && w.sessionContext.session.kernel"
            " && w.sessionContext.session.kernel.connectionStatus === 'connected'; }",
            timeout=START_TIMEOUT_S * 1000)
        opened = time.monotonic() - start
        page.evaluate("() => window.jupyterapp.commands.execute('notebook:run-all-cells')")
        wait_for_view(page, monitor)
        page.wait_for_function(f"() => {{ const s = ({SUMMARY_JS})(); return s && Object.keys(s.meshes).length"
                               " && s.renders > 0; }", timeout=DRAW_TIMEOUT_S * 1000)
        drawn = time.monotonic() - start
        summary = page.evaluate(SUMMARY_JS)
        time.sleep(1.0)
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / "jupyterlab-page.png"))
        image = png_array(page.locator(".elfviz-view3d canvas").first.screenshot(
            path=str(ARTIFACTS / "jupyterlab-canvas.png"))).astype(float)
        print(f"JupyterLab: notebook open with a live kernel after {opened:.1f} s, 3-D view drawn after "
              f"{drawn:.1f} s; meshes {sorted(summary['meshes'])}; console errors: {monitor.console_errors}")
        assert summary["meshes"], "the 3-D view in the notebook draws no mesh"
        assert image.std() > 10 and len(np.unique(image.reshape(-1, 3), axis=0)) > 50, "the canvas looks blank"
        assert page.locator(".elfviz-view3d canvas").count() == 1
        assert not monitor.external_requests, f"requests leaving 127.0.0.1: {monitor.external_requests}"
        view_errors = [e for e in monitor.console_errors + monitor.page_errors
                       if any(word in e.lower() for word in ("elfviz", "scene", "three", "webgl", "panel", "bokeh"))]
        assert not view_errors, "\n".join(view_errors)
    finally:
        context.close()
        shutil.rmtree(frames, ignore_errors=True)
