"""The shared ``render_bokeh`` fixture renders even when Bokeh's process-wide document is a destroyed one."""

from __future__ import annotations

import pytest

hv = pytest.importorskip("holoviews")


def test_render_bokeh_survives_a_destroyed_process_wide_document(render_bokeh, monkeypatch):
    from bokeh.document import Document
    from bokeh.io.state import curstate

    def session(event):  # stands in for the server session that watched the document
        pass

    served = Document()
    served.on_change(session)
    served.destroy(session)  # what Bokeh does to a served document when its session closes
    monkeypatch.setattr(curstate(), "_document", served)
    curve = hv.Curve([(0, 0), (1, 1)])
    with pytest.raises(AttributeError, match="_theme"):
        hv.render(curve, backend="bokeh")  # the failure CI met (stop 28)
    figure = render_bokeh(curve)
    lines = [r.data_source.data for r in figure.renderers]
    assert [list(d["y"]) for d in lines] == [[0, 1]]
