"""Radial power spectra, low-|G| fractions, correlation lengths and k-space bookkeeping."""

from __future__ import annotations

import math

import numpy as np
import pytest
from analysis_synthetic import TRICLINIC, gaussian_spectrum_field, plane_wave, random_positions

from elfviz import grid
from elfviz.analysis.autocorrelation import (
    correlation_length,
    minimum_image_displacements,
    radial_autocorrelation,
)
from elfviz.analysis.spectra import (
    K_BOND,
    default_shell_width,
    lowk_variance_fraction,
    median_k,
    radial_power_spectrum,
    spectra_over_frames,
    spectral_centroid,
)
from elfviz.errors import GridError
from elfviz.grid import fourier

CUBIC = np.eye(3) * 4.0


# ----------------------------------------------------------------------------- k-space
@pytest.mark.parametrize("shape", [(8, 9, 10), (7, 6, 5)])
def test_gnorm_matches_full_fft_frequencies(shape):
    recip = grid.reciprocal_cell(TRICLINIC)
    freqs = [
        np.fft.fftfreq(shape[0]) * shape[0],
        np.fft.fftfreq(shape[1]) * shape[1],
        np.fft.rfftfreq(shape[2]) * shape[2],
    ]  # numpy's conventions, also for the Nyquist planes
    m = np.stack(np.meshgrid(*freqs, indexing="ij"), axis=-1)
    expected = np.linalg.norm(m @ recip, axis=-1)
    np.testing.assert_allclose(fourier.rfft_gnorm(TRICLINIC, shape), expected, atol=1e-12)
    np.testing.assert_allclose(
        np.linalg.norm(fourier.g_vectors(TRICLINIC, shape, real=True), axis=-1), expected, atol=1e-12
    )


@pytest.mark.parametrize("shape", [(6, 6, 6), (6, 6, 7)])
def test_multiplicity_counts_every_mode_once(shape):
    assert fourier.rfft_multiplicity(shape).sum() * shape[0] * shape[1] == math.prod(shape)


def test_structure_factor_matches_brute_force_on_skewed_cell():
    positions = random_positions(TRICLINIC, 5, seed=3)
    shape = (6, 5, 8)
    s = fourier.structure_factor(positions, TRICLINIC, shape)
    g = fourier.g_vectors(TRICLINIC, shape, real=True)
    brute = np.exp(-1j * np.einsum("abci,ji->abcj", g, positions)).sum(axis=-1)
    np.testing.assert_allclose(s, brute, atol=1e-10)


def test_fourier_round_trip():
    values = np.random.default_rng(0).normal(size=(6, 7, 9))
    back = fourier.from_fourier_coefficients(fourier.fourier_coefficients(values), values.shape)
    np.testing.assert_allclose(back, values, atol=1e-12)


# ----------------------------------------------------------------------------- plane waves
@pytest.mark.parametrize("cell", [CUBIC, TRICLINIC], ids=["cubic", "triclinic"])
@pytest.mark.parametrize("m", [(1, 0, 0), (0, 0, 2), (2, -1, 3), (-3, 2, -1)])
def test_single_plane_wave_lands_in_its_shell(cell, m):
    shape = (20, 18, 24)
    wave, gnorm = plane_wave(cell, shape, m, amplitude=0.3)
    spec = radial_power_spectrum(wave, cell=cell)
    width = spec.attrs["shell_width"]
    expected_shell = int(np.rint(gnorm / width))
    assert int(spec["power"].argmax("k")) == expected_shell
    assert spec["power"][expected_shell] == pytest.approx(0.3**2 / 2, rel=1e-9)
    others = np.delete(spec["power"].values, expected_shell)
    assert np.all(others < 1e-20)
    assert spec.attrs["variance"] == pytest.approx(0.045, rel=1e-9)


def test_plane_wave_with_custom_shell_width():
    wave, gnorm = plane_wave(TRICLINIC, (16, 16, 16), (1, 1, 0))
    spec = radial_power_spectrum(wave, cell=TRICLINIC, shell_width=0.1)
    assert float(spec["k"][int(spec["power"].argmax("k"))]) == pytest.approx(gnorm, abs=0.05)


def test_default_width_leaves_no_empty_shell_up_to_nyquist():
    shape = (24, 20, 30)
    noise = np.random.default_rng(1).normal(size=shape)
    spec = radial_power_spectrum(noise, cell=TRICLINIC)
    assert spec.attrs["shell_width"] == pytest.approx(
        np.linalg.norm(grid.reciprocal_cell(TRICLINIC), axis=1).max()
    )
    inside = spec["k"] <= spec.attrs["k_isotropic"]
    assert int(inside.sum()) > 5
    assert np.all(spec["n_modes"].where(inside, 1).values[1:] > 0)


# ----------------------------------------------------------------------------- Parseval and noise
@pytest.mark.parametrize("shape", [(16, 16, 16), (15, 12, 9)])
def test_parseval_total_power_is_the_variance(shape):
    values = np.random.default_rng(2).normal(loc=0.4, scale=0.1, size=shape)
    spec = radial_power_spectrum(values, cell=TRICLINIC)
    assert float(spec["power"].sum()) == pytest.approx(values.var(), rel=1e-10)
    assert spec.attrs["mean"] == pytest.approx(values.mean())
    assert int(spec["n_modes"].sum()) == math.prod(shape) - 1  # every mode but G = 0


def test_white_noise_spectrum_is_flat():
    shape = (32, 32, 32)
    values = np.random.default_rng(3).normal(size=shape)
    spec = radial_power_spectrum(values, cell=CUBIC)
    per_mode = values.var() / (math.prod(shape) - 1)
    well_sampled = (spec["n_modes"] >= 200) & (spec["k"] <= spec.attrs["k_isotropic"])
    ratio = (spec["mean_power"] / per_mode).where(well_sampled, drop=True).values
    assert len(ratio) >= 10
    assert np.all(np.abs(ratio - 1) < 0.35)  # each shell: >= 200 exponential variables
    slope = np.polyfit(spec["k"].where(well_sampled, drop=True).values, np.log(ratio), 1)[0]
    assert abs(slope) < 0.01  # no trend with |G| (per Å^-1)


def test_spectrum_is_translation_invariant():
    values = gaussian_spectrum_field(TRICLINIC, (12, 12, 12), 0.4)
    a = radial_power_spectrum(values, cell=TRICLINIC)
    b = radial_power_spectrum(np.roll(values, (3, -2, 5), axis=(0, 1, 2)), cell=TRICLINIC)
    np.testing.assert_allclose(a["power"], b["power"], atol=1e-14)


# ----------------------------------------------------------------------------- low-|G| fraction
def test_lowk_fraction_of_two_waves():
    shape = (20, 20, 20)
    low, k_low = plane_wave(CUBIC, shape, (1, 0, 0), amplitude=1.0)
    high, k_high = plane_wave(CUBIC, shape, (0, 6, 0), amplitude=2.0)
    field = low + high
    cut = 0.5 * (k_low + k_high)
    assert lowk_variance_fraction(field, cut, cell=CUBIC) == pytest.approx(1 / 5, rel=1e-9)
    assert lowk_variance_fraction(field, 0.0, cell=CUBIC) == 0.0
    assert lowk_variance_fraction(field, np.inf, cell=CUBIC) == pytest.approx(1.0)
    spec = radial_power_spectrum(field, cell=CUBIC)
    assert lowk_variance_fraction(spec, cut) == pytest.approx(1 / 5, rel=1e-9)
    assert spectral_centroid(field, cell=CUBIC) == pytest.approx((k_low * 0.5 + k_high * 2.0) / 2.5)
    assert median_k(field, cell=CUBIC) == pytest.approx(k_high)  # 80 % of the variance is in the short wave
    assert median_k(low + 0.25 * high, cell=CUBIC) == pytest.approx(k_low)


def test_lowk_fraction_of_constant_field_is_nan():
    assert math.isnan(lowk_variance_fraction(np.full((4, 4, 4), 0.2), cell=CUBIC))


def test_k_bond_is_the_h2_wavelength():
    assert K_BOND == pytest.approx(2 * np.pi / 0.74)


# ----------------------------------------------------------------------------- correlation length
@pytest.mark.parametrize("s", [0.3, 0.5])
def test_correlation_length_of_gaussian_spectrum(s):
    cell = np.eye(3) * 8.0
    field = gaussian_spectrum_field(cell, (40, 40, 40), s)
    assert correlation_length(field, cell=cell) == pytest.approx(2 * s, rel=0.05)


def test_correlation_length_on_skewed_cell():
    cell = TRICLINIC * 2.0
    field = gaussian_spectrum_field(cell, (40, 40, 40), 0.35, seed=4)
    assert correlation_length(field, cell=cell) == pytest.approx(0.7, rel=0.06)


def test_correlation_length_of_waves_and_beyond_the_cell():
    wave, _ = plane_wave(CUBIC, (12, 12, 12), (1, 0, 0))
    wave += plane_wave(CUBIC, (12, 12, 12), (0, 1, 0))[0] + plane_wave(CUBIC, (12, 12, 12), (0, 0, 1))[0]
    acf = radial_autocorrelation(wave, cell=CUBIC)
    assert acf["correlation"][0] == 1.0
    assert acf["r"].max() <= acf.attrs["r_limit"] + 1e-12
    # C(d) = mean of cos(2π d_i / L): stays above 1/e up to L/2 only along axes, but its radial average
    # falls below at larger d; the wavelength 4 Å gives about 1.2-1.3 Å
    assert 1.0 < correlation_length(wave, cell=CUBIC) < 1.5
    # a wave along the long axis of a 4 x 4 x 20 Å cell: within half the smallest width (2 Å) the radial
    # average sin(u)/u, u = 2π d / 20 Å, stays above 1/e, so the length is not measurable in this cell
    long_cell = np.diag([4.0, 4.0, 20.0])
    smooth, _ = plane_wave(long_cell, (8, 8, 40), (0, 0, 1))
    assert math.isnan(correlation_length(smooth, cell=long_cell))


def test_minimum_image_displacements_triclinic():
    shape = (5, 4, 6)
    dist = minimum_image_displacements(TRICLINIC, shape)
    frac = np.stack(np.meshgrid(*[np.arange(n) / n for n in shape], indexing="ij"), axis=-1)
    shifts = np.array([[i, j, k] for i in range(-2, 3) for j in range(-2, 3) for k in range(-2, 3)])
    brute = np.linalg.norm((frac[..., None, :] + shifts) @ TRICLINIC, axis=-1).min(axis=-1)
    np.testing.assert_allclose(dist, brute, atol=1e-12)


def test_constant_field_has_no_correlation_length():
    with pytest.raises(GridError, match="constant"):
        correlation_length(np.full((6, 6, 6), 0.5), cell=CUBIC)


# ----------------------------------------------------------------------------- inputs
def test_dataset_input_and_missing_field():
    ds = grid.make_dataset(
        CUBIC, [[0, 0, 0]], [1], fields={"residual": np.random.default_rng(0).normal(size=(8,) * 3)}
    )
    assert radial_power_spectrum(ds).attrs["field"] == "residual"
    with pytest.raises(GridError, match="no field 'elf'"):
        radial_power_spectrum(ds, field="elf")
    with pytest.raises(GridError, match="cell"):
        radial_power_spectrum(np.zeros((4, 4, 4)))
    with pytest.raises(GridError, match="shell_width"):
        radial_power_spectrum(ds, shell_width=-1.0)
    assert default_shell_width(CUBIC) == pytest.approx(2 * np.pi / 4.0)


# ----------------------------------------------------------------------------- over frames
def _frame(seed, scale, pressure, phase="liquid"):
    cell = np.eye(3) * 3.0 * scale
    shape = grid.shape_for_spacing(cell, 0.25)
    field = gaussian_spectrum_field(cell, shape, 0.3, seed=seed) * 0.01
    return grid.make_dataset(
        cell,
        [[0, 0, 0]],
        [1],
        fields={"residual": field},
        attrs={"pressure_gpa": pressure, "phase": phase, "frame_id": f"f{seed}"},
    )


def test_spectra_over_frames_groupby_pressure():
    frames = [_frame(0, 1.0, 250.0), _frame(1, 1.0, 250.0), _frame(2, 1.2, 100.0)]
    spectra = spectra_over_frames(frames)
    assert spectra["power"].dims == ("frame", "k")
    assert spectra["frame"].values.tolist() == ["f0", "f1", "f2"]
    assert spectra["phase"].values.tolist() == ["liquid"] * 3
    # the common width is the smallest default width: the larger cell sets the resolution
    assert spectra.attrs["shell_width"] == pytest.approx(2 * np.pi / 3.6)
    np.testing.assert_allclose(spectra["power"].sum("k"), spectra["variance"], rtol=1e-10)
    by_pressure = spectra.groupby("pressure_gpa").mean()
    assert by_pressure["pressure_gpa"].values.tolist() == [100.0, 250.0]
    assert by_pressure["power"].dims == ("pressure_gpa", "k")
    np.testing.assert_allclose(
        by_pressure["variance"].sel(pressure_gpa=250.0), spectra["variance"][:2].mean(), rtol=1e-12
    )
    assert spectra.groupby("rs_bohr").mean().sizes["rs_bohr"] == 2
    assert np.all((spectra["lowk_fraction"] >= 0) & (spectra["lowk_fraction"] <= 1))
    np.testing.assert_allclose(spectra["correlation_length"], 0.6, rtol=0.15)


def test_spectra_over_no_frames_raises():
    with pytest.raises(GridError, match="no frames"):
        spectra_over_frames([])
