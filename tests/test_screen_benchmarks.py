"""benchmarks/run_all.py: option filtering, figure extraction from each script, report, failing scripts."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

BENCH_DIR = Path(__file__).resolve().parents[1] / "benchmarks"


@pytest.fixture(scope="module")
def run_all():
    spec = importlib.util.spec_from_file_location("run_all", BENCH_DIR / "run_all.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules["run_all"] = module  # dataclasses look the module up while the class is built
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop("run_all", None)


def test_unsupported_options_are_dropped_with_their_values(run_all):
    args = ["--sizes", "64", "128", "--quick", "--json", "x.json"]
    assert run_all.keep_supported(args, {"--sizes", "--json"}) == ["--sizes", "64", "128", "--json", "x.json"]
    bench = run_all.Benchmark("model", "bench_model.py", full=["--qe"], quick_fallback=["--cases", "64:64"])
    quick = run_all.command_for(
        bench,
        quick=True,
        device="cuda",
        json_path=Path("o.json"),
        options={"--cases", "--device", "--json", "--qe"},
    )
    assert quick[2:] == ["--cases", "64:64", "--device", "cuda", "--json", "o.json"]
    full = run_all.command_for(bench, quick=False, device="cpu", json_path=Path("o.json"), options={"--qe"})
    assert full[2:] == ["--qe"]


def test_topology_table_is_parsed(run_all):
    output = (
        "cores: 2, load average: 1.0\n"
        "noise     64      0.120s     0.110s    no       2.400s      2.300s     60     20.0x  True  0.5\n"
        "atoms    128      1.500s     1.400s   yes            -           -      -         -     -  0.4\n"
    )
    records = run_all.topology_records(output)
    assert [(r["metric"], r["value"]) for r in records] == [
        ("one-sweep analysis (noise field 64^3)", 0.12),
        ("speed-up vs bisection (noise field 64^3)", 20.0),
        ("one-sweep analysis (atoms field 128^3)", 1.5),
    ]


def test_model_json_and_record_lists(run_all):
    data = {
        "device": "CPU, 2 threads",
        "model": "elfnet-fft@1.0",
        "qe_seconds": 300.0,
        "speedup_vs_qe": 600.0,
        "cases": [{"atoms": 64, "grid": 64, "descriptors": 0.2, "total": 0.5, "points_per_s": 5.2e5}],
    }
    records = run_all.figures("model", data, "")
    assert [r["unit"] for r in records] == ["s", "points/s", "x"] and records[2]["value"] == 600.0
    data["member_versus_ensemble"] = {"member_network_s": 0.15, "ensemble_network_s": 0.54, "members": 4}
    ratio = run_all.figures("model", data, "")[2]
    assert ratio["value"] == pytest.approx(3.6) and "ensemble of 4" in ratio["metric"] and "0.54 s" in ratio["note"]
    data["member_phi_reuse"] = {"reused_s": 0.2, "evaluated_again_s": 1.4}
    reuse = run_all.figures("model", data, "")[3]
    assert reuse["value"] == pytest.approx(7.0) and "reused" in reuse["metric"] and "1.4 s vs 0.2 s" in reuse["note"]
    data["atom_channels"] = [{"atoms": 64, "grid": 64, "total": 1.5, "atom_densities": 0.3, "network": 0.9}]
    side = [r for r in run_all.figures("model", data, "") if "atom-channel" in r["metric"]]
    assert len(side) == 1 and side[0]["value"] == pytest.approx(3.0) and "1.5 s" in side[0]["note"]
    data["compare"] = [{"model": "b@2.0", "cases": [{"total": 1.0}]}, {"model": "c@1.6", "cases": [{"total": 0.25}]}]
    compared = [r for r in run_all.figures("model", data, "") if r["metric"].startswith("elfnet-fft@1.0 /")]
    assert [(r["metric"].split(",")[0], r["value"]) for r in compared] == [
        ("elfnet-fft@1.0 / b@2.0", pytest.approx(0.5)), ("elfnet-fft@1.0 / c@1.6", pytest.approx(2.0))]
    data["compare"] = data["compare"][0]  # the one-model layout of earlier results.json files
    assert len([r for r in run_all.figures("model", data, "") if r["metric"].startswith("elfnet-fft@1.0 /")]) == 1
    listed = [{"metric": "throughput", "value": 2.0, "unit": "items/s"}]
    assert run_all.figures("screen", listed, "")[0]["benchmark"] == "screen"
    assert run_all.figures("other", {"a": {"b": 1.5}, "c": "text"}, "") == [
        {"benchmark": "other", "metric": "a.b", "value": 1.5, "unit": "", "note": ""}
    ]


def test_scripts_run_as_subprocesses_and_report(run_all, tmp_path, monkeypatch):
    (tmp_path / "bench_good.py").write_text(
        "import argparse, json\n"
        "p = argparse.ArgumentParser(); p.add_argument('--quick', action='store_true')\n"
        "p.add_argument('--json')\n"
        "a = p.parse_args()\n"
        "print('fast enough', a.quick)\n"
        "record = {'metric': 'speed', 'value': 3.0, 'unit': 'items/s', 'note': 'n|a'}\n"
        "json.dump([record], open(a.json, 'w'))\n"
    )
    (tmp_path / "bench_bad.py").write_text("import sys\nprint('partial')\nsys.exit(3)\n")
    monkeypatch.setattr(run_all, "HERE", tmp_path)
    monkeypatch.setattr(
        run_all,
        "BENCHMARKS",
        [
            run_all.Benchmark("good", "bench_good.py"),
            run_all.Benchmark("bad", "bench_bad.py"),
            run_all.Benchmark("absent", "bench_absent.py"),
        ],
    )
    out = tmp_path / "RESULTS.md"
    code = run_all.main(["--quick", "--output", str(out)])
    assert code == 1  # one script failed
    text = out.read_text()
    assert "| good | speed | 3 | items/s | n/a |" in text
    assert "| bad | (exit 3; see output) |" in text and "partial" in text
    assert "| absent | (missing; see output) |" in text
    assert "**cores**" in text and "**libraries**" in text and "numpy" in text
    assert "fast enough True" in text and "--json OUT.json" in text


def test_only_keeps_the_other_benchmarks_last_figures_with_their_provenance(run_all, tmp_path, monkeypatch):
    script = (
        "import argparse, json\n"
        "p = argparse.ArgumentParser(); p.add_argument('--json')\n"
        "a = p.parse_args()\n"
        "json.dump([{{'metric': 'speed', 'value': {value}, 'unit': 'x', 'note': ''}}], open(a.json, 'w'))\n"
    )
    (tmp_path / "bench_one.py").write_text(script.format(value=1.5))
    (tmp_path / "bench_two.py").write_text(script.format(value=2.5))
    monkeypatch.setattr(run_all, "HERE", tmp_path)
    monkeypatch.setattr(
        run_all, "BENCHMARKS", [run_all.Benchmark("one", "bench_one.py"), run_all.Benchmark("two", "bench_two.py")]
    )
    out = tmp_path / "RESULTS.md"
    assert run_all.main(["--output", str(out)]) == 0
    first = out.read_text()
    assert "| one | speed | 1.5 | x |" in first and "| two | speed | 2.5 | x |" in first
    (tmp_path / "bench_two.py").write_text(script.format(value=9.5))
    assert run_all.main(["--only", "two", "--output", str(out)]) == 0
    second = out.read_text()
    assert "| one | speed | 1.5 | x |" in second and "| two | speed | 9.5 | x |" in second  # one kept, two new
    assert second.index("### one") < second.index("### two") and second.count("Measured ") == 2
    assert (tmp_path / "results.json").exists()
    # a report written before the JSON sidecar existed is read back from its own markdown
    (tmp_path / "results.json").unlink()
    back = {r["name"]: r for r in run_all.results_from_markdown(second)}
    assert back["one"]["records"][0]["value"] == 1.5 and back["two"]["records"][0]["value"] == 9.5
    assert back["one"]["status"] == "ok" and "speed" not in back["one"]["output"]


def test_busy_machine_is_flagged(run_all):
    busy = run_all.load_warning(
        {"cores": "2", "load average (1 min) at start": "15.7", "load average (1 min) at end": "3.0"}
    )
    assert busy and "15.7 on 2 cores" in busy
    assert (
        run_all.load_warning(
            {"cores": "16", "load average (1 min) at start": "1.0", "load average (1 min) at end": "2.0"}
        )
        is None
    )


def test_training_pool_benchmark_measures_shared_and_single_pools(run_all):
    spec = importlib.util.spec_from_file_location("bench_training_memory", BENCH_DIR / "bench_training_memory.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    shared = module.measure("shared", 2, 2)
    single = module.measure("single", 2, 2)
    assert (shared["pools"], single["pools"]) == (2, 1)
    assert shared["points_per_pool"] == single["points_per_pool"] == 2 * 14000  # 2 frames, recipe points
    assert shared["seconds"] > 0 and shared["peak_rss_gb"] > 0
    assert "training" in [b.name for b in run_all.BENCHMARKS]



def test_model_benchmark_times_every_other_shipped_model_or_those_named():
    spec = importlib.util.spec_from_file_location("bench_model", BENCH_DIR / "bench_model.py")
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    from elfviz.model.bundled import bundled_models

    shipped = list(bundled_models())
    default, others = shipped[0], shipped[1:]
    assert bench.compared_models("others", default) == others and bench.compared_models("none", default) == []
    assert bench.compared_models(f"{others[0]},{default}", default) == [others[0]]  # the bundled one is timed anyway
    with pytest.raises(SystemExit, match=r"--compare nope@1\.0: not a shipped model"):
        bench.compared_models(f"{others[0]},nope@1.0", default)
