"""Diagnostic low-pass correction and the transferable learned Fourier correction."""

from __future__ import annotations

import json

import numpy as np
import pytest
from analysis_synthetic import TRICLINIC, plane_wave, synthetic_pair

from elfviz import grid
from elfviz.analysis import field_metrics, lowpass_correction, r2_versus_kcut, residual_dataset
from elfviz.analysis.correction import lowpass_filter
from elfviz.errors import GridError, ModelError, OutputExistsError
from elfviz.model.correction import CHANNELS, FourierCorrection
from elfviz.model.training.correction_fit import fit_fourier_correction, save_correction, select_fourier_correction


# ----------------------------------------------------------------------------- diagnostic
def test_lowpass_filter_separates_waves():
    shape = (16, 16, 16)
    low, k_low = plane_wave(TRICLINIC, shape, (1, 0, 0))
    high, k_high = plane_wave(TRICLINIC, shape, (0, 5, 2))
    cut = 0.5 * (k_low + k_high)
    np.testing.assert_allclose(lowpass_filter(low + high + 0.2, TRICLINIC, cut), low + 0.2, atol=1e-12)


def test_lowpass_at_infinite_cut_reproduces_the_reference():
    ref, pred = synthetic_pair(0)
    out = lowpass_correction(ref, pred, k_cut=np.inf)
    assert out.attrs["r2_after"] == pytest.approx(1.0, abs=1e-9)
    np.testing.assert_allclose(out["elf_corrected"], ref["elf"], atol=1e-6)
    assert out.attrs["r2_before"] == pytest.approx(field_metrics(ref["elf"], pred["elf"])["r2"])


def test_lowpass_restores_a_long_wavelength_error_exactly():
    ref, pred = synthetic_pair(1)
    shape = grid.grid_shape(ref)
    wave, k_wave = plane_wave(ref["cell"].values, shape, (1, 0, 0), amplitude=0.05)
    bad = grid.with_field(pred, "elf", np.clip(ref["elf"].values - wave, 0, 1))
    out = lowpass_correction(ref, bad, k_cut=k_wave * 1.5)
    assert out.attrs["r2_before"] < 0.99
    assert out.attrs["r2_after"] == pytest.approx(1.0, abs=1e-6)
    assert out.attrs["k_cut"] == pytest.approx(k_wave * 1.5)


def test_lowpass_accepts_a_residual_dataset_and_stays_in_unit_interval():
    ref, pred = synthetic_pair(2)
    res = residual_dataset(ref, pred)
    for k_cut in (0.0, 3.0, 8.0):
        out = lowpass_correction(res, k_cut=k_cut)
        assert 0.0 <= float(out["elf_corrected"].min()) and float(out["elf_corrected"].max()) <= 1.0
    assert lowpass_correction(res, k_cut=0.0).attrs["r2_after"] == pytest.approx(
        lowpass_correction(res, k_cut=0.0).attrs["r2_before"]
    )
    with pytest.raises(GridError, match="elf_ref"):
        lowpass_correction(ref)


def test_r2_versus_kcut_goes_from_uncorrected_to_one():
    ref, pred = synthetic_pair(3, pressure=200.0)
    curve = r2_versus_kcut(ref, pred)
    assert curve["r2"].dims == ("k_cut",)
    assert float(curve["r2"][0]) == pytest.approx(curve.attrs["r2_before"])
    assert float(curve["r2"][-1]) == pytest.approx(1.0, abs=1e-9)
    assert float(curve["mode_fraction"][0]) == 0.0 and float(curve["mode_fraction"][-1]) == 1.0
    assert np.all(np.diff(curve["mode_fraction"]) >= 0)
    assert curve.attrs["pressure_gpa"] == 200.0
    explicit = r2_versus_kcut(ref, pred, k_cuts=[2.0, 4.0])
    assert explicit["k_cut"].values.tolist() == [2.0, 4.0]
    # the synthetic residual is long-wavelength: most of it is gone by 2π/1.5 Å
    assert float(r2_versus_kcut(ref, pred, k_cuts=[2 * np.pi / 1.5])["r2"][0]) > 0.9


# ----------------------------------------------------------------------------- learned
@pytest.fixture(scope="module")
def learned():
    train = [
        residual_dataset(*synthetic_pair(s, scale=sc))
        for s, sc in [(20, 1.0), (21, 1.0), (22, 1.1), (23, 1.1), (24, 0.95)]
    ]
    validation = [residual_dataset(*synthetic_pair(s, scale=sc)) for s, sc in [(30, 1.05), (31, 0.97)]]
    return fit_fourier_correction(train, validation, k_max=2 * np.pi / 0.74, n_radial=8)


def test_learned_correction_improves_held_out_frames(learned):
    meta = learned.metadata
    assert meta["validation_r2_after"] > meta["validation_r2_before"] + 0.05
    assert meta["train_r2_after"] > meta["train_r2_before"]
    for seed, scale in [(40, 1.0), (41, 1.08)]:
        ref, pred = synthetic_pair(seed, scale=scale)
        corrected = learned(pred)
        before = field_metrics(ref["elf"], pred["elf"])["r2"]
        after = field_metrics(ref["elf"], corrected["elf"])["r2"]
        assert after > before + 0.05, (before, after)
        assert after > 0.97
        assert "correction" in corrected.attrs


def test_learned_correction_keeps_elf_in_unit_interval(learned):
    ref, pred = synthetic_pair(42)
    wild = FourierCorrection(
        learned.weights * 1e3,
        k_max=learned.k_max,
        n_radial=learned.n_radial,
        channels=learned.channels,
        rs_ref=learned.rs_ref,
        rs_order=learned.rs_order,
    )
    raw = pred["elf"].values + wild.predicted_residual(pred)
    assert raw.min() < 0 and raw.max() > 1  # the unclipped correction would leave [0, 1]
    out = wild(pred, keep_uncorrected=True)
    assert float(out["elf"].min()) >= 0.0 and float(out["elf"].max()) <= 1.0
    np.testing.assert_array_equal(out["elf_pred"], pred["elf"])
    grid.validate(out)


def test_learned_correction_is_translation_equivariant(learned):
    _, pred = synthetic_pair(43)
    shape = grid.grid_shape(pred)
    shift = (3, 5, 1)
    cell = pred["cell"].values
    moved = grid.make_dataset(
        cell,
        pred["positions"].values + (np.asarray(shift) / np.asarray(shape)) @ cell,
        pred["numbers"].values,
        np.roll(pred["elf"].values, shift, axis=(0, 1, 2)),
    )
    a = np.roll(learned(pred)["elf"].values, shift, axis=(0, 1, 2))
    b = learned(moved)["elf"].values
    np.testing.assert_allclose(a, b, atol=1e-5)


def test_learned_correction_json_round_trip(learned, tmp_path):
    path = save_correction(learned, tmp_path / "corr.json")
    loaded = FourierCorrection.load(path)
    np.testing.assert_array_equal(loaded.weights, learned.weights)
    assert loaded.channels == learned.channels and loaded.k_max == learned.k_max
    _, pred = synthetic_pair(44)
    np.testing.assert_array_equal(loaded(pred)["elf"], learned(pred)["elf"])
    with pytest.raises(OutputExistsError):
        save_correction(learned, path)
    save_correction(learned, path, force=True)
    data = json.loads(path.read_text())
    assert data["format"] == "elfviz-fourier-correction"


def test_bad_correction_files_raise_model_error(tmp_path):
    with pytest.raises(ModelError, match="does not exist"):
        FourierCorrection.load(tmp_path / "missing.json")
    (tmp_path / "junk.json").write_text("{not json")
    with pytest.raises(ModelError, match="not a readable JSON"):
        FourierCorrection.load(tmp_path / "junk.json")
    (tmp_path / "other.json").write_text(json.dumps({"format": "something-else"}))
    with pytest.raises(ModelError, match="not an elfviz Fourier correction"):
        FourierCorrection.load(tmp_path / "other.json")
    (tmp_path / "short.json").write_text(
        json.dumps(
            {
                "format": "elfviz-fourier-correction",
                "weights": [1.0],
                "k_max": 5.0,
                "n_radial": 2,
                "channels": ["elf"],
                "rs_ref": 1.5,
                "rs_order": 0,
            }
        )
    )
    with pytest.raises(ModelError, match="2 expected"):
        FourierCorrection.load(tmp_path / "short.json")
    with pytest.raises(ModelError, match="unknown correction channel"):
        FourierCorrection(np.zeros(2), k_max=5.0, n_radial=2, channels=["density"], rs_ref=1.5, rs_order=0)


def test_unhelpful_correction_falls_back_to_identity():
    rng = np.random.default_rng(0)

    def noisy(seed):
        ref, pred = synthetic_pair(seed)
        noise = 0.02 * rng.normal(size=grid.grid_shape(ref))  # residual unrelated to the structure
        return residual_dataset(grid.with_field(ref, "elf", np.clip(pred["elf"].values + noise, 0, 1)), pred)

    corr = fit_fourier_correction(
        [noisy(s) for s in (50, 51)], [noisy(52)], n_radial=4, channels=("elf",), rs_order=0, alphas=[1e-12]
    )
    assert np.all(corr.weights == 0.0)
    assert corr.metadata["validation_r2_after"] == corr.metadata["validation_r2_before"]


def test_learned_correction_on_a_skewed_cell_and_missing_fields():
    ref, pred = synthetic_pair(60, cell=TRICLINIC * 1.05)
    corr = fit_fourier_correction([residual_dataset(ref, pred)], alpha=1e-6, channels=CHANNELS, n_radial=6)
    assert corr.metadata["train_r2_after"] > corr.metadata["train_r2_before"]
    with pytest.raises(GridError, match="elf_ref"):
        fit_fourier_correction([pred])
    with pytest.raises(GridError, match="no training frames"):
        fit_fourier_correction([])
    with pytest.raises(GridError, match="'elf' field"):
        corr(grid.structure_only(pred))


def test_model_selection_keeps_the_best_validation_score():
    train = [residual_dataset(*synthetic_pair(s)) for s in (70, 71, 72)]
    validation = [residual_dataset(*synthetic_pair(73))]
    configs = [{"n_radial": 1, "channels": ("elf",), "rs_order": 0}, {"n_radial": 8}]
    best = select_fourier_correction(train, validation, configs)
    scores = [c["validation_r2_after"] for c in best.metadata["candidates"]]
    assert scores[1] > scores[0]  # the flexible radial filter wins on this long-wavelength residual
    assert best.n_radial == 8 and best.metadata["validation_r2_after"] == scores[1]
    with pytest.raises(GridError, match="validation"):
        select_fourier_correction(train, [], configs)


def test_bundled_correction_is_matched_by_model_version(learned, tmp_path):
    from elfviz.model.correction import bundled_correction

    tagged = FourierCorrection.from_dict(
        {**learned.to_dict(), "metadata": {"model_version": "elfnet-fft@9.9"}}
    )
    save_correction(tagged, tmp_path / "elfnet-fft-9.9.json")
    found = bundled_correction("elfnet-fft@9.9", folder=tmp_path)
    np.testing.assert_array_equal(found.weights, learned.weights)
    with pytest.raises(
        ModelError, match=r"no shipped Fourier correction for model 'other@1'.*elfnet-fft@9.9"
    ):
        bundled_correction("other@1", folder=tmp_path)
    with pytest.raises(ModelError, match="available: none"):
        bundled_correction("other@1", folder=tmp_path / "missing")
