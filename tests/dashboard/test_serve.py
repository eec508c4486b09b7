"""`elfviz serve`: arguments, port checks, and the call to panel.serve."""

from __future__ import annotations

import inspect
import socket

from elfviz.cli import main
from elfviz.cli import serve as serve_cli


def parse(argv):
    from elfviz.cli import build_parser

    return build_parser().parse_args(["serve", *argv])


def test_defaults_bind_localhost_5006_without_a_browser():
    kwargs = serve_cli.serve_kwargs(parse([]))
    assert kwargs["address"] == "127.0.0.1" and kwargs["port"] == 5006 and kwargs["show"] is False
    assert "websocket_origin" not in kwargs


def test_public_address_allows_its_own_origin():
    kwargs = serve_cli.serve_kwargs(parse(["--address", "0.0.0.0", "--port", "8080",
                                           "--allow-websocket-origin", "lab.example.org:8080"]))
    assert "0.0.0.0:8080" in kwargs["websocket_origin"]
    assert "lab.example.org:8080" in kwargs["websocket_origin"]


def test_port_in_use_is_a_clear_error(capsys):
    with socket.socket() as busy:
        busy.bind(("127.0.0.1", 0))
        busy.listen(1)
        port = busy.getsockname()[1]
        assert main(["serve", "--port", str(port)]) == 2
    err = capsys.readouterr().err
    assert f"port {port}" in err and "already in use" in err and "Traceback" not in err


def test_bad_port_number_is_rejected(capsys):
    assert main(["serve", "--port", "70000"]) == 2
    assert "0-65535" in capsys.readouterr().err


def test_run_serves_build_app_after_one_warm_up_page(monkeypatch):
    import panel as pn

    import elfviz.dashboard as dashboard
    from elfviz.dashboard.sources import SERVE_MAX_UPLOAD_BYTES

    events = []

    def build_app(**kwargs):
        events.append(("build", kwargs))

    monkeypatch.setattr(dashboard, "build_app", build_app)
    calls = {}

    def serve(app, **kwargs):
        events.append(("serve", {}))
        calls.update(app=app, **kwargs)

    monkeypatch.setattr(pn, "serve", serve)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    assert main(["serve", "--port", str(port), "--show"]) == 0
    # one page is built before the server opens (model, kernels, first prediction ready for the first visitor)
    assert events == [("build", {"max_upload_bytes": SERVE_MAX_UPLOAD_BYTES}), ("serve", {})]
    assert inspect.isfunction(calls["app"])  # pn.serve shows anything else (e.g. a functools.partial) as text
    calls["app"]()  # each session's page: the same build
    assert events[-1] == ("build", {"max_upload_bytes": SERVE_MAX_UPLOAD_BYTES})
    assert calls["port"] == port and calls["show"] is True
    assert calls["address"] == "127.0.0.1"


def test_app_file_serves_build_app(monkeypatch):
    import runpy
    from pathlib import Path

    import elfviz.dashboard

    served = []

    class Page:
        def servable(self):
            served.append(self)
            return self

    built = []

    def build_app(**kwargs):
        built.append(kwargs)
        return Page()

    monkeypatch.setattr(elfviz.dashboard, "build_app", build_app)
    app_file = str(Path(__file__).resolve().parents[2] / "app" / "app.py")
    monkeypatch.setattr("sys.argv", [app_file])  # what `panel serve app/app.py` gives the script
    runpy.run_path(app_file)
    monkeypatch.setattr("sys.argv", [app_file, "--weights", "elfnet-fft@1.6"])  # panel serve ... --args --weights
    runpy.run_path(app_file)
    assert len(served) == 2 and built == [{"weights": None}, {"weights": "elfnet-fft@1.6"}]


def test_serve_weights_choose_the_model_of_every_session(monkeypatch, capsys):
    """``elfviz serve --weights VERSION``: the shared predictor is that model before the port opens (every page
    then predicts with it, and asking for it again keeps its cache); an unknown name stops with exit 2."""
    import panel as pn

    import elfviz.dashboard as dashboard
    from elfviz.dashboard import predictions

    monkeypatch.setattr(dashboard, "build_app", lambda **kwargs: None)
    monkeypatch.setattr(pn, "serve", lambda app, **kwargs: None)
    before = predictions._predictor
    try:
        assert main(["serve", "--port", "0", "--weights", "elfnet-msg@2.0"]) == 0
        chosen = predictions.get_predictor()
        assert chosen.version == "elfnet-msg@2.0"
        assert predictions.use_weights("elfnet-msg@2.0") is chosen  # same weights: kept, cache and all
        assert main(["serve", "--port", "0", "--weights", "elfnet-fft@9.9"]) == 2
        err = capsys.readouterr().err
        assert "elfnet-fft@9.9" in err and "elfnet-msg@2.0" in err and "Traceback" not in err
        assert predictions.get_predictor() is chosen  # a refused name changes nothing
    finally:
        predictions.set_predictor(before)


def test_elfviz_serve_accepts_uploads_up_to_its_own_limit():
    """A browser upload travels base64-encoded in one websocket message: the server must accept it whole."""
    from elfviz.dashboard.sources import MAX_UPLOAD_BYTES, SERVE_MAX_UPLOAD_BYTES, WEBSOCKET_MAX_MESSAGE_BYTES

    kwargs = serve_cli.serve_kwargs(parse([]))
    assert kwargs["websocket_max_message_size"] >= SERVE_MAX_UPLOAD_BYTES * 4 / 3
    # `panel serve app/app.py` keeps Bokeh's default limit: the dashboard's default cap fits it
    assert MAX_UPLOAD_BYTES * 4 / 3 < WEBSOCKET_MAX_MESSAGE_BYTES


def test_elfviz_serve_serves_the_dashboard_page(tmp_path):
    """The real command in a subprocess answers with the dashboard's page (its template's title)."""
    import subprocess
    import sys
    import time
    import urllib.request

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    log = tmp_path / "serve.log"
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "-m", "elfviz", "serve", "--port", str(port)], stdout=out,
                                   stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 180
        html = None
        while html is None:
            assert process.poll() is None, f"elfviz serve exited early:\n{log.read_text()}"
            assert time.monotonic() < deadline, f"elfviz serve did not answer within 180 s:\n{log.read_text()}"
            try:
                html = urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=30).read().decode()
            except OSError:
                time.sleep(0.5)
        from elfviz.dashboard.app import TITLE

        assert f"<title>{TITLE}</title>" in html  # the dashboard's template, not a placeholder page
    finally:
        process.terminate()
        process.wait(timeout=30)
