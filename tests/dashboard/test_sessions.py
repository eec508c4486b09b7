"""Sessions of a live server: isolated from each other, kept while their page loads, collected once closed.

A real Panel server runs in a thread of this process (stand-in model, tiny frames) with a short
unused-session lifetime; Bokeh websocket clients play the visitors (what they change reaches the server;
the test reads the server-side dashboards).
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import gc
import socket
import threading
import time
import urllib.request
import weakref

import pytest

pn = pytest.importorskip("panel")

from elfviz.dashboard import build_app, sessions, ticks  # noqa: E402

LIFETIME_MS = 400


class Registry:
    """The server-side dashboards (weakly) and documents, by the ``visitor`` argument of the session."""

    def __init__(self, collection):
        self.collection = collection
        self.dashboards: dict[str, weakref.ref] = {}
        self.documents: dict[str, weakref.ref] = {}
        self.changed = threading.Condition()

    def app(self):
        name = (pn.state.session_args.get("visitor") or [b""])[0].decode()
        page = build_app(collection=self.collection)
        with self.changed:
            self.dashboards[name] = weakref.ref(page.dashboard)
            self.documents[name] = weakref.ref(pn.state.curdoc)
            self.changed.notify_all()
        return page

    def dashboard(self, name: str, timeout: float = 30.0):
        with self.changed:
            assert self.changed.wait_for(lambda: name in self.dashboards, timeout=timeout), f"no session {name}"
            return self.dashboards[name]()


@pytest.fixture(scope="module")
def server(collection, predictor):
    registry = Registry(collection)
    build_app(collection=collection)  # warm: first prediction and sweep cached
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    thread = pn.serve(registry.app, port=port, address="127.0.0.1", threaded=True, show=False,
                      check_unused_sessions_milliseconds=150, unused_session_lifetime_milliseconds=LIFETIME_MS)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.1)
    yield f"http://127.0.0.1:{port}/", registry
    thread.stop()


class Visitor:
    """A Bokeh websocket client on its own thread and IOLoop (what it changes in its document reaches the server).

    The client never touches the main thread's event loop: a session-wide Playwright (tests/browser) keeps
    one running there, and replacing it broke that browser's teardown.
    """

    def __init__(self, url: str, name: str):
        self._thread = concurrent.futures.ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"visitor-{name}")
        self._call(self._connect, url, name)

    def _call(self, function, *args):
        return self._thread.submit(function, *args).result(timeout=120)

    def _connect(self, url: str, name: str) -> None:
        from bokeh.client import pull_session
        from bokeh.events import DocumentReady
        from tornado.ioloop import IOLoop

        asyncio.set_event_loop(asyncio.new_event_loop())  # this visitor's thread only
        self.loop = IOLoop.current()
        self.session = pull_session(url=url, io_loop=self.loop, arguments={"visitor": name})
        self.session.document.callbacks.send_event(DocumentReady())  # what a browser says once it drew the page
        self._wait(0.3)  # (each visitor's loop runs only while it waits: let this message go out)

    def _model(self, css: str):
        return next(m for m in self.session.document.models if css in (getattr(m, "css_classes", None) or []))

    def choose(self, index: int) -> str:
        def choose():
            select = self._model("elfviz-example")
            value = [o if isinstance(o, str) else o[0] for o in select.options][index]
            select.value = value
            return value

        return self._call(choose)

    def slide(self, value: float) -> None:
        def slide():
            slider = self._model("elfviz-isovalue")
            slider.value = value
            slider.set_from_json("value_throttled", value)

        self._call(slide)

    def _wait(self, seconds: float) -> None:
        self.loop.run_sync(lambda: asyncio.sleep(seconds))

    def wait(self, seconds: float) -> None:
        self._call(self._wait, seconds)

    def close(self) -> None:
        def close():
            self.session.close()
            self._wait(0.2)
            self.loop.close(all_fds=True)

        try:
            self._call(close)
        finally:
            self._thread.shutdown(wait=True)


def settle(seconds: float = 0.5) -> None:
    assert ticks.wait_for_workers(timeout=30)
    time.sleep(seconds)


def test_two_sessions_are_isolated(server):
    url, registry = server
    a, b = Visitor(url, "iso-a"), Visitor(url, "iso-b")
    try:
        dash_a, dash_b = registry.dashboard("iso-a"), registry.dashboard("iso-b")
        a.wait(0.5)
        settle()
        first_label = dash_b.state.label
        key = a.choose(-1)
        a.wait(0.5)
        a.slide(0.61)
        a.wait(1.0)
        settle()
        assert dash_a.state.label == dash_a.structure.examples[key].label and dash_a.state.isovalue == 0.61
        assert dash_a.view.scene.isovalue == 0.61
        assert dash_b.state.label == first_label and dash_b.state.isovalue == 0.5  # B saw none of it
        assert dash_b.view.scene.isovalue == 0.5 and dash_b.state.structure is not dash_a.state.structure
    finally:
        a.close()
        b.close()


def test_a_closed_session_is_collected_and_its_memory_returned(server):
    url, registry = server
    visitor = Visitor(url, "closing")
    dashboard = registry.dashboard("closing")
    visitor.choose(2)
    visitor.wait(1.0)
    settle()
    state = weakref.ref(dashboard.state)
    assert dashboard.state.field_ds is not None
    del dashboard
    visitor.close()
    deadline = time.monotonic() + 20
    while registry.dashboards["closing"]() is not None and time.monotonic() < deadline:
        time.sleep(0.2)
        gc.collect()
    assert registry.dashboards["closing"]() is None and state() is None  # Bokeh discarded it, nothing kept it
    document = registry.documents["closing"]()
    assert document is None or document.session_context is None  # Bokeh destroyed the document


def test_a_closed_sessions_data_is_dropped_even_if_something_keeps_its_components(collection, predictor):
    from elfviz.dashboard import Dashboard

    dashboard = Dashboard(collection=collection)
    assert dashboard.state.prediction is not None and dashboard.view.scene is not None
    dashboard.release()  # what the session-destroyed hook calls
    assert dashboard.state.structure is None and dashboard.state.prediction is None
    assert dashboard.state.field_ds is None and dashboard.view.scene is None and dashboard.residuals.summary is None


def test_freed_memory_is_returned_to_the_system():
    assert sessions.return_freed_memory() in (True, False)  # glibc: malloc_trim; elsewhere a collection only


def test_a_page_whose_browser_has_not_connected_yet_is_kept(server, monkeypatch):
    url, registry = server
    monkeypatch.setattr(sessions, "TOUCH_EVERY_S", 0.1)
    monkeypatch.setattr(sessions, "PAGE_LOAD_GRACE_S", 4.0)
    start = time.monotonic()
    urllib.request.urlopen(f"{url}?visitor=loading", timeout=60).read()  # the page, but no websocket yet
    document, gone_after = registry.documents["loading"], None
    while time.monotonic() - start < 15:
        current = document()
        if current is None or current.session_context is None:  # Bokeh destroyed the session
            gone_after = time.monotonic() - start
            break
        del current
        time.sleep(0.1)
    # without the block Bokeh discards it 0.4-0.55 s after the page was served; with it, after the grace period
    assert gone_after is not None and 3.0 < gone_after < 10.0, gone_after


def test_sessions_made_for_a_websocket_use_the_servers_stylesheets(server):
    from bokeh.models import ImportedStyleSheet
    from panel.io.resources import CDN_DIST

    url, registry = server
    visitor = Visitor(url, "websocket-made")  # no page request: Bokeh builds the session for the websocket
    try:
        document = registry.documents["websocket-made"]()
        urls = [str(m.url) for m in document.models if isinstance(m, ImportedStyleSheet)]
        assert urls and not [u for u in urls if u.startswith(CDN_DIST)]
    finally:
        visitor.close()
