"""Dashboard responsiveness as a visitor sees it: headless Chromium on ``panel serve app/app.py``.

The real app (bundled examples, bundled model) runs as a subprocess on 127.0.0.1; Playwright drives Debian's
Chromium (software WebGL). Times are taken in the page (``performance.now()``): from the trusted keydown
(or, for the Example select, the moment before it is set) to the first animation frame that shows the result.

What is timed (median and max over the events)
----------------------------------------------
slider -> status
    ArrowLeft on the isovalue handle (one 0.01 step) until the percolation status line shows the new value,
    on a structure whose ELF is on a ``--size``^3 grid (default 64^3: the promolecular ELF of a bundled
    frame, as in bench_dashboard.py, uploaded as a cube file).
slider -> picture
    the same key press until the three.js view has drawn a new scene (``summary().revision`` and
    ``renders`` advanced).
example switch -> picture
    choosing another example in the Example select until the new scene is drawn (the first visit of an
    example includes the model prediction; later visits use the cache: both are in the sample).
first view
    a fresh page load (new browser context) until the 3-D view has drawn meshes; the first load after the
    server starts is reported apart (it includes model loading and the first prediction).

Targets (issue "The dashboard in a real browser"): slider -> status <= 300 ms and slider -> picture
<= 500 ms median at 64^3, example switch <= 3 s, first view <= 8 s. PASS/MISS is printed per target.

Usage::

    python benchmarks/bench_browser.py [--events 20] [--page-loads 3] [--server-figures] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--use-angle=swiftshader", "--enable-unsafe-swiftshader"]
TARGETS_MS = {"slider -> status": 300.0, "slider -> picture": 500.0, "example switch -> picture": 3000.0,
              "first view": 8000.0}
"""Median targets in ms."""

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
  window.__bench = {
    t0: 0,
    text(selector) {
      const el = deep(selector);
      if (!el) return '';
      if (!el.shadowRoot) return el.textContent;
      return Array.from(el.shadowRoot.children).filter(c => !['STYLE', 'LINK'].includes(c.tagName))
        .map(c => c.textContent).join(' ');
    },
    summary() {
      const s = window.elfvizScenes;
      return s && s.length ? s[0].summary() : null;
    },
  };
  const mark = () => { window.__bench.t0 = performance.now(); };
  window.addEventListener('keydown', mark, true);
})();
"""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, log_path: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "panel", "serve", str(ROOT / "app" / "app.py"), "--address", "127.0.0.1",
               "--port", str(port), "--allow-websocket-origin", f"127.0.0.1:{port}"]
    log = open(log_path, "w")  # noqa: SIM115 (lives as long as the server)
    return subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def wait_for_port(port: int, process: subprocess.Popen, log_path: Path, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"panel serve exited with {process.returncode}:\n{log_path.read_text()[-3000:]}")
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.3)
    raise SystemExit(f"panel serve did not open port {port} within {timeout:.0f} s")


def drawn(page) -> dict:
    """Wait for a drawn scene with meshes; return its summary."""
    page.wait_for_function("() => { const s = window.__bench && window.__bench.summary();"
                           " return s && Object.keys(s.meshes).length && s.renders > 0; }", timeout=300_000)
    return page.evaluate("() => window.__bench.summary()")


def elapsed_until(page, condition_js: str, arg, timeout_ms: float = 60_000) -> float:
    """ms from the last keydown (or a t0 set by the caller) to the first animation frame where ``condition_js(arg)``
    holds."""
    page.wait_for_function(condition_js, arg=arg, polling="raf", timeout=timeout_ms)
    return page.evaluate("() => performance.now() - window.__bench.t0")


STATUS_SHOWS = "(text) => window.__bench.text('.elfviz-percolation-status').includes(text)"
NEW_PICTURE = ("(r) => { const s = window.__bench.summary();"
               " return s && s.revision > r.revision && s.renders > r.renders; }")


def new_page(browser, url: str):
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(PAGE_JS)
    page = context.new_page()
    page.set_default_timeout(300_000)
    start = time.perf_counter()
    page.goto(url, timeout=300_000)
    summary = drawn(page)
    return context, page, (time.perf_counter() - start) * 1000.0, summary


def upload_field(page, size: int) -> str:
    """Upload the promolecular ELF of a bundled frame on a size^3 grid (a cube file); returns the info text."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    from bench_dashboard import field_dataset

    from elfviz.io import write

    ds, label = field_dataset(size)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"bench-{size}.cube"
        write(ds, path, force=True, field="elf")
        data = path.read_bytes()
    before = page.evaluate("() => window.__bench.summary()")
    page.locator("input[type=file]").first.set_input_files(
        files=[{"name": path.name, "mimeType": "application/octet-stream", "buffer": data}])
    grid = "×".join([str(size)] * 3)
    page.wait_for_function("([grid, r]) => { const s = window.__bench.summary();"
                           " return window.__bench.text('.elfviz-structure-info').includes(grid)"
                           " && s.revision > r; }", arg=[grid, before["revision"]], timeout=600_000)
    time.sleep(2.0)
    return f"{label} ({len(data) / 1e6:.1f} MB cube)"


def time_slider(page, events: int) -> tuple[list[float], list[float]]:
    handle = page.locator(".elfviz-isovalue .noUi-handle").first
    status, picture = [], []
    for _ in range(events):
        value = float(handle.get_attribute("aria-valuetext"))
        before = page.evaluate("() => window.__bench.summary()")
        key = "ArrowLeft" if value > 0.05 else "ArrowRight"
        target = round(value + (-0.01 if key == "ArrowLeft" else 0.01), 2)
        handle.press(key)
        status.append(elapsed_until(page, STATUS_SHOWS, f"ELF ≥ {target:.3f}"))
        picture.append(elapsed_until(page, NEW_PICTURE, {"revision": before["revision"],
                                                          "renders": before["renders"]}))
        time.sleep(0.3)  # a visitor's pace between steps; anything still pending settles
    return status, picture


def time_examples(page, events: int) -> tuple[list[float], list[str]]:
    select = page.locator("select").filter(has=page.locator("option", has_text="liquid")).first
    labels = [t.strip() for t in select.locator("option").all_inner_texts()]
    times, chosen = [], []
    for i in range(events):
        label = labels[(i + 1) % len(labels)]
        before = page.evaluate("() => { window.__bench.t0 = performance.now(); return window.__bench.summary(); }")
        select.select_option(label=label)  # (a change event in a shadow root does not reach window)
        times.append(elapsed_until(page, NEW_PICTURE, {"revision": before["revision"],
                                                       "renders": before["renders"]}, timeout_ms=300_000))
        chosen.append(label)
        time.sleep(0.3)
    return times, chosen


def server_figures(size: int) -> str:
    """The server-side figures of bench_dashboard.py (same machine, same run)."""
    result = subprocess.run([sys.executable, str(ROOT / "benchmarks" / "bench_dashboard.py"), "--size", str(size),
                             "--repeats", "5"], capture_output=True, text=True, cwd=ROOT, timeout=1800)
    return result.stdout + (f"\n(bench_dashboard.py exited {result.returncode}: {result.stderr[-2000:]})"
                            if result.returncode else "")


def summarise(name: str, values: list[float]) -> dict:
    return {"name": name, "n": len(values), "median": statistics.median(values), "max": max(values)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20, help="slider steps and example switches (default 20)")
    parser.add_argument("--page-loads", type=int, default=3, help="fresh page loads after the first (default 3)")
    parser.add_argument("--size", type=int, default=64,
                        help="grid of the uploaded field the slider is timed on (default 64; 0: the first example)")
    parser.add_argument("--quick", action="store_true", help="20 events, 2 page loads, no server-side figures")
    parser.add_argument("--server-figures", action="store_true",
                        help="also run bench_dashboard.py (server side, 64^3) and print its figures")
    parser.add_argument("--json", type=Path, help="write the records here (run_all.py layout)")
    args = parser.parse_args()
    if args.quick:
        args.events, args.page_loads, args.server_figures = 20, 2, False
    from playwright.sync_api import sync_playwright

    load_start = os.getloadavg()
    port = free_port()
    log_path = Path(tempfile.mkdtemp(prefix="bench-browser-")) / "panel-serve.log"
    server = start_server(port, log_path)
    url = f"http://127.0.0.1:{port}/"
    results, notes = [], {}
    try:
        wait_for_port(port, server, log_path)
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
            context, page, cold_ms, summary = new_page(browser, url)
            info = page.evaluate("() => window.__bench.text('.elfviz-structure-info')")
            notes["first structure"] = " ".join(info.split())
            notes["cold first view (server just started: model load + first prediction)"] = f"{cold_ms:.0f} ms"
            if args.size:
                notes["slider steps on"] = upload_field(page, args.size)
            status, picture = time_slider(page, args.events)
            results += [summarise("slider -> status", status), summarise("slider -> picture", picture)]
            switches, chosen = time_examples(page, args.events)
            results.append(summarise("example switch -> picture", switches))
            notes["examples cycled"] = f"{len(set(chosen))} distinct (first visits include the model prediction)"
            context.close()
            loads = []
            for _ in range(args.page_loads):
                context, _, ms, _ = new_page(browser, url)
                loads.append(ms)
                context.close()
            results.append(summarise("first view", loads))
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    load_end = os.getloadavg()

    print(f"bench_browser: Chromium {CHROMIUM} on panel serve app/app.py; load average "
          f"{load_start[0]:.2f} -> {load_end[0]:.2f} ({os.cpu_count()} CPUs)")
    for key, value in notes.items():
        print(f"  {key}: {value}")
    print(f"{'event':<28}{'n':>4}{'median ms':>12}{'max ms':>10}{'target ms':>11}  verdict")
    records = []
    for r in results:
        target = TARGETS_MS[r["name"]]
        verdict = "PASS" if r["median"] <= target else "MISS"
        print(f"{r['name']:<28}{r['n']:>4}{r['median']:>12.0f}{r['max']:>10.0f}{target:>11.0f}  {verdict}")
        for stat in ("median", "max"):
            records.append({"benchmark": "browser", "metric": f"{r['name']} {stat}", "value": round(r[stat], 1),
                            "unit": "ms", "note": f"n={r['n']}, target median <= {target:.0f} ms: {verdict}"})
    if args.server_figures:
        print("\nserver side, same machine (benchmarks/bench_dashboard.py --size 64 --repeats 5):")
        print(server_figures(64))
    if args.json:
        args.json.write_text(json.dumps(records, indent=1))


if __name__ == "__main__":
    main()
