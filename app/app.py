"""The elfviz dashboard: ``panel serve app/app.py`` (or ``elfviz serve``)."""

from elfviz.dashboard import build_app

build_app().servable()
