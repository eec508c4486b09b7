"""The Network panel: the live isovalue marker, what the panel says it analyses, and the Tc estimate's scope."""

from __future__ import annotations

import numpy as np
import pytest

from elfviz.dashboard import Dashboard
from elfviz.dashboard.network_panel import field_kind
from elfviz.viz.percolation_plot import MARKER_NAME


@pytest.fixture(scope="module")
def dash(collection, predictor):
    return Dashboard(collection=collection)


@pytest.fixture(scope="module")
def live_root(dash):
    """The Bokeh models a browser page of the panel holds (one document, as Panel renders it)."""
    from bokeh.document import Document

    return dash.network.__panel__().get_root(Document())


def markers(root):
    from bokeh.models import Span

    return [m for m in root.references() if isinstance(m, Span) and m.name == MARKER_NAME]


def test_the_marker_is_one_named_span_that_follows_every_isovalue(dash, live_root):
    state = dash.state
    state.param.update(shown="model", isovalue=0.5)
    (span,) = markers(live_root)
    for isovalue in (0.21, 0.37, 0.64, 0.8, 0.45):
        state.isovalue = isovalue
        assert markers(live_root) == [span] and span.location == pytest.approx(isovalue)


def test_a_new_field_redraws_the_same_figure(dash, live_root):
    """Model/reference and structure changes update the one figure in place: a page never holds stale
    markers (BokehJS keeps replaced models in ``all_models``), and the marker keeps following."""
    from bokeh.models import GlyphRenderer

    state = dash.state
    figure_ids = {m.id for m in live_root.references() if type(m).__name__ == "figure"}
    (span,) = markers(live_root)
    state.shown = "reference"
    state.isovalue = 0.33
    dash.structure.load_example(list(dash.structure.examples)[1])
    state.isovalue = 0.71
    assert {m.id for m in live_root.references() if type(m).__name__ == "figure"} == figure_ids
    assert markers(live_root) == [span] and span.location == pytest.approx(0.71)
    line = next(r for r in live_root.references() if isinstance(r, GlyphRenderer) and type(r.glyph).__name__ == "Line")
    drawn = np.asarray(line.data_source.data["percolation dimension"])  # steps: each value twice
    np.testing.assert_array_equal(drawn[::2], state.profile["dimension"].values)
    dash.structure.load_example(list(dash.structure.examples)[0])
    state.shown = "model"


def test_the_heading_says_whether_it_shows_the_model_or_the_reference(dash):
    state = dash.state
    state.shown = "model"
    assert dash.network._heading.object == "### Network — model prediction (promolecular-standin@0)"
    state.shown = "reference"
    assert dash.network._heading.object == "### Network — DFT reference (test-reference)"
    state.shown = "model"


def test_field_kind_names_the_source():
    import xarray as xr

    assert field_kind(xr.Dataset(attrs={"source": "file:x.cube"})) == "uploaded ELF (x.cube)"
    assert field_kind(None) == "ELF"


def test_no_tc_for_a_liquid_frame(dash):
    state = dash.state
    assert state.structure.attrs["phase"] == "liquid"
    summary = dash.network._summary.object
    assert "Tc ≈" not in summary and "withheld" in summary and "fluid at 1000 K" in summary
    assert f"{state.network.phi:.3f}" in summary  # the networking value is still shown


def _load_phase(dash, phase):
    key = next(k for k in dash.structure.examples if k.startswith(f"phase:{phase}"))
    assert dash.structure.load_example(key)


def test_tc_with_its_caveat_for_an_atomic_crystal(dash):
    _load_phase(dash, "I41amd")
    verdict = dash.state.network.tc_verdict(dash.state.structure)
    assert verdict.status == "reported"
    est = verdict.estimate
    summary = dash.network._summary.object
    assert f"Tc ≈ {est.tc_k:.0f} ± {est.scatter_k:.0f} K" in summary and est.caveat in summary
    assert all(words in summary for words in ("H_f", "H_DOS", "60 K"))
    dash.structure.load_example(list(dash.structure.examples)[0])


def test_no_tc_for_a_molecular_crystal(dash):
    _load_phase(dash, "C2c-24")
    summary = dash.network._summary.object
    assert "Tc ≈" not in summary and "withheld" in summary and "molecular" in summary
    dash.structure.load_example(list(dash.structure.examples)[0])
