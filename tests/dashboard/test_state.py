"""DashboardState: a new structure arrives with its prediction, so the views analyse one field once."""

from __future__ import annotations

import pytest

from elfviz import topology
from elfviz.dashboard import Dashboard
from elfviz.dashboard.state import clear_analysis_cache


@pytest.fixture
def dash(collection, predictor):
    return Dashboard(collection=collection)


def test_a_new_example_is_analysed_once_with_its_prediction(dash, monkeypatch):
    analysed = []
    original = topology.networking_analysis

    def counted(ds, *args, **kwargs):
        analysed.append(ds)
        return original(ds, *args, **kwargs)

    monkeypatch.setattr(topology, "networking_analysis", counted)
    clear_analysis_cache()  # the sweeps are shared by sessions: another test may have analysed this field
    keys = list(dash.structure.examples)
    assert dash.structure.load_example(keys[1])
    state = dash.state
    assert state.prediction is not None and state.field_ds is state.prediction
    assert analysed == [state.prediction]  # not first the reference, then the prediction
    assert dash.view.scene is not None and dash.view.sent()["revision"] == dash.view.revision


def test_without_auto_run_a_new_structure_waits_for_the_model(dash):
    dash.model.auto_run = False
    keys = list(dash.structure.examples)
    uncached = next(k for k in keys[::-1] if k != dash.structure._select.value)
    from elfviz.dashboard import predictions

    predictions.set_predictor(predictions.get_predictor())  # clears the cache
    assert dash.structure.load_example(uncached)
    assert dash.state.prediction is None and dash.state.field_ds is dash.state.reference
    assert "not run" in dash.model.status
    assert dash.model.run() and dash.state.field_ds is dash.state.prediction


def test_a_failing_model_leaves_the_reference_shown(dash, monkeypatch):
    from elfviz.dashboard import predictions
    from elfviz.errors import ElfvizError

    def broken(*args, **kwargs):
        raise ElfvizError("the stand-in model is broken on purpose")

    monkeypatch.setattr(predictions, "predict", broken)
    keys = list(dash.structure.examples)
    assert dash.structure.load_example(keys[2])
    assert dash.state.prediction is None and dash.state.field_ds is dash.state.reference
    assert "broken on purpose" in dash.model.status
