"""spectra_over_frames bins frames of different cells on one common, fine k grid and keeps Parseval."""

from __future__ import annotations

import numpy as np
import pytest
from analysis_synthetic import TRICLINIC, gaussian_spectrum_field

from elfviz import grid
from elfviz.analysis.spectra import (
    K_BOND,
    default_shell_width,
    radial_power_spectrum,
    rebin_shells,
    spectra_over_frames,
)

SMALL = np.diag([1.6, 1.6, 2.4])  # a 2-atom-like cell: default shell width ~3.9 Å^-1
LARGE = np.eye(3) * 6.5  # a 64-atom-like cell: default shell width ~0.97 Å^-1


def _frame(cell, seed, pressure, phase):
    shape = grid.shape_for_spacing(cell, 0.2)
    field = gaussian_spectrum_field(cell, shape, 0.35, seed=seed) * 0.01
    return grid.make_dataset(cell, [[0, 0, 0]], [1], fields={"residual": field},
                             attrs={"pressure_gpa": pressure, "phase": phase, "frame_id": f"f{seed}"})


@pytest.fixture(scope="module")
def frames():
    return [_frame(LARGE, 0, 120.0, "liquid"), _frame(LARGE * 1.1, 1, 60.0, "liquid"),
            _frame(SMALL, 2, 300.0, "I41amd"), _frame(TRICLINIC, 3, 200.0, "C2c-12")]


def test_every_frame_keeps_parseval_on_the_common_grid(frames):
    spectra = spectra_over_frames(frames, correlation=False)
    for i, ds in enumerate(frames):
        variance = float(ds["residual"].var())
        assert float(spectra["variance"][i]) == pytest.approx(variance, rel=1e-10)
        assert float(spectra["power"][i].sum()) == pytest.approx(variance, rel=1e-10)
        width = spectra.attrs["shell_width"]
        assert float(spectra["power_density"][i].sum()) * width == pytest.approx(variance, rel=1e-10)
        assert float(spectra["n_modes"][i].sum()) == pytest.approx(np.prod(ds["residual"].shape) - 1)
    assert np.all(spectra["power"].values >= -1e-15)


def test_the_common_grid_is_the_finest_frame_resolution(frames):
    spectra = spectra_over_frames(frames, correlation=False)
    widths = [default_shell_width(ds["cell"].values) for ds in frames]
    assert spectra.attrs["shell_width"] == pytest.approx(min(widths))
    assert max(widths) / min(widths) > 3  # the small cell no longer sets the resolution
    np.testing.assert_allclose(spectra["frame_shell_width"], np.maximum(widths, min(widths)))
    # several points below the bond wavenumber, where most residual variance lies
    assert int((spectra["k"] < K_BOND).sum()) >= 8
    # the frame with the finest shells is binned exactly as on its own
    finest = int(np.argmin(widths))
    own = radial_power_spectrum(frames[finest], shell_width=min(widths))
    n = own.sizes["k"]
    np.testing.assert_allclose(spectra["power"][finest, :n], own["power"], rtol=1e-12, atol=1e-18)
    np.testing.assert_array_equal(spectra["power"][finest, n:], 0.0)


def test_a_coarse_frame_is_spread_within_its_own_shells(frames):
    spectra = spectra_over_frames(frames, correlation=False)
    i = 2  # the small cell
    own = radial_power_spectrum(frames[i])
    w, width = own.attrs["shell_width"], spectra.attrs["shell_width"]
    # the cumulative power at every common shell edge is the own shells' cumulative power, linear in
    # between the own edges (the power of one own shell is spread uniformly in |G| over it)
    cum_common = np.concatenate([[0.0], np.cumsum(spectra["power"][i].values)])
    edges_common = np.clip((np.arange(len(cum_common)) - 0.5) * width, 0, None)
    edges_own = np.concatenate([[0.0], (np.arange(own.sizes["k"]) + 0.5) * w])
    cum_own = np.concatenate([[0.0], np.cumsum(own["power"].values)])
    np.testing.assert_allclose(cum_common, np.interp(edges_common, edges_own, cum_own), rtol=1e-9, atol=1e-15)
    # inside one own shell the mean power per mode is flat (no invented structure)
    mean = spectra["mean_power"][i].values
    inside = [j for j, k in enumerate(spectra["k"].values) if abs(k - w) < 0.5 * (w - width)]
    assert len(inside) >= 2 and np.allclose(mean[inside], mean[inside[0]])


def test_one_cell_gives_the_old_shells():
    frames = [_frame(LARGE, s, 100.0, "liquid") for s in (5, 6)]
    spectra = spectra_over_frames(frames, correlation=False)
    for i, ds in enumerate(frames):
        own = radial_power_spectrum(ds)
        n = own.sizes["k"]
        np.testing.assert_allclose(spectra["power"][i, :n], own["power"], rtol=1e-12)
        np.testing.assert_allclose(spectra["n_modes"][i, :n], own["n_modes"])
        np.testing.assert_allclose(spectra["mean_power"][i, :n], own["mean_power"], rtol=1e-12)


def test_an_explicit_coarse_width_bins_directly(frames):
    spectra = spectra_over_frames(frames, shell_width=5.0, correlation=False)
    for i, ds in enumerate(frames):
        own = radial_power_spectrum(ds, shell_width=5.0)
        n = own.sizes["k"]
        np.testing.assert_allclose(spectra["power"][i, :n], own["power"], rtol=1e-12, atol=1e-18)


def test_rebin_shells_keeps_the_total():
    rng = np.random.default_rng(0)
    values = rng.random(7)
    out = rebin_shells(values, 3.0, 0.7, 40)
    assert out.sum() == pytest.approx(values.sum())
    assert np.all(out >= 0)


def test_modes_binning_resolves_each_cell_finer_than_its_own_shells(frames):
    n_below = 12
    width = K_BOND / (n_below + 0.5)  # the cut lies on a shell edge
    spectra = spectra_over_frames(frames, shell_width=width, correlation=False, binning="modes")
    assert spectra.attrs["binning"].startswith("every frame's modes")
    np.testing.assert_allclose(spectra["frame_shell_width"], width)
    below = spectra["k"] < K_BOND
    assert int(below.sum()) == n_below + 1
    for i, ds in enumerate(frames):
        # the modes binned directly: the same shells as radial_power_spectrum at this width
        own = radial_power_spectrum(ds, shell_width=width)
        n = own.sizes["k"]
        np.testing.assert_allclose(spectra["power"][i, :n], own["power"], rtol=1e-12, atol=1e-18)
        np.testing.assert_array_equal(spectra["n_modes"][i, :n], own["n_modes"])
        assert float(spectra["power"][i].sum()) == pytest.approx(float(spectra["variance"][i]), rel=1e-10)
        # the shells below the cut hold exactly the low-|G| fraction, computed mode by mode
        share = float(spectra["power"][i].where(below, 0.0).sum() / spectra["variance"][i])
        assert share == pytest.approx(float(spectra["lowk_fraction"][i]), rel=1e-10)
    # finer than the small cell's reciprocal vectors: shells between its |G| values are empty, flagged
    small = spectra.isel(frame=2)
    empty = small["n_modes"].values == 0
    assert empty[1:].any() and np.all(small["power"].values[empty] == 0.0)
    assert np.all(np.isnan(small["mean_power"].values[empty]))


def test_modes_binning_is_the_own_binning_where_the_widths_agree(frames):
    width = default_shell_width(frames[0]["cell"].values)
    one = [frames[0]]
    own = spectra_over_frames(one, shell_width=width, correlation=False)
    modes = spectra_over_frames(one, shell_width=width, correlation=False, binning="modes")
    np.testing.assert_allclose(modes["power"], own["power"], rtol=1e-12, atol=1e-18)


def test_unknown_binning_is_refused(frames):
    from elfviz.errors import GridError

    with pytest.raises(GridError, match="binning"):
        spectra_over_frames(frames, binning="fine")
