"""Residual Datasets and accuracy metrics (per field, per frame, pooled per density)."""

from __future__ import annotations

import math

import numpy as np
import pytest
from analysis_synthetic import synthetic_pair

from elfviz import grid
from elfviz.analysis import aggregate_metrics, field_metrics, frame_metrics, residual_dataset
from elfviz.analysis.metrics import field_sums, metrics_from_sums
from elfviz.errors import GridError, StructureError


# ----------------------------------------------------------------------------- residuals
def test_residual_is_reference_minus_prediction():
    ref, pred = synthetic_pair(0, pressure=150.0)
    res = residual_dataset(ref, pred)
    np.testing.assert_allclose(res["residual"], ref["elf"].values - pred["elf"].values, atol=1e-6)
    np.testing.assert_array_equal(res["elf_ref"], ref["elf"])
    np.testing.assert_array_equal(res["elf"], pred["elf"])
    assert res.attrs["pressure_gpa"] == 150.0
    assert res.attrs["frame_id"] == "syn-0"
    assert res.attrs["source_ref"] == "dft:synthetic" and res.attrs["source_pred"] == "model:synthetic"
    assert res.attrs["rs_bohr"] == pytest.approx(ref.attrs["rs_bohr"])
    grid.validate(res)


def test_residual_accepts_wrapped_atoms():
    ref, pred = synthetic_pair(1)
    shifted = pred.copy()
    shifted["positions"] = pred["positions"] + pred["cell"].values[0]  # same atoms, one lattice vector away
    residual_dataset(ref, shifted)


def test_mismatched_grids_raise():
    ref, pred = synthetic_pair(2)
    coarse = grid.make_dataset(
        pred["cell"].values, pred["positions"].values, pred["numbers"].values, np.full((8, 8, 8), 0.5)
    )
    with pytest.raises(GridError, match=r"grid \(16, 16, 16\).*\(8, 8, 8\) differ"):
        residual_dataset(ref, coarse)


def test_mismatched_cells_and_atoms_raise():
    ref, pred = synthetic_pair(3)
    bigger = grid.make_dataset(
        pred["cell"].values * 1.01, pred["positions"].values, pred["numbers"].values, pred["elf"].values
    )
    with pytest.raises(GridError, match="cells differ"):
        residual_dataset(ref, bigger)
    moved = pred.copy()
    moved["positions"] = pred["positions"] + 0.1
    with pytest.raises(StructureError, match="positions"):
        residual_dataset(ref, moved)
    fewer = grid.make_dataset(
        pred["cell"].values, pred["positions"].values[:-1], pred["numbers"].values[:-1], pred["elf"].values
    )
    with pytest.raises(StructureError, match="atoms"):
        residual_dataset(ref, fewer)
    with pytest.raises(GridError, match="no field 'density'"):
        residual_dataset(ref, pred, pred_field="density")


# ----------------------------------------------------------------------------- metrics
def test_field_metrics_against_hand_computation():
    ref = np.array([0.1, 0.4, 0.6, 0.9])
    pred = np.array([0.2, 0.4, 0.5, 0.5])
    # residuals -0.1, 0, 0.1, 0.4: SS_res = 0.18; mean(ref) = 0.5, SS_tot = 0.16 + 0.01 + 0.01 + 0.16 = 0.34
    m = field_metrics(ref, pred)
    assert m["r2"] == pytest.approx(1 - 0.18 / 0.34)
    assert m["mae"] == pytest.approx(0.6 / 4)
    assert m["rmse"] == pytest.approx(math.sqrt(0.18 / 4))
    assert m["max_abs_error"] == pytest.approx(0.4)


def test_field_metrics_perfect_constant_and_mismatch():
    values = np.linspace(0, 1, 27).reshape(3, 3, 3)
    assert field_metrics(values, values) == {"r2": 1.0, "mae": 0.0, "rmse": 0.0, "max_abs_error": 0.0}
    mean_only = field_metrics(values, np.full_like(values, values.mean()))
    assert mean_only["r2"] == pytest.approx(0.0, abs=1e-12)
    assert math.isnan(field_metrics(np.ones(5), np.zeros(5))["r2"])
    with pytest.raises(GridError, match="differ"):
        field_metrics(np.zeros((2, 2, 2)), np.zeros((2, 2, 3)))
    with pytest.raises(GridError, match="NaN"):
        field_metrics(np.array([np.nan, 1.0]), np.array([0.0, 1.0]))


def test_field_metrics_accepts_dataarrays_in_any_dim_order():
    ref, pred = synthetic_pair(4)
    a = field_metrics(ref["elf"], pred["elf"].transpose("c", "a", "b"))
    b = field_metrics(ref["elf"].values, pred["elf"].values)
    assert a == pytest.approx(b)


def test_sums_reproduce_metrics():
    ref, pred = synthetic_pair(5)
    assert metrics_from_sums(field_sums(ref["elf"], pred["elf"])) == pytest.approx(
        field_metrics(ref["elf"], pred["elf"]), rel=1e-9
    )


def test_frame_metrics_and_pooled_aggregates_per_density():
    pairs = [
        synthetic_pair(s, pressure=p, scale=sc)
        for s, p, sc in [(10, 300.0, 1.0), (11, 300.0, 1.0), (12, 100.0, 1.15)]
    ]
    residuals = [residual_dataset(r, p) for r, p in pairs]
    frames = frame_metrics(residuals)
    assert frames["frame"].values.tolist() == ["syn-10", "syn-11", "syn-12"]
    for i, (r, p) in enumerate(pairs):
        assert float(frames["r2"][i]) == pytest.approx(field_metrics(r["elf"], p["elf"])["r2"], rel=1e-6)
    per_density = aggregate_metrics(frames)
    assert per_density.sizes["rs_bohr"] == 2
    assert per_density["n_frames"].values.tolist() == [2, 1]  # denser (smaller rs) first
    dense = per_density.isel(rs_bohr=0)
    pooled = field_metrics(
        np.concatenate([pairs[0][0]["elf"].values.ravel(), pairs[1][0]["elf"].values.ravel()]),
        np.concatenate([pairs[0][1]["elf"].values.ravel(), pairs[1][1]["elf"].values.ravel()]),
    )
    for name in ("r2", "mae", "rmse", "max_abs_error"):
        assert float(dense[name]) == pytest.approx(pooled[name], rel=1e-6)
    assert float(dense["pressure_gpa"]) == 300.0
    by_pressure = frames.groupby("pressure_gpa").mean()
    assert by_pressure.sizes["pressure_gpa"] == 2
    with pytest.raises(GridError, match="no frame coordinate"):
        aggregate_metrics(frames, by="temperature_k")


def test_frame_metrics_with_prefix_for_a_baseline():
    ref, pred = synthetic_pair(6, pressure=200.0)
    res = residual_dataset(ref, pred)
    frames = frame_metrics([res], prefix="baseline_")
    assert "baseline_r2" in frames and "r2" not in frames
    agg = aggregate_metrics(frames, by="pressure_gpa", prefix="baseline_")
    assert float(agg["baseline_r2"][0]) == pytest.approx(float(frames["baseline_r2"][0]))
