"""View3D in a served session: quick slider steps coalesce and never pull the handle back."""

from __future__ import annotations

import param
import pytest

from elfviz.dashboard import Dashboard

from .test_ticks import served  # noqa: F401  (fixture: a fake served document with a next-tick queue)


@pytest.fixture
def dash(collection, predictor):
    return Dashboard(collection=collection)


def test_quick_steps_coalesce_and_the_handle_stays_where_the_user_put_it(dash, served):  # noqa: F811
    view, state = dash.view, dash.state
    revision = view.revision
    with param.edit_constant(view.slider):
        view.slider.value_throttled = 0.45  # a key step reaches the server ...
        view.slider.value_throttled = 0.40  # ... and another before the loop gets to the first
    assert state.isovalue == 0.5 and len(served.queue) == 1  # nothing computed yet, one deferred update
    view.slider.value = 0.39  # the next step's position arrives before its throttled value
    served.run_ticks()
    assert state.isovalue == 0.40  # the latest requested value wins; 0.45 was never computed
    assert view.slider.value == 0.39  # the handle is not pulled back to 0.40
    assert view.scene.isovalue == 0.40 and view.revision == revision + 1  # one rebuild for both steps
    with param.edit_constant(view.slider):
        view.slider.value_throttled = 0.39
    served.run_ticks()
    assert state.isovalue == 0.39 == view.slider.value == view.scene.isovalue


def test_an_isovalue_set_elsewhere_moves_the_handle(dash, served):  # noqa: F811
    dash.state.isovalue = 0.61
    served.run_ticks()
    assert dash.view.slider.value == 0.61 and dash.view.scene.isovalue == 0.61


def test_the_caption_says_why_there_is_no_surface(dash):
    state = dash.state
    low, high = float(state.field_ds["elf"].min()), float(state.field_ds["elf"].max())
    state.isovalue = max(low - 0.01, 0.0)
    assert "above the isovalue everywhere" in dash.view._caption.object
    state.isovalue = min(high + 0.01, 1.0)
    assert "below the isovalue everywhere" in dash.view._caption.object
    state.isovalue = 0.5 * (low + high)
    assert "no surface" not in dash.view._caption.object
