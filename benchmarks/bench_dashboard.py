"""Dashboard responsiveness, server side: isovalue change -> new isosurface + percolation status, first render.

Targets (issue 7): an isovalue change at 64^3 in <= 300 ms; the first render of the page in <= 10 s.

What is timed
-------------
isovalue change
    ``state.isovalue = v`` on a live :class:`~elfviz.dashboard.Dashboard`: the components at the new
    isovalue (:func:`elfviz.topology.components_at`), the percolation status, the isosurface meshes and
    the binary scene payload the browser's three.js view receives (:mod:`elfviz.viz.payload`); beside it,
    in the same run, what the previous transport cost for the same scene: a pyvista plotter serialised by
    Panel's VTK pane into a vtk.js scene (the dashboard used it until the three.js view replaced it).
first render
    ``build_app()`` (structure, model or stand-in field, percolation sweep, scene) plus the Bokeh document
    of the whole page (``server_doc``), i.e. everything the server does before the browser draws.
    ``--browser`` also measures the time until headless Chromium has drawn the 3D view.
trajectory frame step (issue #23: <= 300 ms at 48^3)
    ``TrajectoryPanel.show_frame(k)`` for every frame of the bundled example trajectory on a 48^3 grid, each
    frame predicted beforehand by the bundled model (its own field, not the stand-in's): the state update
    (structure and prediction together, the cached percolation sweep, the components at the isovalue, the
    status) and the scene's meshes and payload, i.e. everything the server does for one step of the player.
The browser-side figures (slider step to status and to picture, example switch) are in
``benchmarks/bench_browser.py``.

The ELF at 64^3 is the promolecular ELF of a bundled liquid frame (or of a built crystal when the dataset
is absent): it has the topology of real hydrogen ELFs, and the benchmark does not depend on model weights.

Usage::

    python benchmarks/bench_dashboard.py [--size 64] [--repeats 5] [--trajectory-size 48] [--browser] [--json OUT]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time

import numpy as np


def field_dataset(size: int):
    from elfviz import grid
    from elfviz.reference.promolecular import promolecular_elf

    try:
        from elfviz.data import dataset_path
        from elfviz.io.store import FrameCollection

        coll = FrameCollection(dataset_path())
        structure = coll.read(coll.frame_ids()[0])
        label = f"bundled frame {coll.frame_ids()[0]}"
    except Exception:
        from elfviz.structures import available_phases, build_phase

        name = available_phases()[0]
        structure = grid.from_atoms(build_phase(name), spacing=0.12)
        label = f"{name} crystal"
    ds = promolecular_elf(grid.structure_only(structure), shape=(size, size, size))
    return ds, f"{label}, promolecular ELF on {size}^3"


class FieldPredictor:
    """Stand-in model returning a precomputed field (the benchmark times the dashboard, not the model)."""

    version = "benchmark-field@0"
    device = "cpu"
    card: dict = {}

    def __init__(self, ds):
        self.ds = ds

    def predict(self, structure, *, shape=None, spacing=0.12, like=None):
        out = self.ds.copy()
        out.attrs["source"] = f"model:{self.version}"
        return out


def collection_with(ds):
    from elfviz.io.store import FrameCollection

    coll = FrameCollection(tempfile.mkdtemp(prefix="elfviz-bench-"))
    coll.add(ds, frame_id="bench-0", phase="liquid", split="test")
    return coll


def time_first_render(coll):
    from elfviz.dashboard import build_app

    start = time.perf_counter()
    from bokeh.document import Document

    page = build_app(collection=coll)
    built = time.perf_counter()
    page.server_doc(Document())  # the Bokeh document the server sends
    return page, built - start, time.perf_counter() - start


def time_library_path(ds, network, value):
    """Components, percolation status and isosurface meshes: the science behind one isovalue change."""
    from elfviz.dashboard.network_panel import percolation_status
    from elfviz.topology import components_at
    from elfviz.viz.scene import scene_meshes

    start = time.perf_counter()
    comps = components_at(ds, float(value))
    percolation_status(float(value), network.percolation_dimension(float(value)), comps.n_components)
    scene = scene_meshes(ds, float(value), components=comps)
    return time.perf_counter() - start, scene.spanning.n_cells + scene.finite.n_cells


def time_isovalue_changes(dash, isovalues):
    from elfviz.viz.payload import decode_payload

    rows = []
    for value in isovalues:
        library, triangles = time_library_path(dash.state.field_ds, dash.state.network, value)
        start = time.perf_counter()
        dash.state.isovalue = float(value)
        status = dash.network.status  # components, status, network plot, meshes and payload (no server: now)
        seconds = time.perf_counter() - start
        assert decode_payload(dash.view.view.payload)["revision"] == dash.view.revision
        rows.append((value, library, seconds, triangles, status, len(dash.view.view.payload)))
    return rows


def time_vtk_pane_transport(dash) -> tuple[float, int]:
    """Seconds and bytes to serialise the current scene through Panel's VTK pane (the previous transport)."""
    import panel as pn
    from bokeh.document import Document

    from elfviz.viz.scene import build_plotter

    start = time.perf_counter()
    plotter = build_plotter(dash.state.field_ds, dash.view.scene.isovalue, scene=dash.view.scene)
    pane = pn.pane.VTK(plotter.ren_win)
    model = pane.get_root(Document())
    seconds = time.perf_counter() - start
    size = len(model.scene or b"") + sum(len(v) for v in (model.arrays or {}).values())
    plotter.close()
    return seconds, size


def time_payload_transport(dash) -> tuple[float, int]:
    """Seconds and bytes to pack the current scene into the three.js view's payload."""
    from elfviz.viz.payload import scene_payload

    start = time.perf_counter()
    data = scene_payload(dash.view.scene, revision=0, view_key="bench")
    return time.perf_counter() - start, len(data)


def time_trajectory_steps(coll, size: int) -> dict:
    """Load the bundled example trajectory on a size^3 grid with the bundled model; time every frame step."""
    from elfviz.dashboard import Dashboard, predictions
    from elfviz.dashboard.trajectory_panel import Trajectory
    from elfviz.data import example_trajectory_path
    from elfviz.model import Predictor
    from elfviz.trajectory import on_one_grid, read_trajectory

    previous = predictions._predictor
    predictions.set_predictor(Predictor())
    try:
        dash = Dashboard(collection=coll)
        path = example_trajectory_path()
        frames = on_one_grid(read_trajectory(path), shape=(size, size, size))
        times = np.array([float(f.attrs["md_time_fs"]) for f in frames])
        start = time.perf_counter()
        dash.trajectory.load(Trajectory(name=path.name, frames=frames, times=times, has_time=True))
        dash.trajectory.predict_all()
        load_s = time.perf_counter() - start
        order = list(range(1, len(frames))) + list(range(len(frames) - 2, -1, -1))  # forward, then back
        steps, scenes = [], []
        for k in order:
            start = time.perf_counter()
            assert dash.trajectory.show_frame(k)
            steps.append(time.perf_counter() - start)
            scenes.append(dash.view.build_seconds)
    finally:
        predictions.set_predictor(previous)
    return {"frames": len(frames), "load_s": load_s, "steps": steps, "scenes": scenes,
            "model": getattr(dash.state.prediction, "attrs", {}).get("source", "?")}


def time_browser(coll) -> float:
    import socket

    import panel as pn
    from playwright.sync_api import sync_playwright

    from elfviz.dashboard import build_app

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    pn.serve(lambda: build_app(collection=coll), port=port, address="127.0.0.1", threaded=True, show=False)
    try:
        with sync_playwright() as p:
            ctx = p.chromium.launch_persistent_context(
                tempfile.mkdtemp(), executable_path="/usr/bin/chromium", headless=True,
                args=["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                      "--disable-background-networking", "--disable-component-update", "--disable-sync"])
            page = ctx.new_page()
            start = time.perf_counter()
            page.goto(f"http://127.0.0.1:{port}/", timeout=300_000)
            page.wait_for_function("window.elfvizScenes && window.elfvizScenes.length > 0 && "
                                   "window.elfvizScenes[0].renders > 0", timeout=300_000)
            seconds = time.perf_counter() - start
            ctx.close()
    finally:
        pn.state.kill_all_servers()
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=64, help="grid points per axis (default 64)")
    parser.add_argument("--repeats", type=int, default=5, help="isovalue changes to time (default 5)")
    parser.add_argument("--trajectory-size", type=int, default=48,
                        help="grid points per axis of the trajectory frames (default 48; 0 skips)")
    parser.add_argument("--browser", action="store_true", help="also time the page in headless Chromium")
    parser.add_argument("--json", help="write the figures here (run_all.py records)")
    args = parser.parse_args()

    from elfviz.dashboard import predictions

    ds, label = field_dataset(args.size)
    predictions.set_predictor(FieldPredictor(ds))
    coll = collection_with(ds)
    print(f"field: {label}")

    _, warm_build, warm_total = time_first_render(coll)  # imports, numba kernels, VTK start-up
    page, build_s, total_s = time_first_render(coll)
    dash = page.dashboard
    network = dash.state.network
    isovalues = np.linspace(max(network.phi - 0.15, 0.05), min(network.phi + 0.25, 0.95), args.repeats)
    rows = time_isovalue_changes(dash, isovalues)
    payload = [time_payload_transport(dash) for _ in range(3)]
    vtk_pane = [time_vtk_pane_transport(dash) for _ in range(3)]

    print(f"\n{'isovalue':>9} {'library (ms)':>13} {'dashboard (ms)':>15} {'triangles':>10} "
          f"{'payload (kB)':>13}  status")
    for value, library, update, triangles, status, size in rows:
        print(f"{value:9.3f} {library * 1e3:13.0f} {update * 1e3:15.0f} {triangles:10d} {size / 1e3:13.0f}  {status}")
    library = [r[1] for r in rows]
    updates = [r[2] for r in rows]
    print("\n| measure | value | target |\n|---|---|---|")
    print(f"| isovalue change -> components + status + isosurface meshes ({args.size}^3), median | "
          f"{statistics.median(library) * 1e3:.0f} ms | <= 300 ms |")
    print(f"| the same through the dashboard (+ network plot, scene payload), median | "
          f"{statistics.median(updates) * 1e3:.0f} ms | |")
    pay_s, pay_b = statistics.median(p[0] for p in payload), payload[0][1]
    vtk_s, vtk_b = statistics.median(p[0] for p in vtk_pane), vtk_pane[0][1]
    print(f"| scene transport: three.js payload (last scene), median | {pay_s * 1e3:.1f} ms, {pay_b / 1e3:.0f} kB | |")
    print(f"| scene transport: previous VTK pane (plotter + vtk.js serialisation), median | "
          f"{vtk_s * 1e3:.0f} ms, {vtk_b / 1e3:.0f} kB | |")
    print(f"| ratio VTK pane / payload | {vtk_s / pay_s:.0f}x time, {vtk_b / max(pay_b, 1):.1f}x bytes | |")
    print(f"| first render, cold process (build_app + document) | {warm_total:.1f} s | |")
    print(f"| first render, warm process (build_app + document) | {total_s:.1f} s (build_app {build_s:.1f} s)"
          " | <= 10 s |")
    records = [
        {"metric": f"isovalue change, dashboard ({args.size}^3), median", "value": statistics.median(updates),
         "unit": "s", "note": "components + status + network plot + meshes + payload; target <= 0.3 s"},
        {"metric": "first render, warm process", "value": total_s, "unit": "s", "note": "target <= 10 s"},
    ]
    if args.trajectory_size:
        run = time_trajectory_steps(coll, args.trajectory_size)
        steps, scenes, n = run["steps"], run["scenes"], args.trajectory_size
        print(f"| trajectory: {run['frames']} frames predicted and analysed at {n}^3 ({run['model']}) | "
              f"{run['load_s']:.1f} s | |")
        print(f"| trajectory frame step (state + components + status + meshes + payload, {n}^3), median / max "
              f"of {len(steps)} | {statistics.median(steps) * 1e3:.0f} / {max(steps) * 1e3:.0f} ms | <= 300 ms |")
        print(f"| of which the scene (meshes + payload), median | {statistics.median(scenes) * 1e3:.0f} ms | |")
        records += [
            {"metric": f"trajectory frame step ({n}^3), median", "value": statistics.median(steps), "unit": "s",
             "note": f"max {max(steps):.3f} s over {len(steps)} steps; target <= 0.3 s; {run['model']}"},
            {"metric": f"trajectory load, {run['frames']} frames predicted ({n}^3)", "value": run["load_s"],
             "unit": "s", "note": run["model"]},
        ]
    if args.browser:
        print(f"| first render in headless Chromium (to 3D canvas) | {time_browser(coll):.1f} s | <= 10 s |")
    if args.json:
        import json

        with open(args.json, "w") as handle:
            json.dump([{"benchmark": "dashboard", **r} for r in records], handle, indent=1)


if __name__ == "__main__":
    main()
