"""Screening on a real Dask cluster started as separate processes, and interruption/resume of the CLI.

The scheduler and worker are launched with ``python -m dask scheduler`` / ``python -m dask worker`` on
127.0.0.1, exactly as a user would start them, and torn down at the end of the module.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import ase.io
import pytest
from ase import Atoms
from test_screen_support import SPACING, failing_model, slow_promolecular, write_trajectory

from elfviz.cli import main
from elfviz.reference.promolecular import promolecular_elf
from elfviz.screen import screen
from elfviz.screen.journal import read_results

TESTS_DIR = str(Path(__file__).resolve().parent)
STARTUP_TIMEOUT_S = 180  # generous: the CI machine may be busy


def _env(**extra: str) -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([TESTS_DIR] + [p for p in [env.get("PYTHONPATH")] if p])
    env.update(extra)
    return env


def _default_sigint() -> None:
    """In the child: take Ctrl-C as Python does in a terminal (a parent started in the background with
    ``&`` passes SIGINT on as ignored, and Python then installs no KeyboardInterrupt handler)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _stop(process: subprocess.Popen) -> None:
    """Stop a process group we started: SIGTERM, then SIGKILL after 20 s."""
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(20)


@pytest.fixture(scope="module")
def dask_address(tmp_path_factory):
    """Address of a scheduler with one single-threaded worker, both separate processes on 127.0.0.1."""
    from distributed import Client

    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = folder / "scheduler.json"
    log = open(folder / "cluster.log", "w")
    scheduler = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "dask",
            "scheduler",
            "--host",
            "127.0.0.1",
            "--port",
            "0",
            "--no-dashboard",
            "--scheduler-file",
            str(scheduler_file),
        ],
        stdout=log,
        stderr=subprocess.STDOUT,
        env=_env(),
        start_new_session=True,
    )
    worker = None
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not scheduler_file.exists() or not scheduler_file.read_text().strip():
            assert scheduler.poll() is None, (folder / "cluster.log").read_text()
            assert time.monotonic() < deadline, "the Dask scheduler did not start"
            time.sleep(0.2)
        address = json.loads(scheduler_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "dask",
                "worker",
                "--scheduler-file",
                str(scheduler_file),
                "--nthreads",
                "1",
                "--nworkers",
                "1",
                "--no-dashboard",
                "--local-directory",
                str(folder / "worker"),
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
            env=_env(),
            start_new_session=True,
        )
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(1, timeout=STARTUP_TIMEOUT_S)
        yield address
    finally:
        if worker is not None:
            _stop(worker)
        _stop(scheduler)
        log.close()


def _data_lines(path: Path) -> int:
    return max(0, len(path.read_text().splitlines()) - 1) if path.exists() else 0


def _wait_for_rows(path: Path, n: int, process: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while _data_lines(path) < n:
        assert process.poll() is None, f"the screening run ended early: {process.communicate()}"
        assert time.monotonic() < deadline, "no progress in the screening run"
        time.sleep(0.05)


def _check_complete(path: Path, n_items: int, before) -> None:
    """Every item exactly once, and the rows written before the interruption kept as they were."""
    lines = path.read_text().splitlines()
    table = read_results(path)
    assert len(lines) == n_items + 1 and len(table) == n_items  # no duplicate rows
    assert table["key"].is_unique and (table["status"] == "ok").all()
    assert table["frame"].tolist() == [str(i) for i in range(n_items)] or sorted(
        table["frame"].astype(int)
    ) == list(range(n_items))
    kept = table.set_index("key").loc[before["key"], ["finished_utc", "worker", "phi"]]
    assert kept.to_numpy().tolist() == before[["finished_utc", "worker", "phi"]].to_numpy().tolist()


def test_remote_scheduler_gives_the_inline_results(dask_address, tmp_path):
    path = write_trajectory(tmp_path / "md.extxyz", 3)
    triple = tmp_path / "h3.extxyz"  # failing_model raises for > 2 atoms: an exception on the worker
    ase.io.write(triple, Atoms("H3", [[0, 0, 0], [0.8, 0, 0], [1.6, 0.2, 0]], cell=[3, 3, 3], pbc=True))
    table = screen(
        [path, triple],
        scheduler=dask_address,
        model=failing_model,
        spacing=SPACING,
        out_csv=tmp_path / "r.csv",
    )
    reference = screen([path], scheduler="inline", model=promolecular_elf, spacing=SPACING)
    assert table["status"].tolist() == ["ok"] * 3 + ["error"] and table.attrs["workers"] == 1
    assert table.loc[3, "error"].startswith("predict:") and "synthetic model failure" in table.loc[3, "error"]
    from distributed import Client

    with Client(dask_address) as client:
        (worker_address,) = client.nthreads()
    assert set(table["worker"]) == {worker_address}  # computed by the separately started worker
    for column in ("phi", "phi_star", "t1", "t2", "rs_bohr", "density_g_cm3"):
        assert table[column].tolist()[:3] == reference[column].tolist()
    assert len(read_results(tmp_path / "r.csv")) == 4


def test_cli_on_remote_scheduler_records_a_bad_file(dask_address, tmp_path, capsys):
    path = write_trajectory(tmp_path / "md.extxyz", 2)
    bad = tmp_path / "broken.extxyz"
    bad.write_text('2\nLattice="oops\n')
    out = tmp_path / "r.csv"
    code = main(
        [
            "screen",
            path,
            str(bad),
            "-o",
            str(out),
            "--scheduler",
            dask_address,
            "--model",
            "promolecular",
            "--spacing",
            str(SPACING),
            "--netcdf",
            str(tmp_path / "r.nc"),
        ]
    )
    assert code == 1
    status = read_results(out).set_index("frame")  # the CSV is in completion order
    assert status["status"].to_dict() == {"0": "ok", "1": "ok", "*": "error"}
    assert "broken.extxyz" in status.loc["*", "error"]
    assert (tmp_path / "r.nc").exists()
    assert "2 ok, 1 failed" in capsys.readouterr().out


def test_unreachable_scheduler_is_a_clear_error(tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("elfviz.screen.cluster.CONNECT_TIMEOUT_S", 2.0)
    path = write_trajectory(tmp_path / "md.extxyz", 1)
    code = main(
        [
            "screen",
            path,
            "-o",
            str(tmp_path / "r.csv"),
            "--scheduler",
            "tcp://127.0.0.1:9",
            "--model",
            "promolecular",
            "--spacing",
            str(SPACING),
        ]
    )
    assert code == 2
    assert "cannot reach the Dask scheduler" in capsys.readouterr().err


def _screen_command(inputs, out, *extra):
    return [
        sys.executable,
        "-m",
        "elfviz",
        "screen",
        *inputs,
        "-o",
        str(out),
        "--model",
        "test_screen_support:slow_promolecular",
        "--spacing",
        str(SPACING),
        "--no-progress",
        *extra,
    ]


def test_ctrl_c_mid_batch_then_resume(dask_address, tmp_path, monkeypatch):
    n_items = 10
    path = write_trajectory(tmp_path / "md.extxyz", n_items)
    out = tmp_path / "r.csv"
    process = subprocess.Popen(
        _screen_command([path], out, "--scheduler", dask_address),
        env=_env(ELFVIZ_TEST_DELAY="0.5"),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
        preexec_fn=_default_sigint,
    )
    try:
        _wait_for_rows(out, 2, process)
        process.send_signal(signal.SIGINT)
        _, err = process.communicate(timeout=120)
    finally:
        _stop(process)
    assert process.returncode == 130, err
    assert "to resume" in err
    before = read_results(out)
    assert 2 <= len(before) < n_items
    monkeypatch.setenv("ELFVIZ_TEST_DELAY", "0")
    again = screen([path], scheduler=dask_address, model=slow_promolecular, spacing=SPACING, out_csv=out)
    assert again.attrs["n_skipped"] == len(before) and again.attrs["n_computed"] == n_items - len(before)
    _check_complete(out, n_items, before)


def test_killed_process_with_embedded_cluster_then_resume(tmp_path, monkeypatch):
    """The embedded LocalCluster (2 worker processes) computes correct rows; killing everything mid-batch
    loses none of them, and an inline re-run completes the table without duplicates."""
    n_items = 8
    path = write_trajectory(tmp_path / "md.extxyz", n_items)
    out = tmp_path / "r.csv"
    process = subprocess.Popen(
        _screen_command([path], out, "--workers", "2"),
        env=_env(ELFVIZ_TEST_DELAY="0.5"),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        _wait_for_rows(out, 2, process)
        os.killpg(process.pid, signal.SIGKILL)  # the client, its scheduler and workers die at once
        process.wait(60)
    finally:
        _stop(process)
    before = read_results(out)
    assert 2 <= len(before) < n_items
    assert all(str(w).startswith("tcp://127.0.0.1:") for w in before["worker"])  # embedded cluster workers
    monkeypatch.setenv("ELFVIZ_TEST_DELAY", "0")
    reference = screen([path], scheduler="inline", model=slow_promolecular, spacing=SPACING).set_index("key")
    for column in ("phi", "phi_star", "t1", "rs_bohr"):
        assert before[column].tolist() == reference.loc[before["key"], column].tolist()
    again = screen([path], scheduler="inline", model=slow_promolecular, spacing=SPACING, out_csv=out)
    assert again.attrs["n_skipped"] == len(before) and again.attrs["n_computed"] == n_items - len(before)
    _check_complete(out, n_items, before)


def test_predictor_weights_are_loaded_on_the_remote_worker(dask_address, tmp_path):
    from test_screen_support import tiny_weights

    weights = tiny_weights(tmp_path)
    path = write_trajectory(tmp_path / "md.extxyz", 2)
    table = screen([path], scheduler=dask_address, model=weights, spacing=SPACING, device="cpu")
    assert table["status"].tolist() == ["ok", "ok"], table["error"].tolist()
    assert set(table["model"]) == {"model:tiny-untrained@0"} and set(table["device"]) == {"cpu"}
    reference = screen([path], scheduler="inline", model=weights, spacing=SPACING)
    assert table["phi"].tolist() == pytest.approx(reference["phi"].tolist(), abs=1e-6)
    with pytest.raises(Exception, match="weights"):
        screen([path], scheduler="inline", model=tmp_path / "missing.pt", spacing=SPACING)
