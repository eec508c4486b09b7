"""Deferred, coalescing updates for a live page, and changes to live Bokeh models that reach the browser.

In a ``panel serve`` session a handler that sets many things at once reaches the browser as one message at
its end. :class:`LatestOnly` splits the work: the cheap part of an event runs now (and reaches the browser
first); the expensive part runs on the next tick of the server's event loop, once, however many times it
was requested meanwhile, with whatever state is current then (latest value wins). Outside a server session
(a notebook, a script, the unit tests) it runs at once.
"""

from __future__ import annotations

from collections.abc import Callable

import panel as pn
from panel.io.state import set_curdoc


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
