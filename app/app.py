"""The elfviz dashboard: ``panel serve app/app.py`` (or ``elfviz serve``).

Another shipped model: ``panel serve app/app.py --args --weights elfnet-fft@1.6``.
"""

import argparse
import sys

from elfviz.dashboard import build_app
from elfviz.model.bundled import WEIGHTS_HELP

parser = argparse.ArgumentParser(prog="panel serve app/app.py --args")
parser.add_argument("--weights", default=None, help="the model the dashboard predicts with: " + WEIGHTS_HELP)
build_app(weights=parser.parse_args(sys.argv[1:]).weights).servable()
