"""networking_over_frames: one row per frame, coordinates from the frames' attributes."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from elfviz import grid
from elfviz.errors import GridError
from elfviz.topology import networking_analysis, networking_over_frames


def frame(seed, **attrs):
    f = ndimage.gaussian_filter(np.random.default_rng(seed).random((8, 10, 9)), 1.3, mode="wrap")
    f = (f - f.min()) / (f.max() - f.min())
    return grid.make_dataset(np.eye(3) * 3.0, [[0.3, 0.3, 0.3], [1.5, 1.6, 1.4]], [1, 1], f, attrs=attrs)


def test_rows_match_single_analyses_and_group_by_pressure():
    frames = [frame(0, pressure_gpa=150.0, phase="liquid"), frame(1, pressure_gpa=300.0, phase="C2c-12"),
              frame(2, pressure_gpa=150.0, phase="liquid")]
    table = networking_over_frames(frames)
    assert table.sizes["frame"] == 3
    for k, ds in enumerate(frames):
        res = networking_analysis(ds)
        assert [float(table[n][k]) for n in ("t1", "t2", "t3", "phi", "phi_star")] == \
            pytest.approx([res.t1, res.t2, res.t3, res.phi, res.phi_star], abs=0)
        verdict = res.tc_verdict(ds)
        assert str(table["tc_status"].values[k]) == verdict.status
        expected = np.nan if verdict.estimate is None else verdict.estimate.tc_k
        assert float(table["tc_k"][k]) == pytest.approx(expected, nan_ok=True)
    assert table["tc_status"].values[0] == "withheld"  # a liquid frame: the correlation does not apply
    assert table["phase"].values.tolist() == ["liquid", "C2c-12", "liquid"]
    assert np.all(np.isnan(table["temperature_k"].values))
    means = table["phi"].groupby("pressure_gpa").mean()
    assert means.sizes["pressure_gpa"] == 2
    assert "correlation" in table["tc_k"].attrs["long_name"] and table["tc_k"].attrs["units"] == "K"


def test_errors_name_the_frame():
    bad = frame(3).drop_vars("elf")
    with pytest.raises(GridError, match="frame 1: no field 'elf'"):
        networking_over_frames([frame(4), bad])
    with pytest.raises(GridError, match="no frames"):
        networking_over_frames([])
    with pytest.raises(GridError, match="frame 0 is a ndarray"):
        networking_over_frames([np.zeros((4, 4, 4))])
