"""Dashboard components: every number shown is the library's number for the same input."""

from __future__ import annotations

import io

import numpy as np
import param
import pytest

from elfviz import grid
from elfviz.analysis import field_metrics, lowpass_correction, residual_dataset, spectra_over_frames
from elfviz.dashboard import Dashboard, build_app, network_panel, predictions
from elfviz.dashboard.network_panel import DIMENSION_NAMES, percolation_status
from elfviz.dashboard.sources import read_upload
from elfviz.topology import components_at, networking_analysis, percolation_profile
from elfviz.viz.payload import decode_payload

from .frames import XYZ


@pytest.fixture(scope="module")
def shared_dashboard(collection, predictor):
    return Dashboard(collection=collection)


@pytest.fixture
def dash(shared_dashboard):
    """The module's dashboard, put back on its first example with default settings (cheap: cached)."""
    d = shared_dashboard
    d.view.param.update(show_atoms=True, show_cell=True, show_images=False)
    first = next(iter(d.structure.examples.values()))
    if d.state.label != first.label:
        d.structure.load_example(first.key)
    d.state.param.update(shown="model", isovalue=0.5)
    return d


def test_first_example_loads_with_reference_and_prediction(dash, predictor):
    state = dash.state
    assert state.label.startswith("liquid") and state.reference is not None
    assert state.prediction is not None and predictor.calls >= 1
    assert state.prediction.attrs["source"] == "model:promolecular-standin@0"
    assert state.field_ds is state.prediction  # the model is shown by default
    state.shown = "reference"
    assert state.field_ds is state.reference
    assert "CPU" in dash.model.status


def test_network_numbers_are_the_topology_librarys(dash):
    state = dash.state
    for isovalue in (0.3, 0.55, 0.85):
        state.isovalue = isovalue
        expected = networking_analysis(state.field_ds)
        comps = components_at(state.field_ds, isovalue)
        assert state.network.thresholds == expected.thresholds
        assert state.network.phi_star == expected.phi_star
        assert state.components.n_components == comps.n_components
        np.testing.assert_array_equal(state.components.labels, comps.labels)
        assert dash.network.status == percolation_status(isovalue, expected.percolation_dimension(isovalue),
                                                         comps.n_components)
        assert f"{expected.phi:.3f}" in dash.network._summary.object
        # a liquid frame: the Tc correlation (crystalline metallic hydrides) is not shown, and the panel says why
        assert "Tc ≈" not in dash.network._summary.object and "not applicable" in dash.network._summary.object
    profile = percolation_profile(state.field_ds)
    np.testing.assert_array_equal(state.profile["dimension"].values, profile["dimension"].values)


def test_dimension_plot_marks_the_current_isovalue(dash):
    import holoviews as hv

    def marked(plot) -> list[float]:
        shown = plot[()] if isinstance(plot, hv.DynamicMap) else plot  # the frame the live plot draws
        return [el.data for el in shown if isinstance(el, hv.VLine)]

    from bokeh.models import Span

    dash.state.isovalue = 0.42
    plot = dash.network._plot.object
    assert marked(plot) == [pytest.approx(0.42)]
    root = dash.network._plot.get_root()  # the Bokeh models a browser page holds
    spans = [m for m in root.references() if isinstance(m, Span)]
    assert [span.location for span in spans] == [pytest.approx(0.42)]
    dash.state.isovalue = 0.61  # same field: the line moves, the figure is not rebuilt
    assert dash.network._plot.object is plot and marked(plot) == [pytest.approx(0.61)]
    assert [m for m in root.references() if isinstance(m, Span)] == spans
    assert spans[0].location == pytest.approx(0.61)  # the live page's line moved in place
    curve = next(el for el in plot[()] if isinstance(el, hv.Curve))
    np.testing.assert_array_equal(curve.dimension_values(1)[: dash.state.profile.sizes["threshold"]],
                                  dash.state.profile["dimension"].values)
    static = network_panel.dimension_plot(dash.state.profile, 0.3, dash.state.network)
    assert marked(static) == [pytest.approx(0.3)]


def test_percolation_status_wording():
    assert percolation_status(0.5, 3, 1) == "ELF ≥ 0.500: percolates in 3-D (network) · 1 component"
    assert set(DIMENSION_NAMES) == {0, 1, 2, 3}


def test_view_follows_the_isovalue_slider_and_the_toggles(dash):
    view, state = dash.view, dash.state
    first, first_revision = view.scene, view.revision
    assert first is not None and view.sent()["meshes"]["cell"]["lines"] == 12
    with param.edit_constant(view.slider):
        view.slider.value_throttled = 0.8  # what the browser sends when the slider is released
    assert state.isovalue == 0.8
    scene = view.scene
    assert scene.isovalue == 0.8 and scene is not first and view.revision > first_revision
    assert scene.n_components == components_at(state.field_ds, 0.8).n_components
    sent = decode_payload(view.view.payload)  # what the browser receives: the scene just built
    assert sent["revision"] == view.revision
    assert {m["name"]: m["n_indices"] // 3 for m in sent["meshes"] if m["kind"] == "triangles"} == {
        name: mesh.n_cells for name, mesh in scene.meshes().items() if name != "cell"}
    view.toggles.value = ["cell"]  # the user unticks atoms
    assert not view.show_atoms and view.scene.atoms is None and "atoms" not in view.sent()["meshes"]
    key = decode_payload(view.view.payload)["view_key"]
    view.show_images = True  # set in Python: the buttons follow, and the camera resets (new view key)
    assert "periodic images 2×2×2" in view.toggles.value
    assert decode_payload(view.view.payload)["view_key"] != key
    cell_lengths = np.linalg.norm(state.field_ds["cell"].values, axis=1)
    assert view.scene.cell.bounds[1] == pytest.approx(2 * cell_lengths[0])
    state.isovalue = 0.3  # set programmatically: the slider follows
    assert view.slider.value == 0.3


def test_spanning_components_are_drawn_as_spanning(dash):
    state = dash.state
    isovalue = state.network.phi - 0.02  # just below the networking value: a 3-D network
    state.isovalue = isovalue
    comps = components_at(state.field_ds, isovalue)
    assert comps.dimension == 3 and dash.view.scene.isovalue == isovalue
    assert dash.view.scene.spanning.n_cells > 0 and dash.view.scene.dimension == 3


def test_residual_panel_reports_the_analysis_librarys_numbers(dash):
    state = dash.state
    res = residual_dataset(state.reference, state.prediction)
    metrics = field_metrics(res["elf_ref"], res["elf"])
    summary = dash.residuals.summary
    assert summary["metrics"] == pytest.approx(metrics)
    assert f"R² = {metrics['r2']:.4f}" in dash.residuals._metrics.object
    corr = lowpass_correction(res)
    assert f"{corr.attrs['r2_after']:.4f}" in dash.residuals._metrics.object
    assert corr.attrs["r2_after"] > corr.attrs["r2_before"]  # the long-wavelength bump is restored


def test_test_frame_spectra_equal_spectra_over_frames(dash, collection, predictor):
    assert dash.residuals.compute_test_spectra()
    frames = []
    for frame_id in collection.select(split="test")["frame_id"]:
        ref = collection.read(frame_id)
        frames.append(residual_dataset(ref, predictor.predict(grid.structure_only(ref), shape=grid.grid_shape(ref))))
    expected = spectra_over_frames(frames)
    np.testing.assert_allclose(dash.residuals.spectra["power"].values, expected["power"].values, rtol=1e-5)
    assert sorted(dash.residuals.spectra["pressure_gpa"].values.tolist()) == [120.0, 250.0]
    import holoviews as hv

    (liquids,) = [el for el in dash.residuals._frames_plot.object if type(el) is hv.Path]
    assert len(liquids.split()) == 2  # one curve per pressure, coloured through the colour bar
    assert liquids.opts.get().kwargs["colorbar"]


def test_no_residuals_without_a_reference(dash, collection):
    phase_key = next(k for k in dash.structure.examples if k.startswith("phase:"))
    assert dash.structure.load_example(phase_key)
    assert dash.state.reference is None and dash.state.prediction is not None
    assert dash.residuals.summary is None and "need a reference" in dash.residuals._metrics.object
    assert dash.state.network is not None  # the model's ELF is analysed


def test_bad_upload_keeps_the_current_structure_and_reports(dash, monkeypatch):
    messages = []
    monkeypatch.setattr("elfviz.dashboard.structure_panel.notify_error", messages.append)
    before = dash.state.structure
    assert not dash.structure.load_upload(b"not a structure\n", "broken.cube")
    assert dash.state.structure is before
    assert messages and "broken.cube" in messages[0] and dash.structure._alert.visible


def test_good_upload_replaces_the_structure_and_runs_the_model(dash, predictor):
    calls = predictor.calls
    assert dash.structure.load_upload(XYZ, "h2.xyz")
    assert not dash.structure._alert.visible and dash.state.label == "upload: h2.xyz"
    assert dash.state.reference is None and predictor.calls == calls + 1
    assert dash.view.scene is not None and dash.state.field_ds.sizes["atom"] == 2


def test_uploaded_elf_field_is_shown_and_serves_as_reference(dash, collection):
    ref = collection.read("liq-1-test")
    data = dash.export._file(".cube").getvalue()  # a cube of the current (model) field
    assert data
    dash.structure.load_upload(data, "field.cube")
    assert dash.state.reference is not None and dash.state.residual_available
    uploaded = read_upload(data, "field.cube")
    np.testing.assert_allclose(dash.state.reference["elf"].values, uploaded["elf"].values)
    assert ref is not None


def test_predictions_are_cached_per_structure(dash, predictor):
    keys = list(dash.structure.examples)
    predictions.clear_cache()
    calls = predictor.calls
    dash.structure.load_example(keys[1])
    dash.structure.load_example(keys[0])
    dash.structure.load_example(keys[1])
    assert predictor.calls == calls + 2  # the second visit of keys[1] came from the cache
    assert "cached" in dash.model.status


def test_exports_round_trip(dash):
    from PIL import Image

    from elfviz.io import read_bytes

    nc = dash.export._file(".nc").getvalue()
    back = read_bytes(nc, "x.nc")
    np.testing.assert_allclose(back["elf"].values, dash.state.field_ds["elf"].values, atol=1e-6)
    cube = read_bytes(dash.export._file(".cube").getvalue(), "x.cube")
    np.testing.assert_allclose(cube["elf"].values, dash.state.field_ds["elf"].values, atol=1e-4)
    png = dash.export._png_file().getvalue()
    image = np.asarray(Image.open(io.BytesIO(png)))
    assert image.shape[0] > 100 and image.std() > 5
    assert dash.export._netcdf.filename.endswith(".nc") and "liquid" in dash.export._netcdf.filename


def test_slices_follow_plane_and_field(dash):
    from elfviz.viz.slices import lattice_plane_slice

    dash.slices.plane, dash.slices.position = "bc", 0.25
    s = dash.slices.current_slice()
    expected = lattice_plane_slice(dash.state.field_ds, plane="bc", position=0.25)
    np.testing.assert_array_equal(s.values, expected.values)
    assert dash.slices._plot.object is not None


def test_build_app_returns_a_template(collection, predictor):
    import panel as pn

    page = build_app(collection=collection)
    assert isinstance(page, pn.template.FastListTemplate)
    assert page.dashboard.state.field_ds is not None
    predictions.clear_cache()


def test_fourier_correction_toggle(dash, predictor):
    from .frames import PromolecularPredictor

    class HalvingCorrection:
        def __call__(self, ds):
            out = ds.assign(elf=ds["elf"] * 0.5)
            out.attrs["correction"] = "halving (test)"
            return out

    class CorrectablePredictor(PromolecularPredictor):
        def load_correction(self, spec):
            assert spec == "bundled"
            return HalvingCorrection()

    # the stand-in model has no correction: the toggle reports it and falls back to the network
    plain = dash.state.prediction["elf"].values.copy()
    dash.model.fourier_correction = True
    assert dash.model.fourier_correction is False and "no Fourier correction" in dash.model._status.object
    np.testing.assert_array_equal(dash.state.prediction["elf"].values, plain)
    predictions.set_predictor(CorrectablePredictor())
    try:
        dash.model.run()
        network = dash.state.prediction["elf"].values.copy()
        dash.model.fourier_correction = True
        np.testing.assert_allclose(dash.state.prediction["elf"].values, 0.5 * network)
        assert "Fourier correction" in dash.model.status
        # the residual panel keeps analysing the network itself
        assert "correction" not in predictions.predict(dash.state.structure)[0].attrs
        dash.model.fourier_correction = False
        np.testing.assert_array_equal(dash.state.prediction["elf"].values, network)
        dash.model.fourier_correction = True
        assert "cached" in dash.model.status
        dash.model.fourier_correction = False
    finally:
        predictions.set_predictor(predictor)
        dash.model.run()


def test_slices_offer_the_member_spread_of_an_ensemble(dash, predictor):
    from elfviz.viz.slices import lattice_plane_slice

    from .frames import PromolecularPredictor

    class EnsembleLikePredictor(PromolecularPredictor):
        n_members = 4

        def predict(self, structure, *, member_spread=False, **kwargs):
            ds = super().predict(structure, **kwargs)
            if member_spread:
                ds["elf_member_std"] = 0.1 * ds["elf"] * (1 - ds["elf"])
                ds.attrs["cautions"] = "the member networks disagree (test) | rs is outside the range (test)"
            return ds

    # a single-network model: only the ELF, no field choice, no caution
    assert dash.slices.available_fields() == ["elf"] and not dash.slices._field_choice.visible
    assert "⚠" not in dash.model.status
    predictions.set_predictor(EnsembleLikePredictor())
    try:
        dash.model.run()
        assert dash.slices.available_fields() == ["elf", "elf_member_std"] and dash.slices._field_choice.visible
        # the Predictor's cautions reach the model panel's status, one line each
        assert "⚠ the member networks disagree (test)" in dash.model.status
        assert "⚠ rs is outside the range (test)" in dash.model._status.object
        dash.slices._field_choice.value = "elf_member_std"
        assert dash.slices.field == "elf_member_std"
        expected = lattice_plane_slice(dash.state.field_ds, field="elf_member_std", plane=dash.slices.plane,
                                       position=dash.slices.position)
        np.testing.assert_array_equal(dash.slices.current_slice().values, expected.values)
        assert "member spread" in dash.slices._plot.object.opts.get().kwargs["title"]
        # the reference has no spread: the slice falls back to the ELF
        dash.state.shown = "reference"
        assert dash.slices.field == "elf" and not dash.slices._field_choice.visible
        np.testing.assert_array_equal(dash.slices.current_slice().values,
                                      lattice_plane_slice(dash.state.reference, plane=dash.slices.plane,
                                                          position=dash.slices.position).values)
    finally:
        dash.state.shown = "model"
        predictions.set_predictor(predictor)
        dash.model.run()


def test_member_phi_range_is_shown_on_request_for_an_ensemble(dash, predictor):
    from elfviz.topology import networking_analysis

    from .frames import PromolecularPredictor

    class TwoMemberPredictor(PromolecularPredictor):
        """Members: the promolecular ELF scaled by 0.9 and by 1.1 (so their φ differ)."""

        n_members = 2

        def predict(self, structure, *, member_spread=False, **kwargs):
            return super().predict(structure, **kwargs)

        def member_values(self, positions, cell, shape):
            structure = grid.make_dataset(cell, positions, [1] * len(positions), shape=shape)
            elf = super().predict(structure, shape=shape)["elf"].values
            self.member_calls = getattr(self, "member_calls", 0) + 1
            return np.stack([0.9 * elf, np.clip(1.1 * elf, 0, 1)])

    # a single network: no button, and asking anyway says so
    assert not dash.model._members_button.visible
    assert "single network" in dash.model.show_member_phi()
    ensemble = TwoMemberPredictor()
    predictions.set_predictor(ensemble)
    try:
        dash.model.run()
        assert dash.model._members_button.visible and dash.model._members.object == ""
        dash.model._members_button.clicks += 1  # the button computes and shows the range
        text = dash.model._members.object
        network = predictions.predict(dash.state.structure)[0]
        members = ensemble.member_values(network["positions"].values, network["cell"].values, network["elf"].shape)
        phis = [networking_analysis(network.assign(elf=(network["elf"].dims, m))).phi for m in members]
        assert f"φ of the 2 member networks: **{min(phis):.3f}–{max(phis):.3f}**" in text and "lower bound" in text
        calls = ensemble.member_calls
        assert dash.model.show_member_phi() == text and ensemble.member_calls == calls  # cached
        dash.model.run()  # a new prediction clears the shown range
        assert dash.model._members.object == ""
    finally:
        predictions.set_predictor(predictor)
        dash.model.run()
