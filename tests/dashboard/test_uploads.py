"""Uploads, the example list, exports and the model panel: a bad upload changes nothing, a good one shows."""

from __future__ import annotations

import io

import pytest

from elfviz.dashboard import Dashboard, sources
from elfviz.dashboard.export_panel import ExportPanel
from elfviz.dashboard.state import DashboardState
from elfviz.errors import ElfvizError

from .frames import XYZ, build_collection, reference_frame


def nacl_cif() -> bytes:
    import numpy as np
    from ase import Atoms
    from ase.io import write

    buf = io.BytesIO()
    write(buf, Atoms("NaCl", positions=[[0, 0, 0], [2.8, 0, 0]], cell=np.eye(3) * 5.6, pbc=True), format="cif")
    return buf.getvalue()


@pytest.fixture(scope="module")
def dash(collection, predictor):
    return Dashboard(collection=collection)


@pytest.fixture
def messages(monkeypatch):
    shown = []
    monkeypatch.setattr("elfviz.dashboard.structure_panel.notify_error", shown.append)
    return shown


def snapshot(d):
    s = d.state
    return (s.structure, s.prediction, s.reference, s.field_ds, s.network, s.label, d.structure._select.value,
            d.export._netcdf.filename)


@pytest.mark.parametrize("data, name, words", [
    (b"", "empty.xyz", ["empty.xyz is empty", "upload a structure"]),
    (b"\x00\x01garbage\xff", "broken.cube", ["broken.cube", "corrupt or misnamed"]),
    (None, "nacl.cif", ["nacl.cif contains Cl, Na", "pure hydrogen", "upload a hydrogen-only structure"]),
    (b"x" * 2048, "big.xyz", ["big.xyz is", "upload limit", "command line"]),
    (b'2\nLattice="4 0 0 0 4 0 0 0 4" Properties=species:S:1:pos:R:3 pbc="T T T"\nH 0 0 0\nH 0.01 0 0\n',
     "overlap.xyz", ["overlapping atoms"]),
    (b'2\nLattice="4 0 0 0 4 0 0 0 4" Properties=species:S:1:pos:R:3 pbc="T T T"\nH nan 0 0\nH 0.7 0 0\n',
     "nan.xyz", ["NaN or infinite"]),
    (b"2\n\nH 0 0 0\nH 0.74 0 0\n", "nocell.xyz", ["no cell"]),
])
def test_bad_uploads_explain_and_change_nothing(dash, messages, data, name, words):
    d = dash
    d.structure._max_upload_bytes = 1024
    before = snapshot(d)
    try:
        assert not d.structure.load_upload(nacl_cif() if data is None else data, name)
    finally:
        d.structure._max_upload_bytes = sources.MAX_UPLOAD_BYTES
    assert snapshot(d) == before  # structure, prediction, views' field, network, list, export names
    assert d.structure._alert.visible and messages
    assert all(w in messages[-1] for w in words), messages[-1]


def test_an_empty_file_from_the_browser_reports(dash, messages):
    """Panel turns an empty file into value None (with its file name): it must still be reported."""
    before = snapshot(dash)
    dash.structure._upload.param.update(value=None, filename="empty.cube")
    assert messages and "empty.cube is empty" in messages[-1]
    assert snapshot(dash) == before


def test_a_good_upload_is_listed_and_examples_load_again(dash, messages):
    d = dash
    first = list(d.structure.examples)[0]
    assert d.structure.load_upload(XYZ, "h2.xyz")
    select = d.structure._select
    assert select.value == "upload:h2.xyz" and select.options["upload: h2.xyz"] == "upload:h2.xyz"
    assert d.state.label == "upload: h2.xyz" and d.state.structure.sizes["atom"] == 2
    select.value = first  # choosing an example after the upload loads it
    assert d.state.label == d.structure.examples[first].label and d.state.reference is not None
    select.value = "upload:h2.xyz"  # and the upload's entry loads the upload again
    assert d.state.label == "upload: h2.xyz" and d.state.structure.sizes["atom"] == 2
    assert not messages
    d.structure.load_example(first)


class NoView:
    def png(self):  # pragma: no cover - must not be reached without a field
        raise AssertionError("no PNG without a field")


def test_exports_are_disabled_and_refused_without_a_field(monkeypatch):
    shown = []
    monkeypatch.setattr("elfviz.dashboard.structure_panel.notify_error", shown.append)
    export = ExportPanel(DashboardState(), NoView())
    assert all(button.disabled for button in export.buttons)
    assert "Nothing to export" in export._note.object
    for make in (lambda: export._file(".nc"), lambda: export._file(".cube"), export._png_file):
        with pytest.raises(ElfvizError):
            make()
    assert len(shown) == 3 and "no ELF field" in shown[0]


def test_exports_are_named_after_the_field_they_hold(dash):
    d = dash
    d.state.shown = "model"
    assert not any(button.disabled for button in d.export.buttons)
    assert d.export._netcdf.filename.endswith("_model.nc")
    d.state.shown = "reference"
    assert d.export._netcdf.filename.endswith("_reference.nc")
    d.state.shown = "model"


def test_the_model_prediction_does_not_carry_the_references_dft_provenance(collection, predictor):
    from elfviz.dashboard import predictions
    from elfviz.io import read_bytes

    ref = collection.read("liq-0-test")
    ref.attrs.update(engine="qe", total_energy_ev=-123.4, pw_seconds=9.0, scf_converged=1)
    predictions.clear_cache()
    result, _ = predictions.predict(ref)
    for key in ("engine", "total_energy_ev", "pw_seconds", "scf_converged"):
        assert key not in result.attrs
    assert result.attrs["source"].startswith("model:")
    assert result.attrs["frame_id"] == "liq-0-test" and result.attrs["phase"] == "liquid"
    state = DashboardState()
    state.set_structure(ref, "x")
    state.prediction = result
    nc = read_bytes(ExportPanel(state, NoView())._file(".nc").getvalue(), "x.nc")
    assert "engine" not in nc.attrs and nc.attrs["source"].startswith("model:")
    predictions.clear_cache()


def test_the_shown_field_buttons_fill_the_selected_one(dash):
    shown = dash.model._shown
    assert shown.color == "primary" and shown.variant == "outline"  # outline, the selected one filled


def test_held_out_frames_come_first_and_training_frames_say_so(tmp_path):
    coll = build_collection(tmp_path / "frames")
    # a denser state point with training frames only
    coll.add(reference_frame(2.9, 99, 400.0), frame_id="liq-2-train", phase="liquid", split="train",
             trajectory="traj-2")
    frames = [ex for ex in sources.example_catalog(coll) if ex.kind == "frame"]
    assert [ex.name for ex in frames] == ["liq-0-test", "liq-1-test", "liq-2-train"]
    assert frames[-1].label.endswith("· training frame")
    assert not any("training" in ex.label for ex in frames[:2])


def test_the_dashboard_cap_follows_the_server_it_runs_on(collection, predictor):
    from elfviz.dashboard import Dashboard

    assert Dashboard(collection=collection).structure._max_upload_bytes == sources.MAX_UPLOAD_BYTES
    big = Dashboard(collection=collection, max_upload_bytes=sources.SERVE_MAX_UPLOAD_BYTES)
    assert big.structure._max_upload_bytes == sources.SERVE_MAX_UPLOAD_BYTES
