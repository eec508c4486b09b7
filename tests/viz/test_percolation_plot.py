"""The percolation-dimension plot shared by the notebooks and the dashboard: what a reader sees on it."""

from __future__ import annotations

import holoviews as hv
import numpy as np
import pytest

from elfviz.topology import networking_analysis, percolation_profile
from elfviz.viz.percolation_plot import MARKER_NAME, dimension_plot


@pytest.fixture(scope="module")
def analytic():
    c = np.cos(2 * np.pi * np.arange(16) / 16)
    f = 0.5 + 0.25 * c[:, None, None] + 0.15 * c[None, :, None] + 0.1 * c[None, None, :]
    from elfviz import grid

    ds = grid.make_dataset(np.eye(3) * 3.0, [[0.0, 0.0, 0.0], [0.75, 0.0, 0.0]], [1, 1], elf=f)
    return percolation_profile(ds), networking_analysis(ds)


def test_thresholds_and_phi_star_are_marked_and_labelled(analytic):
    profile, network = analytic
    plot = dimension_plot(profile, 0.6, network)
    labels = [el for el in plot if isinstance(el, hv.Labels)]
    texts = [t for el in labels for t in el.dimension_values("text")]
    assert texts == ["t1", "t2", "t3 = φ", "φ*"]
    xs = [x for el in labels for x in el.dimension_values(0)]
    assert xs == pytest.approx([*network.thresholds, network.phi_star])
    legend = [el.label for el in plot if el.label]
    assert any("φ*" in text for text in legend) and any("t1, t2, t3" in text for text in legend)
    assert [el.data for el in plot if isinstance(el, hv.VLine)] == [pytest.approx(0.6)]


def test_integer_ticks_and_the_named_marker_of_the_live_plot(analytic, render_bokeh):
    profile, network = analytic
    plot = dimension_plot(profile, 0.45, network)
    assert plot.opts.get().kwargs["yticks"] == [0, 1, 2, 3]
    stream = hv.streams.Stream.define("Isovalue", isovalue=0.0)()
    live = dimension_plot(profile, 0.45, network, isovalue_stream=stream)
    figure = render_bokeh(live)
    spans = [m for m in figure.references() if type(m).__name__ == "Span"]
    assert [(s.name, s.location) for s in spans] == [(MARKER_NAME, pytest.approx(0.45))]


def test_empty_axes_without_a_field():
    plot = dimension_plot(None, 0.5)
    assert all(len(el) == 0 for el in plot if not isinstance(el, hv.VLine))
