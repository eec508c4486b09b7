"""The Network panel: the live isovalue marker, what the panel says it analyses, and the Tc estimate's scope."""

from __future__ import annotations

import numpy as np
import pytest

from elfviz.dashboard import Dashboard
from elfviz.dashboard.network_panel import MARKER_NAME, crystal_phases, field_kind
from elfviz.topology import tc_applicability


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
    assert "Tc ≈" not in summary and "not applicable" in summary and "fluid at 1000 K" in summary
    assert f"{state.network.phi:.3f}" in summary  # the networking value is still shown


def test_tc_with_its_caveat_for_a_crystal(dash):
    phase_key = next(k for k in dash.structure.examples if k.startswith("phase:"))
    assert dash.structure.load_example(phase_key)
    est = dash.state.network.tc_estimate()
    summary = dash.network._summary.object
    assert f"Tc ≈ {est.tc_k:.0f} ± {est.scatter_k:.0f} K" in summary and est.caveat in summary
    dash.structure.load_example(list(dash.structure.examples)[0])


@pytest.mark.parametrize("attrs, applies, words", [
    ({"phase": "liquid", "temperature_k": 1502.0}, False, "fluid at 1502 K"),
    ({"phase": "liquid"}, False, "fluid at 1000+ K"),
    ({}, False, "no crystal-phase provenance"),
    ({"source": "structure:C2c-24"}, True, ""),
    ({"phase": "C2c-24", "source": "dft:qe"}, True, ""),
])
def test_tc_applicability(attrs, applies, words):
    ok, reason = tc_applicability(attrs, known_phases=crystal_phases())
    assert ok is applies and words in reason
