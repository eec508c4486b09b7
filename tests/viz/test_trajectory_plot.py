"""phi(t) / phi*(t) figure: curves, NaN gaps for frames not known yet, the x range, the two markers."""

from __future__ import annotations

import math

import pytest

from elfviz.viz.trajectory_plot import (
    SOURCE_NAME,
    frame_marker,
    isovalue_line,
    phi_time_figure,
    update_phi_time_figure,
)


def test_an_empty_figure_hides_its_markers_until_told():
    fig = phi_time_figure()
    assert not frame_marker(fig).visible and not isovalue_line(fig).visible
    update_phi_time_figure(fig, current=1.0)
    assert frame_marker(fig).visible and not isovalue_line(fig).visible


def test_curves_change_in_place_and_the_x_range_covers_the_whole_run():
    fig = phi_time_figure([0.0], [0.4], [0.9])
    source = fig.select_one({"name": SOURCE_NAME})
    times = [0.0, 2.5, 5.0, 7.5]
    update_phi_time_figure(fig, times, [0.4, math.nan, math.nan, math.nan], [0.9, math.nan, math.nan, math.nan],
                           frames=[10, 11, 12, 13], time_label="time (fs)")
    assert fig.select_one({"name": SOURCE_NAME}) is source  # the same source: the page redraws in place
    assert source.data["frame"] == [10, 11, 12, 13] and math.isnan(source.data["phi"][3])
    assert fig.x_range.start < 0.0 and fig.x_range.end > 7.5  # frames not predicted yet have room already
    assert fig.xaxis[0].axis_label == "time (fs)"


def test_one_value_per_frame_is_required():
    with pytest.raises(ValueError, match="one value per frame"):
        phi_time_figure([0.0, 1.0], [0.4], [0.9, 0.8])
