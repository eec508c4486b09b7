"""``elfviz serve``: open the dashboard (a Panel server running :func:`elfviz.dashboard.build_app`)."""

from __future__ import annotations

import errno
import logging
import socket

from ..errors import ElfvizError
from ..model.bundled import WEIGHTS_HELP

NAME = "serve"
HELP = "serve the interactive dashboard (Panel) on http://127.0.0.1:5006"
DESCRIPTION = """Serve the elfviz dashboard, the equivalent of `panel serve app/app.py`.

The server binds to 127.0.0.1 (this machine only) unless --address says otherwise. To reach it from
another machine, prefer an SSH tunnel (ssh -L 5006:127.0.0.1:5006 host); binding to 0.0.0.0 exposes
it to the network and needs --allow-websocket-origin HOST:PORT for the browser's address.
"""

log = logging.getLogger(__name__)


def add_arguments(parser) -> None:
    parser.add_argument("--port", type=int, default=5006, help="TCP port (default 5006; 0 picks a free one)")
    parser.add_argument("--address", default="127.0.0.1",
                        help="address to bind (default 127.0.0.1; 0.0.0.0 for all interfaces)")
    parser.add_argument("--show", action="store_true", help="open the dashboard in a web browser")
    parser.add_argument("--allow-websocket-origin", action="append", default=None, metavar="HOST[:PORT]",
                        help="extra origin allowed to connect (repeatable), e.g. myhost:5006")
    parser.add_argument("--threads", type=int, default=None,
                        help="worker threads for callbacks (default: Panel's default)")
    parser.add_argument("--weights", default=None,
                        help="the model the dashboard predicts with: " + WEIGHTS_HELP)


def check_port(address: str, port: int) -> None:
    """Raise :class:`ElfvizError` if ``address:port`` cannot be bound (in use, or not a local address)."""
    if not 0 <= port <= 65535:
        raise ElfvizError(f"--port must be 0-65535, got {port}")
    if port == 0:
        return
    family = socket.AF_INET6 if ":" in address else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((address, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise ElfvizError(f"port {port} on {address} is already in use (another `elfviz serve` or "
                                  f"`panel serve`?); choose another with --port") from None
            raise ElfvizError(f"cannot bind {address}:{port} ({exc.strerror}); use --address 127.0.0.1 or an "
                              "address of this machine") from None


def serve_kwargs(args) -> dict:
    """Keyword arguments for ``panel.serve`` from the parsed command line."""
    from ..dashboard.sources import SERVE_MAX_UPLOAD_BYTES, websocket_limit_for

    kwargs = {"port": args.port, "address": args.address, "show": bool(args.show), "title": "elfviz",
              "threaded": False, "websocket_max_message_size": websocket_limit_for(SERVE_MAX_UPLOAD_BYTES)}
    origins = list(args.allow_websocket_origin or [])
    if args.address not in ("127.0.0.1", "localhost", "::1"):
        origins.append(f"{args.address}:{args.port}")
    if origins:
        kwargs["websocket_origin"] = origins + [f"localhost:{args.port}", f"127.0.0.1:{args.port}"]
    if args.threads:
        kwargs["num_threads"] = int(args.threads)
    return kwargs


def run(args) -> int:
    check_port(args.address, args.port)
    try:
        import panel as pn
    except ImportError:
        raise ElfvizError("the dashboard needs Panel: pip install 'elfviz[app]'") from None
    from ..dashboard import build_app
    from ..dashboard.predictions import use_weights
    from ..dashboard.sources import SERVE_MAX_UPLOAD_BYTES

    kwargs = serve_kwargs(args)
    if args.weights:
        use_weights(args.weights)  # a name that is no model stops here (exit 2), before the port opens

    def app():  # a plain function: pn.serve renders any other object (a functools.partial too) as its repr
        return build_app(max_upload_bytes=SERVE_MAX_UPLOAD_BYTES)

    # one page built before the port opens: imports, model weights, compiled kernels and the first example's
    # prediction are ready, so the first visitor waits ~3 s instead of ~8 s
    log.info("preparing the dashboard (model, first example) ...")
    app()
    log.info("serving the elfviz dashboard on http://%s:%s", args.address, args.port)
    pn.serve(app, **kwargs)
    return 0
