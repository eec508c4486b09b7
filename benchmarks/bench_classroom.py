"""A classroom at once: 20 students open the dashboard together on one 2-core server (issue #22).

The real server (``python -m elfviz serve``: one warm-up page, then the Panel server; bundled examples
and model) runs as a subprocess on 127.0.0.1, and ``--sessions`` visitors arrive within a second.
``--pages`` of them (default 8) are headless Chromium pages (Playwright, one browser context each,
software WebGL, every request off 127.0.0.1 aborted); the others are Bokeh websocket clients
(``bokeh.client.pull_session``), which make the server do what a page makes it do (build the session's
page, send its document, load the first example, predict the chosen structure, follow the slider) without
drawing anything: twenty software-WebGL pages on the server's own two cores would measure Chromium, not
the server (14 pages took 50-70 s to their first view with an idle server). Each visitor

1. opens the dashboard: a page until its 3-D view has drawn the first scene
   (``window.elfvizScenes[0].summary()`` has meshes and has rendered): **first view**; a websocket client
   until its session's document arrived: **session ready**;
2. picks an example (visitor i takes example i+1 of the list, so neighbours pick different structures, and
   visitors 15-19 share the cache with 0-4); the dashboard reads it and predicts it: for a page until the
   structure line names it and the view has drawn a new scene: **structure -> picture**;
3. steps the isovalue to its own value (0.45 ... 0.65, 0.01 a step; a page with the arrow keys, timing each
   step until the status line shows it: **slider -> status**, what a student feels while the others'
   pages load and their predictions run);
4. then, until every visitor is done and a few seconds after, a page checks once a second that it still
   shows its structure, its isovalue (slider, status line, the 3-D view's caption) and the meshes it
   settled on: any change is **cross-talk** from another session. (A websocket client cannot check its
   view: Panel does not send its updates to Python clients; its errors show in the server's log.)

Errors counted: console errors and uncaught exceptions in the pages, requests leaving 127.0.0.1, failed
waits, failed websocket visits, and tracebacks / ERROR lines in the server's log. The server's event loop
is probed every 0.5 s with a small static file (its latency is how long any visitor's click waits). The
server's resident memory (RSS, /proc) is sampled every 0.25 s: before the visitors (after the warm-up),
the peak while they work, and after every page and client has closed, while Bokeh discards the sessions
(15-32 s after their last connection closed) and collects their garbage: does it fall back?

Targets: no errors, every first view within 60 s, no cross-talk, memory bounded and falling back after
the visitors leave. Screenshots of every page go to ``--artifacts`` (default test-artifacts/classroom/).

Usage::

    python benchmarks/bench_classroom.py [--sessions 20] [--pages 8] [--settle 45] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
                 # pages in background contexts must keep running their timers and animation frames
                 "--disable-background-timer-throttling", "--disable-renderer-backgrounding",
                 "--disable-backgrounding-occluded-windows"]
VIEWPORT = {"width": 1280, "height": 900}
FIRST_VIEW_TARGET_S = 60.0
LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1", "[::1]"}

PAGE_JS = """
(() => {
  function deep(selector, root = document) {
    const found = root.querySelector(selector);
    if (found) return found;
    for (const el of root.querySelectorAll('*')) {
      if (el.shadowRoot) { const inner = deep(selector, el.shadowRoot); if (inner) return inner; }
    }
    return null;
  }
  window.__classroom = {
    text(selector) {
      const el = deep(selector);
      if (!el) return '';
      if (!el.shadowRoot) return el.textContent;
      return Array.from(el.shadowRoot.children).filter(c => !['STYLE', 'LINK'].includes(c.tagName))
        .map(c => c.textContent).join(' ');
    },
    summary() {
      const s = window.elfvizScenes;
      return s && s.length && typeof s[0].summary === 'function' ? s[0].summary() : null;
    },
    handle() {
      const slider = deep('.elfviz-isovalue');
      const h = slider && (deep('.noUi-handle', slider.shadowRoot || slider) || deep('.noUi-handle', slider));
      return h ? h.getAttribute('aria-valuetext') : null;
    },
    look() {
      const s = this.summary();
      return {info: this.text('.elfviz-structure-info'), status: this.text('.elfviz-percolation-status'),
              model: this.text('.elfviz-model-status'), slider: this.handle(),
              caption: this.text('.elfviz-view3d-caption'),
              revision: s ? s.revision : null, renders: s ? s.renders : 0,
              meshes: s ? JSON.stringify(s.meshes) : null, glRenderer: s ? s.glRenderer : null};
    },
  };
})();
"""

FIRST_VIEW_JS = ("() => { const s = window.__classroom && window.__classroom.summary();"
                 " return !!(s && Object.keys(s.meshes).length && s.renders > 0); }")
STRUCTURE_SHOWN_JS = ("([name, revision]) => { const c = window.__classroom; const s = c.summary();"
                      " const info = c.text('.elfviz-structure-info');"
                      " return info.includes(name) && !info.includes('Loading') && s && s.revision > revision"
                      " && s.renders > 0; }")
STATUS_SHOWS_JS = "(text) => window.__classroom.text('.elfviz-percolation-status').includes(text)"


# ----------------------------------------------------------------------------- server
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, log_path: Path, threads: int | None) -> subprocess.Popen:
    """``python -m elfviz serve`` (warm-up page, then the Panel server) on 127.0.0.1:port."""
    command = [sys.executable, "-m", "elfviz", "serve", "--port", str(port), "--address", "127.0.0.1"]
    if threads:
        command += ["--threads", str(threads)]
    log = open(log_path, "w")  # noqa: SIM115 (lives as long as the server)
    return subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def wait_for_port(port: int, process: subprocess.Popen, log_path: Path, timeout: float = 300.0) -> float:
    start = time.monotonic()
    while time.monotonic() - start < timeout:
        if process.poll() is not None:
            raise SystemExit(f"elfviz serve exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return time.monotonic() - start
        time.sleep(0.3)
    raise SystemExit(f"elfviz serve did not open port {port} within {timeout:.0f} s")


def rss_bytes(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) of a process in bytes (0, 0 once it is gone)."""
    values = {}
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, number, _unit = line.split()
                values[key[:-1]] = int(number) * 1024
    except OSError:
        return 0, 0
    return values.get("VmRSS", 0), values.get("VmHWM", 0)


class MemorySampler(threading.Thread):
    """Samples a process's RSS every ``interval`` s: ``samples`` is a list of (seconds, bytes)."""

    def __init__(self, pid: int, interval: float = 0.25):
        super().__init__(daemon=True)
        self.pid, self.interval = pid, interval
        self.samples: list[tuple[float, int]] = []
        self._halt = threading.Event()
        self.t0 = time.monotonic()

    def run(self) -> None:
        while not self._halt.is_set():
            rss, _ = rss_bytes(self.pid)
            self.samples.append((time.monotonic() - self.t0, rss))
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=5)

    def now(self) -> float:
        return time.monotonic() - self.t0

    def peak(self, start: float, end: float) -> int:
        return max((b for t, b in self.samples if start <= t <= end), default=0)

    def at(self, when: float) -> int:
        before = [b for t, b in self.samples if t <= when]
        return before[-1] if before else 0


def cpu_seconds(pid: int) -> float:
    """User + system CPU seconds a process has used so far (/proc/PID/stat)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return 0.0


class LoopProbe(threading.Thread):
    """Fetches a small static file from the server every ``interval`` s: its latency is how long the server's
    event loop (which all sessions share) keeps any request waiting."""

    PATH = "static/extensions/panel/css/loading.css"

    def __init__(self, url: str, interval: float = 0.5):
        super().__init__(daemon=True)
        self.url, self.interval = url + self.PATH, interval
        self.latencies_ms: list[float] = []
        self.failures = 0
        self._halt = threading.Event()
        self.active = threading.Event()

    def run(self) -> None:
        import urllib.request

        while not self._halt.is_set():
            if self.active.is_set():
                start = time.monotonic()
                try:
                    urllib.request.urlopen(self.url, timeout=120).read()
                    self.latencies_ms.append((time.monotonic() - start) * 1000.0)
                except OSError:
                    self.failures += 1
            self._halt.wait(self.interval)

    def stop(self) -> None:
        self._halt.set()
        self.join(timeout=130)


SERVER_ERROR = re.compile(r"Traceback|^ERROR|\bERROR\b|Exception", re.MULTILINE)


def server_errors(log_text: str) -> list[str]:
    """Lines of the server log that report an error (with the line after a Traceback's last frame)."""
    lines = log_text.splitlines()
    found = []
    for i, line in enumerate(lines):
        if SERVER_ERROR.search(line):
            found.append(line.strip()[:300])
            if line.startswith("Traceback"):
                tail = next((x for x in lines[i + 1:] if x and not x.startswith(" ")), "")
                found.append("  -> " + tail.strip()[:300])
    return found


# ----------------------------------------------------------------------------- one visitor
@dataclass
class Visit:
    index: int
    kind: str = "page"  # or "websocket"
    example: str = ""
    isovalue: float = 0.5
    first_view_s: float | None = None
    structure_s: float | None = None
    slider_status_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    crosstalk: list[str] = field(default_factory=list)
    checks: int = 0
    redraws: int = 0
    settled: dict | None = None
    done_at: float | None = None
    screenshot: str = ""


def choose_label(labels: list[str], index: int) -> str:
    """Visitor i's example: the (i+1)-th of the list, cycling past the first (the page's default)."""
    return labels[1 + index % (len(labels) - 1)]


def frame_name(label: str) -> str:
    match = re.search(r"\[([^\]]+)\]", label)
    return match.group(1) if match else label.strip()


def target_isovalue(index: int) -> float:
    """Visitor i's isovalue: 0.45, ..., 0.49, 0.51, 0.52, ... (never the default 0.50)."""
    step = index - 5
    return round(0.5 + 0.01 * (step + 1 if step >= 0 else step), 2)


def is_local(url: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about", "chrome", "chrome-extension", "devtools"):
        return True
    return (parts.hostname or "") in {h.strip("[]") for h in LOCAL_HOSTS}


def watch_page(context, page, visit: Visit) -> None:
    def console(message):
        if message.type == "error":
            visit.errors.append(f"console error: {message.text[:300]}")

    async def block(route):
        visit.errors.append(f"request leaving 127.0.0.1: {route.request.url}")
        await route.abort("internetdisconnected")

    page.on("console", console)
    page.on("pageerror", lambda error: visit.errors.append(f"page error: {str(error)[:300]}"))
    return context.route(lambda url: not is_local(url), block)


async def look(page) -> dict:
    return await page.evaluate("() => window.__classroom.look()")


def own_view_problems(state: dict, visit: Visit) -> list[str]:
    """What differs between the page now and what the visitor set: the structure line, the status line, the
    slider, the 3-D view's caption (the isovalue of the scene drawn) and, once settled, the meshes drawn."""
    problems = []
    iso = f"ELF ≥ {visit.isovalue:.3f}"
    if visit.example not in state["info"]:
        problems.append(f"structure line no longer names {visit.example!r}: {state['info'][:120]!r}")
    if iso not in state["status"]:
        problems.append(f"status line no longer shows {iso!r}: {state['status'][:120]!r}")
    if state["slider"] is None or abs(float(state["slider"]) - visit.isovalue) > 1e-9:
        problems.append(f"slider at {state['slider']}, set to {visit.isovalue:.2f}")
    if f"ELF = {visit.isovalue:.3f}" not in state["caption"]:
        problems.append(f"3-D view drawn at another isovalue: {state['caption'][:80]!r}")
    settled = visit.settled or {}
    if settled and state["meshes"] != settled["meshes"]:
        problems.append(f"3-D view's meshes changed: revision {settled['revision']} -> {state['revision']}")
    return problems


async def visit_page(browser, url: str, visit: Visit, *, start_at: float, everyone_done: threading.Event,
                     artifacts: Path, timeout_s: float) -> None:
    await asyncio.sleep(max(0.0, start_at - time.monotonic()))
    context = await browser.new_context(viewport=VIEWPORT)
    try:
        await context.add_init_script(PAGE_JS)
        page = await context.new_page()
        page.set_default_timeout(timeout_s * 1000)
        await watch_page(context, page, visit)
        t0 = time.monotonic()
        await page.goto(f"{url}?visitor={visit.index}", timeout=timeout_s * 1000)
        await page.wait_for_function(FIRST_VIEW_JS, timeout=timeout_s * 1000, polling=100)
        visit.first_view_s = time.monotonic() - t0

        # 2. pick a structure: the model predicts it on select
        select = page.locator("select").filter(has=page.locator("option", has_text="liquid")).first
        labels = [t.strip() for t in await select.locator("option").all_inner_texts()]
        label = choose_label(labels, visit.index)
        visit.example = frame_name(label)
        before = await look(page)
        t1 = time.monotonic()
        await select.select_option(label=label)
        await page.wait_for_function(STRUCTURE_SHOWN_JS, arg=[visit.example, before["revision"]],
                                     timeout=timeout_s * 1000, polling=100)
        visit.structure_s = time.monotonic() - t1
        state = await look(page)
        if "CPU" not in state["model"] and "CUDA" not in state["model"]:
            visit.errors.append(f"model status after the structure loaded: {state['model'][:160]!r}")

        # 3. the isovalue, one arrow-key step at a time, each timed until the status line shows it
        visit.isovalue = target_isovalue(visit.index)
        handle = page.locator(".elfviz-isovalue .noUi-handle").first
        await handle.focus()
        value = float(await handle.get_attribute("aria-valuetext"))
        key = "ArrowRight" if visit.isovalue > value else "ArrowLeft"
        while abs(value - visit.isovalue) > 1e-9:
            value = round(value + (0.01 if key == "ArrowRight" else -0.01), 2)
            t2 = time.monotonic()
            await handle.press(key)
            await page.wait_for_function(STATUS_SHOWS_JS, arg=f"ELF ≥ {value:.3f}", timeout=timeout_s * 1000,
                                         polling="raf")
            visit.slider_status_ms.append((time.monotonic() - t2) * 1000.0)
            await asyncio.sleep(0.15)  # a student's pace
        # settled: the scene of the final isovalue drawn and unchanged for 1.5 s
        last, since = None, time.monotonic()
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            state = await look(page)
            key_now = (state["revision"], state["meshes"], state["status"])
            if key_now != last:
                last, since = key_now, time.monotonic()
            elif time.monotonic() - since >= 1.0 and not own_view_problems(state, visit):
                break
            await asyncio.sleep(0.25)
        visit.settled = {"revision": state["revision"], "meshes": state["meshes"]}
        problems = own_view_problems(state, visit)
        if problems:
            visit.errors.append("did not settle on its own choices: " + "; ".join(problems))
        visit.done_at = time.monotonic()

        # 4. while the others act: the page keeps showing what this visitor chose
        while True:
            finished = everyone_done.is_set()
            state = await look(page)
            visit.checks += 1
            for problem in own_view_problems(state, visit):
                visit.crosstalk.append(f"{time.monotonic() - visit.done_at:.1f} s after settling: {problem}")
            if state["revision"] != visit.settled["revision"]:
                visit.redraws += 1  # the same scene sent again (a coalesced rebuild finishing late): harmless
            if finished:
                break
            await asyncio.sleep(1.0)
            if everyone_done.is_set():
                await asyncio.sleep(3.0)  # and once more a little after the last visitor settled
        path = artifacts / f"session-{visit.index:02d}.png"
        await page.screenshot(path=str(path))
        visit.screenshot = str(path)
    except Exception as exc:  # a failed wait is an error of this visit; the others go on
        visit.errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:300]}")
        visit.done_at = visit.done_at or time.monotonic()
    finally:
        await context.close()


def visit_websocket(url: str, visit: Visit, *, start_at: float, everyone_done: threading.Event,
                    timeout_s: float, pace_s: float = 0.3) -> None:
    """One Bokeh websocket client (own thread, own IOLoop) doing what a page does, without drawing."""
    from bokeh.client import pull_session
    from bokeh.events import DocumentReady
    from tornado.ioloop import IOLoop

    asyncio.set_event_loop(asyncio.new_event_loop())
    loop = IOLoop.current()
    time.sleep(max(0.0, start_at - time.monotonic()))
    session = None
    try:
        t0 = time.monotonic()
        session = pull_session(url=url, io_loop=loop, arguments={"visitor": str(visit.index)},
                               max_message_size=100 * 2**20)
        visit.first_view_s = time.monotonic() - t0
        doc = session.document

        def model(css: str):
            found = [m for m in doc.models if css in (getattr(m, "css_classes", None) or [])]
            if not found:
                raise RuntimeError(f"no model with CSS class {css} in the session's document")
            return found[0]

        async def scenario():
            doc.callbacks.send_event(DocumentReady())  # what a browser says once it has drawn the page
            await asyncio.sleep(1.0)
            select = model("elfviz-example")
            options = [(o, o) if isinstance(o, str) else (o[0], o[1]) for o in select.options]  # (value, label)
            value, label = choose_label(options, visit.index)
            visit.example = frame_name(label)
            select.value = value  # the server reads and predicts it
            await asyncio.sleep(2.0)  # a student looks at the new structure
            visit.isovalue = target_isovalue(visit.index)
            slider, value = model("elfviz-isovalue"), 0.5
            while abs(value - visit.isovalue) > 1e-9:
                value = round(value + (0.01 if visit.isovalue > value else -0.01), 2)
                slider.value = value
                slider.set_from_json("value_throttled", value)  # as the slider handle does on each key step
                await asyncio.sleep(pace_s)
            visit.done_at = time.monotonic()
            while not everyone_done.is_set():
                await asyncio.sleep(0.5)

        loop.run_sync(scenario, timeout=timeout_s * 3)
    except Exception as exc:  # a failed visit is an error of this visit; the others go on
        visit.errors.append(f"{type(exc).__name__}: {str(exc).splitlines()[0][:300] if str(exc) else ''}")
    finally:
        visit.done_at = visit.done_at or time.monotonic()
        if session is not None:
            try:
                session.close()
                loop.run_sync(lambda: asyncio.sleep(0.2))
            except Exception:
                pass


async def classroom(url: str, sessions: int, pages: int, *, browsers: int, stagger_s: float, artifacts: Path,
                    timeout_s: float) -> list[Visit]:
    from playwright.async_api import async_playwright

    # pages and websocket clients interleave, so both arrive throughout the first second
    page_slots = set(round(i * sessions / pages) for i in range(pages)) if pages else set()
    visits = [Visit(i, "page" if i in page_slots else "websocket") for i in range(sessions)]
    everyone_done = threading.Event()
    start = time.monotonic() + 1.0

    def mark_done():
        while any(v.done_at is None for v in visits):
            time.sleep(0.2)
        everyone_done.set()

    threading.Thread(target=mark_done, daemon=True).start()
    clients = [threading.Thread(target=visit_websocket, args=(url, v),
                                kwargs={"start_at": start + v.index * stagger_s, "everyone_done": everyone_done,
                                        "timeout_s": timeout_s}, daemon=True)
               for v in visits if v.kind == "websocket"]
    for thread in clients:
        thread.start()
    async with async_playwright() as p:
        instances = [await p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
                     for _ in range(max(1, browsers) if pages else 0)]
        tasks = [asyncio.create_task(visit_page(instances[k % len(instances)], url, v,
                                                start_at=start + v.index * stagger_s, everyone_done=everyone_done,
                                                artifacts=artifacts, timeout_s=timeout_s))
                 for k, v in enumerate(v for v in visits if v.kind == "page")]
        await asyncio.gather(*tasks)
        for browser in instances:
            await browser.close()
    for thread in clients:
        thread.join(timeout=timeout_s)
    return visits


# ----------------------------------------------------------------------------- report
def mib(value: float) -> str:
    return f"{value / 2**20:.0f} MiB"


def stats(values, unit: str = "s", scale: float = 1.0, digits: int = 1) -> str:
    if not values:
        return "none"
    return (f"median {statistics.median(values) * scale:.{digits}f} {unit}, max {max(values) * scale:.{digits}f} "
            f"{unit} (n={len(values)})")


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=20, help="visitors at once (default 20)")
    parser.add_argument("--pages", type=int, default=8,
                        help="how many of them are Chromium pages (default 8; the others are websocket clients)")
    parser.add_argument("--browsers", type=int, default=1, help="Chromium instances sharing the pages (default 1)")
    parser.add_argument("--stagger", type=float, default=0.05, help="seconds between two visitors' arrivals")
    parser.add_argument("--settle", type=float, default=45.0,
                        help="seconds to watch the server's memory after the visitors leave (default 45; Bokeh "
                             "discards a closed session 15-32 s after its last connection closed)")
    parser.add_argument("--threads", type=int, default=None, help="passed to elfviz serve --threads")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds any one wait may take")
    parser.add_argument("--quick", action="store_true", help="8 visitors (3 pages), 40 s settle")
    parser.add_argument("--artifacts", type=Path, default=ROOT / "test-artifacts" / "classroom",
                        help="folder for the screenshots, the server log and visits.json")
    parser.add_argument("--verbose", action="store_true", help="print every distinct error of every visitor")
    parser.add_argument("--json", type=Path, help="write the records here (run_all.py layout)")
    args = parser.parse_args(argv)
    if args.quick:
        args.sessions, args.pages, args.settle = 8, 3, 40.0
    args.pages = max(0, min(args.pages, args.sessions))
    if args.pages and not Path(CHROMIUM).exists():
        raise SystemExit(f"{CHROMIUM} not installed")
    args.artifacts.mkdir(parents=True, exist_ok=True)
    for old in args.artifacts.glob("session-*.png"):
        old.unlink()
    import panel  # noqa: F401  (the websocket clients need Panel's and elfviz's Bokeh models)

    import elfviz.dashboard  # noqa: F401

    load_start = os.getloadavg()
    port = free_port()
    url = f"http://127.0.0.1:{port}/"
    log_path = args.artifacts / "server.log"
    wall0 = time.monotonic()
    server = start_server(port, log_path, args.threads)
    sampler = MemorySampler(server.pid)
    sampler.start()
    probe = LoopProbe(url)
    try:
        ready_s = wait_for_port(port, server, log_path)
        probe.start()
        time.sleep(1.0)
        t_start = sampler.now()
        rss_start = rss_bytes(server.pid)[0]
        cpu_start, wall_start = cpu_seconds(server.pid), time.monotonic()
        probe.active.set()
        visits = asyncio.run(classroom(url, args.sessions, args.pages, browsers=args.browsers,
                                       stagger_s=args.stagger, artifacts=args.artifacts, timeout_s=args.timeout))
        probe.active.clear()
        cpu_used, wall_used = cpu_seconds(server.pid) - cpu_start, time.monotonic() - wall_start
        t_closed = sampler.now()
        rss_closed = rss_bytes(server.pid)[0]
        time.sleep(args.settle)
        t_end = sampler.now()
        rss_after, hwm = rss_bytes(server.pid)
        alive = server.poll() is None
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
        sampler.stop()
        probe.stop()
    load_end = os.getloadavg()
    (args.artifacts / "visits.json").write_text(json.dumps([v.__dict__ for v in visits], indent=1))
    log_errors = server_errors(log_path.read_text(errors="replace"))
    peak = sampler.peak(t_start, t_closed)
    low_after = min((b for t, b in sampler.samples if t_closed <= t <= t_end), default=rss_after)

    pages = [v for v in visits if v.kind == "page"]
    sockets = [v for v in visits if v.kind == "websocket"]
    first = [v.first_view_s for v in pages if v.first_view_s is not None]
    ready = [v.first_view_s for v in sockets if v.first_view_s is not None]
    structure = [v.structure_s for v in pages if v.structure_s is not None]
    steps = [ms for v in pages for ms in v.slider_status_ms]
    errors = [(v.index, e) for v in visits for e in v.errors]
    crosstalk = [(v.index, c) for v in pages for c in v.crosstalk]
    over = [v.index for v in pages if v.first_view_s is None or v.first_view_s > FIRST_VIEW_TARGET_S]
    over += [v.index for v in sockets if v.first_view_s is None or v.first_view_s > FIRST_VIEW_TARGET_S]
    grown = peak - rss_start
    retained = (rss_after - rss_start) / grown if grown > 0 else 0.0
    lag = probe.latencies_ms

    print(f"bench_classroom: {args.sessions} visitors at once on `python -m elfviz serve` (bundled examples and "
          f"model, 127.0.0.1): {len(pages)} headless Chromium pages (software WebGL) and {len(sockets)} Bokeh "
          f"websocket clients; {os.cpu_count()} CPUs shared by server and browsers, load average "
          f"{load_start[0]:.2f} -> {load_end[0]:.2f}; server ready after {ready_s:.1f} s (warm-up page)")
    print(f"{'visitor':>7} {'kind':<9} {'example':<31}{'iso':>6}{'first view s':>13}{'structure s':>12}"
          f"{'steps':>6}{'step ms max':>12}{'checks':>7}  errors / cross-talk")
    for v in visits:
        fv = f"{v.first_view_s:.1f}" if v.first_view_s is not None else "-"
        st = f"{v.structure_s:.1f}" if v.structure_s is not None else "-"
        mx = f"{max(v.slider_status_ms):.0f}" if v.slider_status_ms else "-"
        print(f"{v.index:>7} {v.kind:<9} {v.example[:30]:<31}{v.isovalue:>6.2f}{fv:>13}{st:>12}"
              f"{len(v.slider_status_ms):>6}{mx:>12}{v.checks:>7}  {len(v.errors)} / {len(v.crosstalk)}")

    verdict = {
        "no errors": not errors and not log_errors and alive,
        f"every first view <= {FIRST_VIEW_TARGET_S:.0f} s": not over,
        "no cross-talk": not crosstalk and all(v.checks for v in pages),
        "memory falls back after the visitors leave": retained <= 0.5,
    }
    print()
    print(f"first view, pages (page load -> first 3-D view drawn): {stats(first)}; target <= "
          f"{FIRST_VIEW_TARGET_S:.0f} s each")
    print(f"session ready, websocket clients (page built, document received): {stats(ready)}")
    print(f"structure pick -> model prediction -> new picture (pages): {stats(structure)}")
    print(f"slider step -> status line while the others load and predict (pages): {stats(steps, 'ms', 1.0, 0)}")
    print(f"server event loop (static file every 0.5 s while the visitors work): {stats(lag, 'ms', 1.0, 0)}"
          + (f", {probe.failures} failed" if probe.failures else ""))
    print(f"server CPU: {cpu_used:.0f} s in {wall_used:.0f} s ({cpu_used / max(wall_used, 1e-9):.2f} cores of "
          f"{os.cpu_count()}; the rest went to the browsers), {cpu_used / max(args.sessions, 1):.1f} s per visitor")
    print(f"errors: {len(errors)} in the visits, {len(log_errors)} in the server log; server alive: {alive}")
    for v in visits:  # each visitor's distinct errors, with counts; the last one says where it stopped
        seen: dict[str, int] = {}
        for error in v.errors:
            seen[error] = seen.get(error, 0) + 1
        for error, count in list(seen.items())[: None if args.verbose else 6]:
            print(f"  visitor {v.index}: {error}" + (f" (x{count})" if count > 1 else ""))
        if len(seen) > 6 and not args.verbose:
            print(f"  visitor {v.index}: ... {len(seen) - 6} more kinds; last: {v.errors[-1]}")
    for line in log_errors[:20]:
        print(f"  server: {line}")
    print(f"cross-talk: {len(crosstalk)} changes seen in {sum(v.checks for v in pages)} checks of the pages' own "
          f"views while the others acted ({sum(v.redraws for v in pages)} checks saw the same scene sent again)")
    for index, item in crosstalk[:20]:
        print(f"  visitor {index}: {item}")
    print(f"server RSS: {mib(rss_start)} before the visitors, peak {mib(peak)} while they worked "
          f"(+{mib(grown)}; VmHWM {mib(hwm)}), {mib(rss_closed)} when they had left, {mib(rss_after)} "
          f"{args.settle:.0f} s later (lowest {mib(low_after)})")
    print(f"ratios: peak / before {peak / max(rss_start, 1):.2f}x; growth kept after they left "
          f"{retained * 100:.0f}% ((after - before) / (peak - before)); per visitor at the peak "
          f"{mib(grown / max(args.sessions, 1))}; slowest first view / target "
          f"{(max(first + ready) if first + ready else float('nan')) / FIRST_VIEW_TARGET_S:.2f}")
    print(f"screenshots: {args.artifacts}/session-NN.png; server log: {log_path}; "
          f"wall {time.monotonic() - wall0:.0f} s")
    for name, ok in verdict.items():
        print(f"  {'PASS' if ok else 'MISS'}  {name}")

    if args.json:
        note = (f"{args.sessions} visitors ({len(pages)} pages, {len(sockets)} websocket clients), "
                f"{os.cpu_count()} CPUs, load average {load_end[0]:.1f}")

        def rounded(values, fn, digits=2):
            return round(fn(values), digits) if values else None

        records = [
            {"metric": "first view median (pages)", "value": rounded(first, statistics.median), "unit": "s",
             "note": note},
            {"metric": "first view max (pages)", "value": rounded(first, max), "unit": "s",
             "note": f"target <= {FIRST_VIEW_TARGET_S:.0f} s each: {'PASS' if not over else 'MISS'}"},
            {"metric": "session ready max (websocket clients)", "value": rounded(ready, max), "unit": "s",
             "note": "page built and document received"},
            {"metric": "structure -> picture median (pages)", "value": rounded(structure, statistics.median),
             "unit": "s", "note": "includes the model prediction"},
            {"metric": "slider step -> status max (pages)", "value": rounded(steps, max, 0), "unit": "ms",
             "note": f"median {statistics.median(steps):.0f} ms, n={len(steps)}" if steps else ""},
            {"metric": "event loop latency max", "value": rounded(lag, max, 0), "unit": "ms",
             "note": f"median {statistics.median(lag):.0f} ms, n={len(lag)}" if lag else ""},
            {"metric": "errors", "value": len(errors) + len(log_errors), "unit": "",
             "note": f"{len(errors)} in visits, {len(log_errors)} in the server log"},
            {"metric": "cross-talk", "value": len(crosstalk), "unit": "changes",
             "note": f"{sum(v.checks for v in pages)} checks"},
            {"metric": "server RSS before", "value": round(rss_start / 2**20), "unit": "MiB", "note": ""},
            {"metric": "server RSS peak", "value": round(peak / 2**20), "unit": "MiB", "note": ""},
            {"metric": "server RSS after the visitors left", "value": round(rss_after / 2**20), "unit": "MiB",
             "note": f"{args.settle:.0f} s after; growth kept {retained * 100:.0f}%"},
        ]
        args.json.write_text(json.dumps([{"benchmark": "classroom", **r} for r in records], indent=1))
    return 0 if all(verdict.values()) else 1


if __name__ == "__main__":
    sys.exit(main())
