"""Background: heavy work in shared worker threads, its result applied on the session's event loop."""

from __future__ import annotations

import threading
import time

import numpy as np
import pytest

from elfviz import grid
from elfviz.dashboard import Dashboard, predictions, ticks

from .test_ticks import served  # noqa: F401  (fixture: a fake served document with a next-tick queue)


def test_outside_a_server_the_work_runs_at_once_in_the_callers_thread():
    seen = []
    job = ticks.Background(lambda: 3, lambda x: (x, threading.current_thread().name), seen.append)
    job.request()
    assert seen == [(3, threading.current_thread().name)] and not job.busy


def test_in_a_session_compute_runs_in_a_worker_and_apply_on_the_loop(served):  # noqa: F811
    seen = []
    job = ticks.Background(lambda: threading.current_thread().name,
                           lambda caller: (caller, threading.current_thread().name),
                           lambda result: seen.append((result, threading.current_thread().name)))
    job.request()
    assert job.busy and seen == []  # the caller (the event loop) is free at once
    served.run_ticks()
    (caller, worker), applied_in = seen[0]
    assert worker.startswith("elfviz-work") and caller == applied_in == threading.current_thread().name


def test_requests_during_a_run_coalesce_into_one_more_run_of_the_latest_state(served):  # noqa: F811
    gate, state, applied = threading.Event(), {"value": 0}, []

    def compute(value):
        gate.wait(10)
        return value

    job = ticks.Background(lambda: state["value"], compute, applied.append, apply_stale=False)
    job.request()
    for value in (1, 2, 3):  # three slider steps while the first build runs
        state["value"] = value
        job.request()
    gate.set()
    served.run_ticks()
    assert applied == [3] and job.runs == 2  # the stale first result dropped, one more run of the latest

    stale_kept = []
    gate.clear()
    job = ticks.Background(lambda: state["value"], compute, stale_kept.append, apply_stale=True)
    state["value"] = 4
    job.request()
    state["value"] = 5
    job.request()
    gate.set()
    served.run_ticks()
    assert stale_kept == [4, 5]  # a recent picture first, then the latest


def test_work_can_continue_in_the_model_lane_and_errors_reach_the_loop(served):  # noqa: F811
    lanes, errors = [], []

    def compute(x):
        lanes.append(threading.current_thread().name)
        return ticks.Then("model", lambda y: lanes.append(threading.current_thread().name) or y + 1, x)

    job = ticks.Background(lambda: 1, compute, lambda result: lanes.append(result))
    job.request()
    served.run_ticks()
    assert lanes[0].startswith("elfviz-work") and lanes[1].startswith("elfviz-model") and lanes[2] == 2

    def broken(_):
        raise ValueError("broken on purpose")

    ticks.Background(lambda: None, broken, lambda _: None, on_error=errors.append).request()
    served.run_ticks()
    assert len(errors) == 1 and "on purpose" in str(errors[0])


class SlowPredictor:
    """A model that takes its time (the real one takes seconds on 2 cores)."""

    version, device, card = "slow@0", "cpu", {}

    def __init__(self, seconds: float):
        self.seconds, self.calls = seconds, 0

    def predict(self, structure, *, shape=None, **kwargs):
        self.calls += 1
        time.sleep(self.seconds)
        ds = grid.structure_only(structure)
        out = grid.make_dataset(ds["cell"].values, ds["positions"].values, ds["numbers"].values, shape=shape)
        rng = np.random.default_rng(self.calls)
        out = grid.with_field(out, "elf", rng.uniform(0, 1, size=shape).astype(np.float32))
        out.attrs.update(source=f"model:{self.version}", device=self.device)
        return out


@pytest.fixture
def slow_model():
    previous = predictions._predictor
    slow = SlowPredictor(1.5)
    predictions.set_predictor(slow)
    yield slow
    predictions.set_predictor(previous)


@pytest.fixture
def two_students(collection, slow_model):
    """Two sessions' dashboards (built before the fake server document is in place)."""
    return Dashboard(collection=collection), Dashboard(collection=collection)


def test_one_students_prediction_does_not_hold_up_anothers_slider(two_students, served):  # noqa: F811
    student_a, student_b = two_students
    keys = list(student_a.structure.examples)
    start = time.perf_counter()
    student_a.structure._select.value = keys[-1]  # not predicted yet: the model lane works for 1.5 s
    assert time.perf_counter() - start < 0.5  # the event loop is free at once
    assert "Loading" in student_a.structure._info.object

    student_b.state.isovalue = 0.42  # meanwhile B moves the slider: status at once, meshes from a worker
    assert "0.420" in student_b.network.status
    assert ticks.wait_for_workers(timeout=1.0) is False  # A's prediction is still running ...
    deadline = time.monotonic() + 1.0
    while student_b.view.scene.isovalue != 0.42 and time.monotonic() < deadline:
        while served.queue:
            served.queue.pop(0)()
        time.sleep(0.02)
    assert student_b.view.scene.isovalue == 0.42  # ... and B already has its new picture
    assert student_a.state.label != student_a.structure.examples[keys[-1]].label
    served.run_ticks()  # A's structure arrives with its prediction, once
    assert student_a.state.label == student_a.structure.examples[keys[-1]].label
    assert student_a.state.prediction is not None and student_b.state.isovalue == 0.42
    assert student_b.state.label != student_a.state.label  # B's page kept its own structure
