"""Every dashboard component displays itself in a notebook (a Panel Viewer), not as a param repr."""

from __future__ import annotations

import panel as pn
import pytest
from bokeh.document import Document

from elfviz.dashboard import Dashboard


@pytest.fixture(scope="module")
def dash(collection, predictor):
    return Dashboard(collection=collection)


@pytest.mark.parametrize("name", ["structure", "model", "view", "network", "slices", "residuals", "export"])
def test_each_component_is_a_viewer_with_a_rich_display(dash, name):
    component = getattr(dash, name)
    assert isinstance(component, pn.viewable.Viewer)
    assert hasattr(component, "_repr_mimebundle_")  # what JupyterLab calls to draw it
    assert component.__panel__().get_root(Document()) is not None


def test_the_3d_view_in_a_notebook_carries_its_scene(dash):
    root = pn.panel(dash.view).get_root(Document())
    views = [m for m in root.select({"type": type(dash.view.view.get_root(Document()))})]
    assert views and any(len(m.data.payload) > 100 for m in views)
