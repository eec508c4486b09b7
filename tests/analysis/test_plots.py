"""HoloViews plots of the residual analysis build and render with bokeh."""

from __future__ import annotations

import numpy as np
import pytest
from analysis_synthetic import TRICLINIC, synthetic_pair

from elfviz.analysis import radial_power_spectrum, residual_dataset, spectra_over_frames
from elfviz.analysis.correction import kcut_curves_over_frames
from elfviz.errors import GridError

hv = pytest.importorskip("holoviews")
plots = pytest.importorskip("elfviz.viz.plots")


@pytest.fixture(scope="module")
def residuals():
    pairs = [
        synthetic_pair(s, pressure=p, scale=sc)
        for s, p, sc in [(0, 300.0, 1.0), (1, 300.0, 1.0), (2, 100.0, 1.2)]
    ]
    return [residual_dataset(r, p) for r, p in pairs]


def _paths(plot):
    return [el for el in plot if isinstance(el, hv.Path) and not isinstance(el, hv.Curve)]


def test_spectra_plot_one_curve_per_pressure(residuals, render_bokeh):
    spectra = spectra_over_frames(residuals)
    plot = plots.spectra_plot(spectra)
    (path,) = _paths(plot)  # no phase: one kind of frames
    curves = path.split()
    # frames of one density are averaged: two curves, coloured by their pressure through one colour bar
    assert sorted(float(c.dimension_values("pressure (GPa)")[0]) for c in curves) == [100.0, 300.0]
    assert path.opts.get().kwargs["colorbar"] and path.opts.get().kwargs["color"] == "pressure (GPa)"
    assert any(isinstance(el, hv.VLine) for el in plot)
    assert all(np.all(c.dimension_values(0) > 0) for c in curves)  # no k = 0 point on a log axis
    render_bokeh(plot)
    by_rs = plots.spectra_plot(spectra, color_by="rs_bohr", y="mean_power", log=False)
    assert len(_paths(by_rs)[0].split()) == 2
    with pytest.raises(GridError, match="temperature_k"):
        plots.spectra_plot(spectra, color_by="temperature_k")
    single = plots.spectra_plot(radial_power_spectrum(residuals[2]))  # one frame, no frame dim
    assert len(_paths(single)[0].split()) == 1
    render_bokeh(single)
    with pytest.raises(GridError, match="no variable"):
        plots.spectra_plot(spectra, y="density")


def test_lowk_fraction_plot_means_per_pressure(residuals, render_bokeh):
    spectra = spectra_over_frames(residuals)
    plot = plots.lowk_fraction_plot(spectra)
    mean = [el for el in plot if isinstance(el, hv.Curve)][0]
    np.testing.assert_allclose(mean.dimension_values(0), [100.0, 300.0])
    np.testing.assert_allclose(mean.dimension_values(1)[1], float(spectra["lowk_fraction"][:2].mean()))
    render_bokeh(plot)
    render_bokeh(plots.lowk_fraction_plot(spectra, y="correlation_length"))


def test_r2_kcut_plot(residuals, render_bokeh):
    curves = kcut_curves_over_frames(residuals, k_cuts=np.linspace(0, 30, 7))
    assert curves["r2"].dims == ("frame", "k_cut")
    assert np.allclose(curves["r2"][:, 0], curves["r2_before"])
    plot = plots.r2_kcut_plot(curves)
    assert len([el for el in plot if isinstance(el, hv.Curve)]) == 2
    render_bokeh(plot)
    from elfviz.analysis import r2_versus_kcut

    single = r2_versus_kcut(residuals[0])
    render_bokeh(plots.r2_kcut_plot(single))


def test_residual_slice_on_a_skewed_cell(render_bokeh):
    ref, pred = synthetic_pair(5, cell=TRICLINIC)
    res = residual_dataset(ref, pred)
    x, y, values = plots.lattice_plane(res, "residual", "c", 2)
    assert values.shape == (17, 17)
    np.testing.assert_allclose(values[:-1, :-1], res["residual"].values[:, :, 2])
    np.testing.assert_allclose(values[-1, :-1], values[0, :-1])  # periodic end point
    # the far corner of the plane is a + b, expressed in the in-plane frame
    corner = TRICLINIC[0] + TRICLINIC[1]
    assert np.hypot(x[-1, -1], y[-1, -1]) == pytest.approx(np.linalg.norm(corner))
    plot = plots.residual_slice_plot(res, axis="c", index=2)
    lo, hi = plot.opts.get().kwargs["clim"]
    assert lo == -hi
    render_bokeh(plot)
    with pytest.raises(GridError, match="outside"):
        plots.lattice_plane(res, "residual", "a", 99)
    with pytest.raises(GridError, match="axis"):
        plots.lattice_plane(res, "residual", "z", 0)


def test_analysis_and_plots_imports_are_light():
    import subprocess
    import sys

    code = (
        "import sys, elfviz.viz.plots, elfviz.model.training.report, elfviz.cli.spectra; "
        "heavy = ('torch', 'holoviews', 'panel', 'pyvista', 'vtk', 'bokeh'); "
        "print(sorted(m for m in heavy if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
