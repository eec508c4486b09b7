"""Static HoloViews plots of elfviz as a notebook or an HTML export shows them: BokehJS builds them cleanly."""

from __future__ import annotations

import holoviews as hv
import numpy as np
from bokeh.resources import INLINE

from elfviz import grid
from elfviz.topology import networking_analysis, percolation_profile
from elfviz.viz.percolation_plot import dimension_plot


def test_two_dimension_plots_side_by_side(chromium, tmp_path):
    """The teaching notebook's Layout of two plots: no script error, both isovalue lines and labels drawn."""
    hv.extension("bokeh")
    c = np.cos(2 * np.pi * np.arange(16) / 16)
    f = 0.5 + 0.25 * c[:, None, None] + 0.15 * c[None, :, None] + 0.1 * c[None, None, :]
    ds = grid.make_dataset(np.eye(3) * 3.0, [[0.0, 0.0, 0.0]], [1], elf=f)
    profile, network = percolation_profile(ds), networking_analysis(ds)
    path = tmp_path / "two.html"
    hv.save(dimension_plot(profile, 0.6, network, title="left") + dimension_plot(profile, 0.4, network),
            path, resources=INLINE)
    context = chromium.new_context()
    try:
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(path.as_uri())
        page.wait_for_function("window.Bokeh && Bokeh.documents.length > 0", timeout=20000)
        page.wait_for_timeout(500)
        models = page.evaluate("""() => [...Bokeh.documents[0].all_models].map(m => ({type: m.type,
            location: m.location, text: m.type == 'ColumnDataSource' ? m.data.text : undefined}))""")
    finally:
        context.close()
    assert errors == []
    assert sorted(m["location"] for m in models if m["type"] == "Span") == [0.4, 0.6]
    texts = [t for m in models if m.get("text") for t in m["text"]]
    assert texts.count("t3 = φ") == 2 and texts.count("φ*") == 2
