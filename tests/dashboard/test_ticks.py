"""LatestOnly: deferred to the next tick in a server session, coalesced, run at once elsewhere."""

from __future__ import annotations

import types

import pytest

pn = pytest.importorskip("panel")

from elfviz.dashboard import ticks  # noqa: E402


class FakeServerDocument:
    """Just enough of a served Bokeh document: a session context and a next-tick queue."""

    def __init__(self):
        self.session_context = types.SimpleNamespace(server_context=object())
        self.queue = []

    def add_next_tick_callback(self, callback):
        self.queue.append(callback)

    def run_ticks(self):
        """Run the queued callbacks, and those that background work queues meanwhile, until all is done."""
        while True:
            while self.queue:
                self.queue.pop(0)()
            if not ticks.in_flight() and not self.queue:
                return
            assert ticks.wait_for_workers(timeout=60), "background work did not finish within 60 s"


@pytest.fixture
def served(monkeypatch):
    doc = FakeServerDocument()
    monkeypatch.setattr(ticks.pn.state, "_curdoc", doc, raising=False)
    monkeypatch.setattr(type(ticks.pn.state), "curdoc", property(lambda self: doc), raising=True)
    monkeypatch.setattr(ticks, "set_curdoc", lambda d: __import__("contextlib").nullcontext())
    return doc


def test_without_a_server_session_every_request_runs_at_once():
    seen = []
    deferred = ticks.LatestOnly(lambda: seen.append("run"))
    assert not ticks.in_server_session()
    deferred.request()
    deferred.request()
    assert seen == ["run", "run"] and not deferred.pending


def test_in_a_server_session_requests_coalesce_and_the_latest_state_wins(served):
    state = {"value": 0}
    seen = []
    deferred = ticks.LatestOnly(lambda: seen.append(state["value"]))
    assert ticks.in_server_session()
    for value in (1, 2, 3):  # three slider steps before the loop gets to the rebuild
        state["value"] = value
        deferred.request()
    assert seen == [] and deferred.pending and len(served.queue) == 1
    served.run_ticks()
    assert seen == [3] and deferred.runs == 1 and deferred.requests == 3 and not deferred.pending
    deferred.request()  # a later request schedules a new run
    served.run_ticks()
    assert seen == [3, 3] and deferred.runs == 2
