"""The holoviews plots are responsive, carry their colour bars and keep crystals apart from liquids."""

from __future__ import annotations

import numpy as np
import pytest

from elfviz import grid
from elfviz.analysis import r2_versus_kcut, radial_power_spectrum, residual_dataset, spectra_over_frames
from elfviz.viz.slices import lattice_plane_slice, slice_plot

hv = pytest.importorskip("holoviews")
plots = pytest.importorskip("elfviz.viz.plots")

SKEWED = np.array([[3.0, 0.0, 0.0], [1.4, 2.6, 0.0], [0.3, -0.5, 3.2]])


def _residual(cell, seed, pressure, phase, rs):
    rng = np.random.default_rng(seed)
    shape = grid.shape_for_spacing(cell, 0.25)
    ref = grid.make_dataset(cell, [[0, 0, 0]], [1], elf=rng.random(shape).astype(np.float32),
                            attrs={"pressure_gpa": pressure, "phase": phase, "rs_bohr": rs, "frame_id": f"f{seed}"})
    pred = ref.copy()
    pred["elf"] = ref["elf"] * 0.9
    return residual_dataset(ref, pred)


@pytest.fixture(scope="module")
def spectra():
    frames = [_residual(np.eye(3) * 5.0, 0, 100.0, "liquid", 1.5), _residual(np.eye(3) * 5.0, 1, 110.0, "liquid", 1.5),
              _residual(np.eye(3) * 4.2, 2, 300.0, "liquid", 1.3), _residual(np.diag([1.6, 1.6, 2.3]), 3, 250.0,
                                                                            "I41amd", 1.3),
              _residual(SKEWED, 4, 150.0, "C2c-12", 1.45)]
    return spectra_over_frames(frames, correlation=False)


def _colorbars(fig):
    return [r for r in fig.right if type(r).__name__ == "ColorBar"]


def test_spectra_keep_crystals_apart_and_colour_by_pressure(spectra, render_bokeh):
    plot = plots.spectra_plot(spectra)
    paths = [el for el in plot if type(el) is hv.Path]
    assert len(paths) == 2
    liquid, crystal = paths
    liquid_opts, crystal_opts = liquid.opts.get().kwargs, crystal.opts.get().kwargs
    assert liquid_opts["line_dash"] == "solid" and crystal_opts["line_dash"] == "dashed"
    # liquids of one density are averaged (2 curves from 3 frames), each crystal phase has its own curve
    assert len(liquid.split()) == 2 and len(crystal.split()) == 2
    assert {c.dimension_values("curve")[0] for c in crystal.split()} == {"I41amd", "C2c-12"}
    mean_p = sorted(float(c.dimension_values("pressure (GPa)")[0]) for c in liquid.split())
    assert mean_p == [105.0, 300.0]
    # one colour bar, one colour scale for both kinds, covering every pressure
    assert liquid_opts["colorbar"] and not crystal_opts["colorbar"]
    assert liquid_opts["clim"] == crystal_opts["clim"] == (105.0, 300.0)
    assert liquid_opts["colorbar_opts"]["title"] == "pressure (GPa)"
    labels = [el.label for el in plot if isinstance(el, hv.Curve)]
    assert labels == ["liquid (3 frames)", "crystal (2 frames)"]
    # curves start above k = 0 and on a grid finer than the small crystal's shells
    k = liquid.split()[0].dimension_values(0)
    assert k.min() > 0 and np.diff(k).min() < 0.5 * float(spectra["frame_shell_width"].max())
    fig = render_bokeh(plot)
    assert fig.sizing_mode == "stretch_width" and len(_colorbars(fig)) == 1
    assert fig.xaxis[0].axis_label == "|G| (Å⁻¹)"
    per_frame = plots.spectra_plot(spectra, average_by=None)
    assert len([el for el in per_frame if type(el) is hv.Path][0].split()) == 3


def test_line_plots_are_responsive(spectra, render_bokeh):
    res = _residual(SKEWED, 7, 200.0, "liquid", 1.4)
    for plot in (plots.frame_spectrum_plot(radial_power_spectrum(res)), plots.r2_kcut_plot(r2_versus_kcut(res)),
                 plots.lowk_fraction_plot(spectra)):
        fig = render_bokeh(plot)
        assert fig.sizing_mode == "stretch_width" and fig.height == plots.PLOT_HEIGHT
        assert fig.min_width == plots.MIN_WIDTH


@pytest.mark.parametrize("plane", ["ab", "bc", "ca"])
def test_slice_plot_scales_with_its_card_at_the_true_aspect(plane, render_bokeh):
    ds = grid.make_dataset(SKEWED, [[0, 0, 0]], [1], elf=np.random.default_rng(0).random((12, 10, 14)))
    plot = slice_plot(lattice_plane_slice(ds, plane=plane, position=0.3))
    opts = plot.opts.get().kwargs
    assert opts["responsive"] and opts["colorbar"]
    fig = render_bokeh(plot)
    assert fig.sizing_mode == "stretch_width" and fig.match_aspect and fig.aspect_scale == 1
    assert type(fig.x_range).__name__ == type(fig.y_range).__name__ == "DataRange1d"  # match_aspect acts
    assert len(_colorbars(fig)) == 1 and fig.min_width >= 280 and fig.height <= 600
    fixed = render_bokeh(slice_plot(lattice_plane_slice(ds, plane=plane), width=400, height=360))
    assert fixed.sizing_mode == "fixed" and len(_colorbars(fixed)) == 1


def test_residual_slice_plot_is_responsive(render_bokeh):
    res = _residual(SKEWED, 8, 200.0, "liquid", 1.4)
    fig = render_bokeh(plots.residual_slice_plot(res, axis="c", index=1))
    assert fig.sizing_mode == "stretch_width" and fig.match_aspect and len(_colorbars(fig)) == 1
