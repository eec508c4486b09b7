"""Fixtures shared by every test folder."""

from __future__ import annotations

import pytest


@pytest.fixture
def render_bokeh():
    """Render a HoloViews object to its Bokeh figure in a Document of its own.

    ``hv.render`` attaches the figure to Bokeh's process-wide ``curdoc()``. The dashboard and browser tests
    serve Panel sessions from threads of this process, and a served document can be left there as the
    process-wide one once its session is destroyed (Bokeh deletes its theme); rendering into it then fails
    with ``'Document' object has no attribute '_theme'`` (CI, stop 28). A fresh Document per render keeps
    these tests independent of what ran before them.
    """
    hv = pytest.importorskip("holoviews")
    from bokeh.document import Document

    def render(obj):
        renderer = hv.renderer("bokeh").instance(mode="server")  # the mode in which get_plot honours doc=
        return renderer.get_plot(obj, doc=Document()).state

    return render
