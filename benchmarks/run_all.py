"""Run every elfviz benchmark in one go, print one table, and record it in benchmarks/RESULTS.md.

Each benchmark is a script of its own, run here as a subprocess with its own command line (so a crash or a
missing optional dependency in one does not stop the others):

  topology   bench_topology.py   one-sweep percolation vs bisection + scipy labelling, 64^3 / 128^3
  model      bench_model.py      model throughput (CPU; CUDA with --device cuda) and, in the full run,
                                 the model vs Quantum ESPRESSO reference speed-up on the same structure
  dashboard  bench_dashboard.py  dashboard update latency on the server; scene payload vs the VTK pane
  browser    bench_browser.py    the dashboard in headless Chromium: slider -> status / picture, example
                                 switch, first view (median and max, PASS/MISS per target)
  screen     bench_screen.py     screening throughput with 1 and 2 Dask workers, speed-up
  training   bench_training_memory.py  training pools shared by 4 ensemble members vs one member: time, memory
  classroom  bench_classroom.py  20 visitors open the dashboard at once: first view, slider latency while the
                                 others load, cross-talk, server memory peak and after they leave

Figures come from each script's ``--json`` output where it has one (a list of records
``{"benchmark", "metric", "value", "unit", "note"}``, or the model benchmark's own layout), else from its
printed table; each script's full output is kept in RESULTS.md as well. Options a script does not list in
its ``--help`` are not passed to it.

    python benchmarks/run_all.py [--quick] [--device cpu|cuda] [--only screen model] [--output PATH]

``--quick`` runs small cases (minutes, no DFT reference). The full run includes the QE reference timing and
takes long on a small machine. RESULTS.md is rewritten by each run (its history is in git); use --output to
write elsewhere, --no-write to only print. With ``--only``, the other benchmarks keep their last figures
(kept in ``results.json`` beside the report); each benchmark's section says when, at which commit and
under which load it was measured.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path

HERE = Path(__file__).resolve().parent
LIBRARIES = (
    "elfviz",
    "numpy",
    "scipy",
    "xarray",
    "numba",
    "torch",
    "dask",
    "distributed",
    "ase",
    "panel",
    "holoviews",
    "pyvista",
    "vtk",
    "pyscf",
)


@dataclass
class Benchmark:
    """One benchmark script and the options for its quick and full runs."""

    name: str
    script: str
    quick: list[str] = field(default_factory=list)
    full: list[str] = field(default_factory=list)
    quick_fallback: list[str] = field(default_factory=list)  # used when the script has no --quick


BENCHMARKS = [
    Benchmark("topology", "bench_topology.py", quick_fallback=["--sizes", "64", "--repeat", "1", "--no-jit"]),
    Benchmark(
        "model", "bench_model.py", full=["--qe"],
        quick_fallback=["--cases", "64:64", "--repeats", "1"]
    ),
    Benchmark("dashboard", "bench_dashboard.py"),
    Benchmark("browser", "bench_browser.py"),
    Benchmark("screen", "bench_screen.py"),
    Benchmark("training", "bench_training_memory.py"),
    Benchmark("classroom", "bench_classroom.py", quick=["--quick"]),
]


# ----------------------------------------------------------------------------- machine
def machine_description() -> dict[str, str]:
    """CPU model, cores, RAM, GPU, OS, Python and library versions, git commit, load average."""
    info: dict[str, str] = {"cpu": platform.processor() or platform.machine()}
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.lower().startswith("model name"):
                info["cpu"] = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    info["cores"] = str(os.cpu_count())
    try:
        kib = int(
            next(
                line for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
            ).split()[1]
        )
        info["ram"] = f"{kib / 1024**2:.1f} GiB"
    except (OSError, StopIteration, ValueError):
        info["ram"] = "unknown"
    info["gpu"] = "none"
    if shutil.which("nvidia-smi"):
        try:
            out = subprocess.run(
                ["nvidia-smi", "--query-gpu=name,memory.total,driver_version", "--format=csv,noheader"],
                capture_output=True,
                text=True,
                timeout=30,
            )
            if out.returncode == 0 and out.stdout.strip():
                info["gpu"] = "; ".join(line.strip() for line in out.stdout.strip().splitlines())
        except (OSError, subprocess.TimeoutExpired):
            pass
    info["os"] = platform.platform()
    info["python"] = platform.python_version()
    versions = []
    for name in LIBRARIES:
        try:
            versions.append(f"{name} {metadata.version(name)}")
        except metadata.PackageNotFoundError:
            pass
    info["libraries"] = ", ".join(versions)
    info["git commit"] = git_commit()
    info["load average (1 min) at start"] = f"{os.getloadavg()[0]:.1f}"
    return info


def git_commit() -> str:
    """The checkout's short commit, with ``+changes`` when the working tree differs from it."""
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=HERE, capture_output=True, text=True, timeout=10
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"], cwd=HERE, capture_output=True, text=True,
            timeout=30,
        ).stdout.strip()
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    return (commit + ("+changes" if dirty else "")) if commit else "unknown"


# ----------------------------------------------------------------------------- running
def supported_options(script: Path) -> set[str]:
    """Long options a script lists in its --help."""
    try:
        out = subprocess.run(
            [sys.executable, str(script), "--help"], capture_output=True, text=True, timeout=300
        )
    except subprocess.TimeoutExpired:
        return set()
    return set(re.findall(r"(--[a-z][a-z0-9-]*)", out.stdout))


def command_for(
    bench: Benchmark, *, quick: bool, device: str, json_path: Path, options: set[str]
) -> list[str]:
    args: list[str] = []
    if quick:
        args += ["--quick"] if "--quick" in options else bench.quick_fallback
        args += bench.quick
    else:
        args += bench.full
    if "--device" in options:
        args += ["--device", device]
    if "--json" in options:
        args += ["--json", str(json_path)]
    return [sys.executable, str(HERE / bench.script), *keep_supported(args, options)]


def keep_supported(args: list[str], options: set[str]) -> list[str]:
    """Drop options (and their values) that the script does not list in its --help."""
    kept: list[str] = []
    dropping = False
    for arg in args:
        if arg.startswith("--"):
            dropping = arg not in options
        if not dropping:
            kept.append(arg)
    return kept


def run_benchmark(bench: Benchmark, *, quick: bool, device: str, timeout: float) -> dict:
    """Run one script; return its command, status, seconds, output and figures (records)."""
    script = HERE / bench.script
    result = {
        "name": bench.name,
        "script": bench.script,
        "status": "missing",
        "seconds": 0.0,
        "output": "",
        "records": [],
        "command": "",
        "measured": {
            "when": datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "commit": git_commit(),
            "load": f"{os.getloadavg()[0]:.1f}",
            "run": "quick" if quick else "full",
            "device": device,
        },
    }
    if not script.exists():
        result["output"] = f"{bench.script} is not in benchmarks/ yet"
        return result
    options = supported_options(script)
    with tempfile.TemporaryDirectory() as folder:
        json_path = Path(folder) / "out.json"
        command = command_for(bench, quick=quick, device=device, json_path=json_path, options=options)
        result["command"] = " ".join(["python", f"benchmarks/{bench.script}", *command[2:]]).replace(
            str(json_path), "OUT.json"
        )
        print(f"[{bench.name}] {result['command']}", flush=True)
        start = time.perf_counter()
        try:
            out = subprocess.run(command, capture_output=True, text=True, timeout=timeout, cwd=HERE.parent)
            result["status"] = "ok" if out.returncode == 0 else f"exit {out.returncode}"
            result["output"] = out.stdout + (("\n[stderr]\n" + _tail(out.stderr)) if out.returncode else "")
        except subprocess.TimeoutExpired as exc:
            result["status"] = f"timeout after {timeout:.0f} s"
            result["output"] = (
                (exc.stdout or b"").decode() if isinstance(exc.stdout, bytes) else (exc.stdout or "")
            )
        result["seconds"] = time.perf_counter() - start
        result["measured"]["load"] += f" -> {os.getloadavg()[0]:.1f}"
        data = None
        if json_path.exists():
            try:
                data = json.loads(json_path.read_text())
            except json.JSONDecodeError:
                data = None
    result["records"] = figures(bench.name, data, result["output"])
    return result


def _tail(text: str, lines: int = 30) -> str:
    return "\n".join(text.strip().splitlines()[-lines:])


# ----------------------------------------------------------------------------- figures
def figures(name: str, data, output: str) -> list[dict]:
    """Records ``{benchmark, metric, value, unit, note}`` from a script's JSON or printed output."""
    if isinstance(data, list) and all(isinstance(r, dict) and {"metric", "value"} <= set(r) for r in data):
        return [
            {
                "benchmark": r.get("benchmark", name),
                "metric": r["metric"],
                "value": r["value"],
                "unit": r.get("unit", ""),
                "note": r.get("note", ""),
            }
            for r in data
        ]
    if name == "model" and isinstance(data, dict) and "cases" in data:
        return model_records(data)
    if name == "topology":
        return topology_records(output)
    if isinstance(data, dict):
        return [
            {"benchmark": name, "metric": key, "value": value, "unit": "", "note": ""}
            for key, value in _flatten(data)
            if isinstance(value, (int, float)) and not isinstance(value, bool)
        ]
    return []


def _flatten(data, prefix: str = ""):
    for key, value in data.items():
        path = f"{prefix}{key}"
        if isinstance(value, dict):
            yield from _flatten(value, path + ".")
        else:
            yield path, value


def model_records(data: dict) -> list[dict]:
    """Records from bench_model.py's JSON (device, model, cases[], qe_seconds, speedup_vs_qe, and the
    side-by-side ratios ``member_versus_ensemble`` and ``member_phi_reuse`` of the first case, and the
    atom-channel candidate's time per frame against the bundled model's on every case)."""
    device, model = data.get("device", "?"), data.get("model", "?")
    records = []

    def add(metric: str, value, unit: str, note: str) -> None:
        records.append({"benchmark": "model", "metric": metric, "value": value, "unit": unit, "note": note})

    def size_of(case: dict) -> str:
        return f"{case.get('atoms')} atoms, {case.get('grid')}^3"

    for case in data["cases"]:
        split = f"; descriptors {case['descriptors']:.3g} s" if case.get("descriptors") is not None else ""
        add(f"time per frame ({size_of(case)})", case.get("total"), "s", f"{model} on {device}{split}")
        add(f"throughput ({size_of(case)})", case.get("points_per_s"), "points/s", f"{model} on {device}")
    first = data["cases"][0]
    pair = data.get("member_versus_ensemble")
    if pair:
        add(f"network time, ensemble of {pair['members']} / one member ({size_of(first)})",
            pair["ensemble_network_s"] / pair["member_network_s"], "x",
            f"{pair['ensemble_network_s']:.3g} s vs {pair['member_network_s']:.3g} s, same descriptors, same run")
    reuse = data.get("member_phi_reuse")
    if reuse:
        add(f"members' phi after an ensemble prediction, evaluated again / reused ({size_of(first)})",
            reuse["evaluated_again_s"] / reuse["reused_s"], "x",
            f"{reuse['evaluated_again_s']:.3g} s vs {reuse['reused_s']:.3g} s, same prediction, same run")
    for case, other in zip(data["cases"], data.get("atom_channels", []), strict=False):
        add(f"atom-channel candidate / bundled model, time per frame ({size_of(case)})",
            other["total"] / case["total"], "x",
            f"{other['total']:.3g} s (4 untrained members; atom densities {other['atom_densities']:.3g} s, network "
            f"{other['network']:.3g} s) vs {model} {case['total']:.3g} s, same structure and grid, same run")
    for case, other in zip(data["cases"], data.get("messages", []), strict=False):
        add(f"message-passing candidate with long-wavelength head / bundled model, time per frame ({size_of(case)})",
            other["total"] / case["total"], "x",
            f"{other['total']:.3g} s (4 untrained members; atom densities {other['atom_densities']:.3g} s, network "
            f"{other['network']:.3g} s, head {other.get('head', 0.0):.3g} s) vs {model} {case['total']:.3g} s, "
            "same structure and grid, same run")
    compared = data.get("compare") or []
    for other_model in [compared] if isinstance(compared, dict) else compared:  # one dict before 2.1
        for case, other in zip(data["cases"], other_model.get("cases", []), strict=False):
            add(f"{model} / {other_model['model']}, time per frame ({size_of(case)})",
                case["total"] / other["total"], "x",
                f"{case['total']:.3g} s vs {other['total']:.3g} s, same structure and grid, same run")
    if "speedup_vs_qe" in data:
        add(f"speed-up vs QE reference ({size_of(first)})", data["speedup_vs_qe"], "x",
            f"QE {data.get('qe_seconds', float('nan')):.1f} s vs model {first.get('total'):.3g} s, same structure "
            "and grid, same run")
    return records


_TOPOLOGY_ROW = re.compile(
    r"^(?P<field>noise|atoms)\s+(?P<n>\d+)\s+(?P<wall>[\d.]+)s\s+(?P<cpu>[\d.]+)s\s+\S+\s+"
    r"(?:(?P<bwall>[\d.]+)s\s+(?P<bcpu>[\d.]+)s\s+(?P<calls>\d+)\s+(?P<speedup>[\d.]+)x\s+"
    r"(?P<agree>True|False))?"
)


def topology_records(output: str) -> list[dict]:
    """Records from bench_topology.py's printed table (sweep time, bisection time, speed-up, agreement)."""
    records = []
    for line in output.splitlines():
        match = _TOPOLOGY_ROW.match(line.strip())
        if not match:
            continue
        size = f"{match['field']} field {match['n']}^3"
        records.append(
            {
                "benchmark": "topology",
                "metric": f"one-sweep analysis ({size})",
                "value": float(match["wall"]),
                "unit": "s",
                "note": f"cpu {match['cpu']} s",
            }
        )
        if match["speedup"]:
            records.append(
                {
                    "benchmark": "topology",
                    "metric": f"speed-up vs bisection ({size})",
                    "value": float(match["speedup"]),
                    "unit": "x",
                    "note": f"bisection {match['bwall']} s, {match['calls']} labellings; "
                    f"thresholds agree: {match['agree']}",
                }
            )
    return records


# ----------------------------------------------------------------------------- report
def format_value(value) -> str:
    if isinstance(value, float):
        return f"{value:.3g}" if abs(value) < 1e4 else f"{value:.3e}"
    return str(value)


def table_lines(results: list[dict]) -> list[str]:
    rows = [("benchmark", "metric", "value", "unit", "note")]
    for result in results:
        if not result["records"]:
            rows.append((result["name"], f"({result['status']}; see output)", "-", "", ""))
        for r in result["records"]:
            rows.append((r["benchmark"], r["metric"], format_value(r["value"]), r["unit"], r["note"]))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    lines = []
    for k, row in enumerate(rows):
        lines.append(
            "  ".join(cell.ljust(widths[i]) if i < 4 else cell for i, cell in enumerate(row)).rstrip()
        )
        if k == 0:
            lines.append("  ".join("-" * w for w in widths))
    return lines


def markdown(results: list[dict], machine: dict[str, str], *, command: str) -> str:
    """The report: machine, one figures table, and each benchmark's command, provenance and output."""
    now = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    out = [
        "# elfviz benchmark results",
        "",
        f"Written by `benchmarks/run_all.py`; last run: {now}, `{command}`.",
        "Each benchmark's figures were measured side by side in one run of its script, on the machine below;",
        "its section under *Runs* says when, at which commit and under which load (1-min load average).",
        "",
        "## Machine of the last run",
        "",
    ]
    out += [f"- **{key}**: {value}" for key, value in machine.items()]
    warning = load_warning(machine)
    if warning:
        out += ["", f"**Warning:** {warning}"]
    out += ["", "## Figures", "", "| benchmark | metric | value | unit | note |", "|---|---|---|---|---|"]
    for result in results:
        if not result["records"]:
            out.append(f"| {result['name']} | ({result['status']}; see output) | - | | |")
        for r in result["records"]:
            note = str(r["note"]).replace("|", "/")
            out.append(
                f"| {r['benchmark']} | {r['metric']} | {format_value(r['value'])} | {r['unit']} | {note} |"
            )
    out += ["", "## Runs", ""]
    for result in results:
        measured = result.get("measured") or {}
        out += [f"### {result['name']}: {result['status']}, {result['seconds']:.0f} s", ""]
        if measured:
            out += [
                f"Measured {measured.get('when', '?')} at commit {measured.get('commit', '?')} on "
                f"{measured.get('machine', '?')} ({measured.get('run', '?')} run, device "
                f"{measured.get('device', '?')}, load {measured.get('load', '?')}).",
                "",
            ]
        out += [
            f"`{result['command'] or result['script']}`",
            "",
            "```",
            result["output"].rstrip() or "(no output)",
            "```",
            "",
        ]
    return "\n".join(out)


def merged(results: list[dict], previous: list[dict]) -> list[dict]:
    """This run's results, with the previous results of benchmarks not run this time, in BENCHMARKS order."""
    by_name = {r["name"]: r for r in previous}
    by_name.update({r["name"]: r for r in results})
    order = [b.name for b in BENCHMARKS]
    return sorted(by_name.values(), key=lambda r: order.index(r["name"]) if r["name"] in order else len(order))


def previous_results(json_path: Path, markdown_path: Path) -> list[dict]:
    """The last results: from the JSON sidecar, else read back from a report written before it existed."""
    if json_path.exists():
        try:
            return json.loads(json_path.read_text())["results"]
        except (json.JSONDecodeError, KeyError, TypeError):
            print(f"warning: {json_path} is unreadable; other benchmarks' figures are not carried over")
            return []
    if markdown_path.exists():
        return results_from_markdown(markdown_path.read_text())
    return []


_RUN_HEADING = re.compile(r"^### (?P<name>\S+): (?P<status>.+), (?P<seconds>[\d.]+) s$")


def results_from_markdown(text: str) -> list[dict]:
    """Results read back from a report this script wrote (figures table and *Runs* sections)."""
    header = re.search(r"(?:Latest run|last run): (?P<when>[^,]+), `(?P<command>[^`]+)`", text)
    commit = re.search(r"^- \*\*git commit\*\*: (\S+)", text, re.M)
    cpu = re.search(r"^- \*\*cpu\*\*: (.+)$", text, re.M)
    cores = re.search(r"^- \*\*cores\*\*: (.+)$", text, re.M)
    gpu = re.search(r"^- \*\*gpu\*\*: (.+)$", text, re.M)
    loads = re.findall(r"^- \*\*load average \(1 min\) at (?:start|end)\*\*: (\S+)", text, re.M)
    results: dict[str, dict] = {}
    lines = text.splitlines()
    for k, line in enumerate(lines):
        heading = _RUN_HEADING.match(line)
        if not heading:
            continue
        command = next((x.strip("`") for x in lines[k + 1:k + 4] if x.startswith("`")), "")
        start = lines.index("```", k) + 1
        end = lines.index("```", start)
        results[heading["name"]] = {
            "name": heading["name"], "script": "", "status": heading["status"],
            "seconds": float(heading["seconds"]), "output": "\n".join(lines[start:end]), "records": [],
            "command": command,
            "measured": {
                "when": header["when"] if header else "?", "commit": commit[1] if commit else "?",
                "load": " -> ".join(loads) or "?",
                "run": "quick" if header and "--quick" in header["command"] else "full",
                "device": "cuda" if header and "--device cuda" in header["command"] else "cpu",
                "machine": (f"{cpu[1] if cpu else '?'}, {cores[1] if cores else '?'} cores, "
                            f"GPU {gpu[1] if gpu else '?'}"),
            },
        }
    table = lines[lines.index("## Figures"):lines.index("## Runs")] if "## Runs" in lines else []
    owner = None  # a script may name its records otherwise (training -> training_pools): rows follow their run
    for line in table:
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if not line.startswith("| ") or len(cells) != 5 or cells[0] == "benchmark":
            continue
        prefixed = [name for name in results if cells[0].startswith(name)]
        owner = cells[0] if cells[0] in results else (max(prefixed, key=len) if prefixed else owner)
        if owner is None or cells[2] == "-":
            continue
        try:
            value: float | int | str = float(cells[2])
        except ValueError:
            value = cells[2]
        results[owner]["records"].append(
            {"benchmark": cells[0], "metric": cells[1], "value": value, "unit": cells[3], "note": cells[4]}
        )
    return list(results.values())


def load_warning(machine: dict[str, str]) -> str | None:
    """A warning when other jobs used the cores during the run (absolute times are then inflated)."""
    try:
        cores = int(machine.get("cores", "0"))
        load = max(
            float(machine.get("load average (1 min) at start", "0")),
            float(machine.get("load average (1 min) at end", "0")),
        )
    except ValueError:
        return None
    if cores and load > 0.75 * cores:
        return (
            f"the machine was busy with other jobs (load average {load:.1f} on {cores} cores): absolute "
            "times are inflated and parallel speed-ups cannot show; rerun on an idle machine for "
            "figures to quote. Ratios measured side by side in one script are less affected."
        )
    return None


def write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text)
    partial.replace(path)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0],
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog=__doc__,
    )
    parser.add_argument("--quick", action="store_true", help="small cases, no DFT reference")
    parser.add_argument(
        "--device", default="cpu", choices=("cpu", "cuda"), help="device for the model benchmarks"
    )
    parser.add_argument("--only", nargs="+", choices=[b.name for b in BENCHMARKS], help="run only these")
    parser.add_argument(
        "--timeout",
        type=float,
        default=None,
        help="seconds per benchmark (default 900 with --quick, 7200 otherwise)",
    )
    parser.add_argument(
        "--output", default=str(HERE / "RESULTS.md"), help="markdown report (default: RESULTS.md)"
    )
    parser.add_argument("--no-write", action="store_true", help="print the table only")
    args = parser.parse_args(argv)
    timeout = args.timeout or (900.0 if args.quick else 7200.0)
    machine = machine_description()
    results = [
        run_benchmark(b, quick=args.quick, device=args.device, timeout=timeout)
        for b in BENCHMARKS
        if not args.only or b.name in args.only
    ]
    machine["load average (1 min) at end"] = f"{os.getloadavg()[0]:.1f}"
    for result in results:
        result["measured"]["machine"] = f"{machine['cpu']}, {machine['cores']} cores, GPU {machine['gpu']}"
    print()
    print("\n".join(table_lines(results)))
    warning = load_warning(machine)
    if warning:
        print(f"warning: {warning}")
    ok = all(r["status"] in ("ok", "missing") for r in results)
    if not args.no_write:
        output = Path(args.output)
        sidecar = output.with_name("results.json") if output.name == "RESULTS.md" else output.with_suffix(".json")
        if args.only:
            results = merged(results, previous_results(sidecar, output))
        command = " ".join(["python benchmarks/run_all.py", *(argv if argv is not None else sys.argv[1:])])
        write_atomically(output, markdown(results, machine, command=command) + "\n")
        write_atomically(sidecar, json.dumps({"machine": machine, "results": results}, indent=1) + "\n")
        print(f"\nwritten {output} and {sidecar}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
