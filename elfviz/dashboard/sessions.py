"""The life of one served session: kept while its page loads, released when it closes.

A Bokeh server creates a session when a browser asks for the page, and discards it when no browser has
been connected to it for the *unused-session lifetime* (15 s by default, checked every 17 s). With a
whole class opening the page at once on a small server, a browser can take longer than that from its
page request to its websocket (the server builds the others' pages meanwhile, on the same event loop
that serves the JavaScript). Bokeh then throws the session away and builds a new one for the websocket:
twice the work, and the new session's document never had its page rendered (Panel gave its components
CDN stylesheet URLs, and the 3-D view never showed the first scene it was sent).
:func:`keep_while_page_loads` keeps a session whose browser has not connected yet from being discarded,
for at most :data:`PAGE_LOAD_GRACE_S` (Bokeh's ``block_expiration``); after the first connection Bokeh's
own rule applies again, so a closed page's session goes as soon as before.

When Bokeh destroys a session, :func:`release_on_close` drops the dashboard's references to its data
(fields, predictions, scenes), so the memory is free even if something outside still refers to a
component of the closed page, and :func:`return_freed_memory` (a moment later, once for a burst of closed
sessions) hands the freed memory back to the operating system: the sessions' arrays were allocated in
several threads (the event loop and the workers), and glibc keeps what is freed in a thread's arena
unless asked to trim it (after 10 visitors left: 1053 MiB resident before the trim, 727 MiB after,
against 611 MiB before they came).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import gc
import logging
import time
from collections.abc import Callable

import panel as pn

log = logging.getLogger(__name__)

PAGE_LOAD_GRACE_S = 180.0
"""Longest time (s) a session waits for its browser's first connection before Bokeh may discard it."""

TOUCH_EVERY_S = 2.0
"""How often (s) a waiting session checks whether its browser has connected."""

TRIM_DELAY_S = 2.0
"""Seconds after the last of a burst of closed sessions before freed memory is returned to the system."""

_trim_pending = None  # the loop's handle of the scheduled trim


def return_freed_memory() -> bool:
    """Collect garbage and return freed heap memory to the operating system (glibc's ``malloc_trim``; on
    other C libraries only the garbage collection). Returns True if memory was trimmed.

    Examples
    --------
    >>> return_freed_memory() in (True, False)
    True
    """
    gc.collect()
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
        trim = getattr(libc, "malloc_trim", None)
    except OSError:
        trim = None
    if trim is None:
        return False
    trim.argtypes = [ctypes.c_size_t]
    return bool(trim(0))


def _schedule_trim() -> None:
    """Trim once, :data:`TRIM_DELAY_S` after the last session of a burst closed."""
    global _trim_pending
    from tornado.ioloop import IOLoop

    loop = IOLoop.current()
    if _trim_pending is not None:
        loop.remove_timeout(_trim_pending)

    def trim() -> None:
        global _trim_pending
        _trim_pending = None
        start = time.perf_counter()
        trimmed = return_freed_memory()
        log.debug("returned freed memory to the system (%s) in %.3f s", trimmed, time.perf_counter() - start)

    _trim_pending = loop.call_later(TRIM_DELAY_S, trim)


def trim_pending() -> bool:
    """True while a trim is scheduled (for tests)."""
    return _trim_pending is not None


def _server_session(doc):
    context = getattr(doc, "session_context", None)
    return getattr(context, "session", None) if context is not None else None


def keep_while_page_loads(doc=None, grace_s: float | None = None, every_s: float | None = None) -> bool:
    """Keep the served session of ``doc`` (default: the current one) until its browser first connects.

    The session's expiration is blocked (Bokeh's ``ServerSession.block_expiration``) from its creation until
    its first connection, checked every ``every_s`` seconds (default :data:`TOUCH_EVERY_S`), or for at most
    ``grace_s`` (default :data:`PAGE_LOAD_GRACE_S`). Returns False (and does nothing) outside a server
    session.
    """
    from tornado.ioloop import IOLoop

    grace_s = PAGE_LOAD_GRACE_S if grace_s is None else grace_s
    every_s = TOUCH_EVERY_S if every_s is None else every_s
    doc = doc if doc is not None else pn.state.curdoc
    context = getattr(doc, "session_context", None)
    if context is None or getattr(context, "server_context", None) is None:
        return False
    loop = IOLoop.current()
    deadline = time.monotonic() + grace_s
    blocked = []  # the session whose expiration this blocks

    def check() -> None:
        session = _server_session(doc)
        if session is not None and not blocked:
            if getattr(session, "destroyed", False) or session.connection_count > 0:
                return  # connected already (or gone): Bokeh's own rule applies
            session.block_expiration()
            blocked.append(session)
        if blocked:
            session = blocked[0]
            if getattr(session, "destroyed", False):
                return
            if session.connection_count > 0 or time.monotonic() > deadline:
                session.unblock_expiration()  # from now on it goes 15 s after its last connection closes
                return
        elif time.monotonic() > deadline:
            return
        loop.call_later(min(every_s, 0.5) if not blocked else every_s, check)

    loop.add_callback(check)
    return True


def release_on_close(release: Callable[[], None], doc=None) -> bool:
    """Call ``release()`` when the served session of ``doc`` (default: the current one) is destroyed.
    Returns False (and does nothing) outside a server session."""
    doc = doc if doc is not None else pn.state.curdoc
    context = getattr(doc, "session_context", None)
    if context is None or getattr(context, "server_context", None) is None:
        return False

    def destroyed(session_context) -> None:
        try:
            release()
            _schedule_trim()
        except Exception:  # never let a cleanup error break Bokeh's session teardown
            log.exception("releasing a closed session's data failed")

    doc.on_session_destroyed(destroyed)
    return True
