"""Deferred, coalescing updates for a live page, heavy work off the event loop, and changes to live Bokeh
models that reach the browser.

In a ``panel serve`` session a handler that sets many things at once reaches the browser as one message at
its end. :class:`LatestOnly` splits the work: the cheap part of an event runs now (and reaches the browser
first); the expensive part runs on the next tick of the server's event loop, once, however many times it
was requested meanwhile, with whatever state is current then (latest value wins).

All sessions of a server share one event loop, so anything slow on it (a model prediction takes seconds)
freezes every visitor's page. :class:`Background` moves such work to worker threads shared by all
sessions (:func:`executor`): the work itself is a plain function of inputs taken on the loop; its result
is applied to the session's components back on the loop. Predictions run in a lane of their own (one at a
time: torch uses every core for one), meshes, file reading and analyses in a lane of
:data:`WORK_THREADS` threads, so a student's slider is not queued behind another student's prediction.

Outside a server session (a notebook, a script, the unit tests) both run at once.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any

import panel as pn
from panel.io.state import set_curdoc

log = logging.getLogger(__name__)

WORK_THREADS = max(2, min(4, os.cpu_count() or 2))
"""Worker threads of the ``"work"`` lane (meshes, file reading, analyses), shared by all sessions."""

LANES = {"model": 1, "work": WORK_THREADS}
"""Worker threads per lane: ``"model"`` runs the shared predictor (one structure at a time), ``"work"``
everything else."""

_executors: dict[str, ThreadPoolExecutor] = {}
_executors_lock = threading.Lock()
_in_flight = 0  # background jobs computing (or waiting for a worker), all sessions
_in_flight_changed = threading.Condition()


def in_flight() -> int:
    """Background jobs of all sessions whose compute step has not finished yet."""
    with _in_flight_changed:
        return _in_flight


def wait_for_workers(timeout: float = 60.0) -> bool:
    """Wait until no background job is computing (their results may still wait for the event loop); False
    on timeout. For tests and benchmarks."""
    with _in_flight_changed:
        return _in_flight_changed.wait_for(lambda: _in_flight == 0, timeout=timeout)


def _count(delta: int) -> None:
    global _in_flight
    with _in_flight_changed:
        _in_flight += delta
        _in_flight_changed.notify_all()


def in_server_session() -> bool:
    """True inside a live ``panel serve`` session (where a next-tick callback can be scheduled)."""
    doc = pn.state.curdoc
    return bool(doc is not None and doc.session_context is not None
                and getattr(doc.session_context, "server_context", None) is not None)


class LatestOnly:
    """Run ``callback`` on the next tick of the session's event loop; requests made before it runs coalesce.

    Parameters
    ----------
    callback : callable
        Takes no arguments; reads the current state when it runs.

    Examples
    --------
    >>> calls = []
    >>> deferred = LatestOnly(lambda: calls.append(len(calls)))
    >>> deferred.request(); deferred.request()   # no server session: runs at once, each time
    >>> calls
    [0, 1]
    """

    def __init__(self, callback: Callable[[], None]):
        self._callback = callback
        self._pending = False
        self.requests = 0
        self.runs = 0

    @property
    def pending(self) -> bool:
        """True while a run is scheduled and has not started."""
        return self._pending

    def request(self) -> None:
        """Run the callback now (no server session) or once on the next tick (server session)."""
        self.requests += 1
        if not in_server_session():
            self._run()
            return
        if self._pending:
            return
        self._pending = True
        doc = pn.state.curdoc

        def scheduled() -> None:
            self._pending = False
            with set_curdoc(doc):  # Panel sends the model changes of the current document only
                self._run()

        doc.add_next_tick_callback(scheduled)

    def _run(self) -> None:
        self.runs += 1
        self._callback()


def dispatching(callback) -> None:
    """Run ``callback`` (which changes live Bokeh models) so that its changes reach the browser.

    Panel's own rule for model updates (``Reactive._apply_update``): in the session's own thread and
    event loop the change is made inside :func:`panel.io.document.unlocked`, which sends the held
    change events to the page even when no Bokeh document lock is held (an async callback, a
    scheduler); from anywhere else it is scheduled on the session's event loop. Outside a server (tests,
    notebooks) it simply runs.
    """
    from panel.io.document import unlocked
    from panel.io.state import state

    doc = state.curdoc
    if doc is None or doc.session_context is None or state._unblocked(doc):
        with unlocked():
            callback()
    else:
        doc.add_next_tick_callback(callback)


def executor(lane: str = "work") -> ThreadPoolExecutor:
    """The shared thread pool of a lane (:data:`LANES`), created on first use."""
    with _executors_lock:
        pool = _executors.get(lane)
        if pool is None:
            pool = _executors[lane] = ThreadPoolExecutor(max_workers=LANES[lane], thread_name_prefix=f"elfviz-{lane}")
        return pool


class Then:
    """What a :class:`Background` compute step returns to continue in another lane: ``function(*args)``
    runs there and its result (or another :class:`Then`) is the job's result."""

    def __init__(self, lane: str, function: Callable[..., Any], *args: Any):
        self.lane, self.function, self.args = lane, function, args


class Background:
    """Heavy work of one session in a worker thread, its result applied on the session's event loop.

    ``prepare()`` runs on the loop when the work is requested and returns the inputs (a snapshot of the
    session's state); ``compute(inputs)`` runs in a worker of ``lane`` and must not touch widgets or the
    state (pure functions and the shared caches only); it may return :class:`Then` to continue in another
    lane. ``apply(result)`` runs on the loop and updates the session. Requests made while the work runs
    coalesce: when it finishes, its result is applied (``apply_stale=True``: a recent picture is better
    than none) or dropped, and the work runs once more with the state current then.

    Outside a server session all three run at once, in the caller's thread.

    Parameters
    ----------
    prepare, compute, apply : callable
    lane : str
        Worker lane of the compute step (:data:`LANES`).
    on_error : callable, optional
        Called on the loop with the exception if ``compute`` raised (default: logged).
    apply_stale : bool
        Apply a result whose inputs were superseded by a newer request before it finished.

    Examples
    --------
    >>> shown = []
    >>> job = Background(lambda: 2, lambda x: x * x, shown.append)
    >>> job.request()   # no server session: runs at once
    >>> shown
    [4]
    """

    def __init__(self, prepare: Callable[[], Any], compute: Callable[[Any], Any], apply: Callable[[Any], None], *,
                 lane: str = "work", on_error: Callable[[BaseException], None] | None = None,
                 apply_stale: bool = True):
        if lane not in LANES:
            raise ValueError(f"unknown lane {lane!r}; one of {sorted(LANES)}")
        self._prepare, self._compute, self._apply = prepare, compute, apply
        self._lane = lane
        self._on_error = on_error
        self._apply_stale = apply_stale
        self._requested = 0  # generation of the latest request
        self._running: int | None = None  # generation being computed
        self.runs = 0

    @property
    def busy(self) -> bool:
        """True while the work is being computed (or waits for a worker)."""
        return self._running is not None

    def request(self) -> None:
        """Run the work (now outside a server, in a worker in a server session; coalesced while it runs)."""
        self._requested += 1
        if not in_server_session():
            self.runs += 1
            try:
                result = _finish_inline(self._compute(self._prepare()))
            except Exception as exc:
                self._failed(exc)
                return
            self._apply(result)
            return
        if self._running is None:
            self._start(pn.state.curdoc)

    def _start(self, doc) -> None:
        generation = self._requested
        self._running = generation
        self.runs += 1
        try:
            inputs = self._prepare()
        except Exception as exc:
            self._running = None
            self._failed(exc)
            return
        outcome: Future = Future()

        def settle(step: Future) -> None:  # in a worker thread
            try:
                result = step.result()
                if isinstance(result, Then):
                    executor(result.lane).submit(result.function, *result.args).add_done_callback(settle)
                    return
                outcome.set_result(result)
            except BaseException as exc:  # noqa: BLE001 - handed to the loop
                outcome.set_exception(exc)
            try:
                doc.add_next_tick_callback(lambda: self._finished(doc, generation, outcome))
            except Exception:  # the session was closed meanwhile: nothing to update
                log.debug("session closed before its background work finished", exc_info=True)
            finally:
                _count(-1)

        _count(+1)
        try:
            executor(self._lane).submit(self._compute, inputs).add_done_callback(settle)
        except Exception:
            _count(-1)
            self._running = None
            raise

    def _finished(self, doc, generation: int, outcome: Future) -> None:  # on the loop
        self._running = None
        superseded = self._requested != generation
        with set_curdoc(doc):
            error = outcome.exception()
            if error is not None:
                if not superseded:
                    self._failed(error)
            elif not superseded or self._apply_stale:
                when_page_ready(doc, lambda: self._apply(outcome.result()))
            if self._requested != generation and self._running is None:
                self._start(doc)

    def _failed(self, exc: BaseException) -> None:
        if self._on_error is not None:
            self._on_error(exc)
        else:
            log.error("background work failed: %s", exc, exc_info=exc)


def when_page_ready(doc, callback: Callable[[], None]) -> None:
    """Run ``callback`` (which changes the session's components) now, or, while the browser has fetched the
    page's document but not yet reported it drawn, once it has.

    Panel counts a session as connected only when the page reports it is drawn, and drops the changes
    made before that, expecting the page to fetch the whole document afterwards; a page that fetched it
    already never receives them (a page that took long to draw kept its empty first 3-D scene). Before
    the browser fetches the document, changes simply go into the copy it will fetch.
    """
    from panel.io.state import state

    session = getattr(getattr(doc, "session_context", None), "session", None)
    with set_curdoc(doc):
        if session is not None and session.connection_count > 0 and not state._connected.get(doc):
            pn.state.onload(callback)
        else:
            callback()


def _finish_inline(result: Any) -> Any:
    while isinstance(result, Then):
        result = result.function(*result.args)
    return result
