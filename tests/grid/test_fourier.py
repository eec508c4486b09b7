"""Tests of elfviz.grid.fourier against brute-force real-space periodic sums on skewed cells."""

import itertools

import numpy as np
import pytest

from elfviz.grid import fourier, grid_points_cartesian

TRICLINIC = np.array([[3.1, 0.0, 0.0], [0.7, 2.9, 0.0], [-0.4, 0.5, 3.3]])


def gaussian_ft(s):
    return lambda g: (2 * np.pi) ** 1.5 * s**3 * np.exp(-0.5 * (s * g) ** 2)


def brute_force_gaussian_sum(points, positions, cell, s, n_images=4):
    total = np.zeros(len(points))
    shifts = np.array(list(itertools.product(range(-n_images, n_images + 1), repeat=3))) @ cell
    for atom in positions:
        images = atom + shifts
        d2 = np.sum((points[:, None, :] - images[None, :, :]) ** 2, axis=-1)
        total += np.exp(-d2 / (2 * s * s)).sum(axis=1)
    return total


def test_structure_factor_matches_direct_sum():
    rng = np.random.default_rng(1)
    pos = rng.random((5, 3)) @ TRICLINIC
    shape = (6, 5, 8)
    s = fourier.structure_factor(pos, TRICLINIC, shape, real=False)
    g = fourier.g_vectors(TRICLINIC, shape)
    direct = np.exp(-1j * np.einsum("abcx,jx->abcj", g, pos)).sum(-1)
    np.testing.assert_allclose(s, direct, atol=1e-10)
    half = fourier.structure_factor(pos, TRICLINIC, shape)
    np.testing.assert_allclose(half[:, :, :4], direct[:, :, :4], atol=1e-10)
    # the rfft half stores the Nyquist plane as h_c = +4 (fftn order calls it -4)
    g_nyq = fourier.g_vectors(TRICLINIC, shape, real=True)[:, :, 4]
    np.testing.assert_allclose(
        half[:, :, 4], np.exp(-1j * np.einsum("abx,jx->abj", g_nyq, pos)).sum(-1), atol=1e-10
    )


def test_structure_factor_weights():
    pos = np.array([[0.1, 0.2, 0.3], [1.0, 1.1, 0.2]])
    s = fourier.structure_factor(pos, TRICLINIC, (4, 4, 4), weights=[2.0, -1.0])
    s1 = fourier.structure_factor(pos[:1], TRICLINIC, (4, 4, 4))
    s2 = fourier.structure_factor(pos[1:], TRICLINIC, (4, 4, 4))
    np.testing.assert_allclose(s, 2 * s1 - s2, atol=1e-12)


def test_structure_factor_in_atom_chunks_and_without_atoms():
    pos = np.random.default_rng(4).random((23, 3)) @ TRICLINIC
    whole = fourier.structure_factor(pos, TRICLINIC, (7, 6, 9), weights=np.linspace(0.5, 2.0, 23))
    chunked = fourier.structure_factor(pos, TRICLINIC, (7, 6, 9), weights=np.linspace(0.5, 2.0, 23), atom_chunk=5)
    np.testing.assert_allclose(chunked, whole, atol=1e-12)
    empty = fourier.structure_factor(np.zeros((0, 3)), TRICLINIC, (4, 4, 5))
    assert empty.shape == (4, 4, 3) and not empty.any()


@pytest.mark.parametrize("width", [0.35, 0.8])
def test_convolution_matches_brute_force_periodic_sum(width):
    rng = np.random.default_rng(2)
    pos = rng.random((4, 3)) @ TRICLINIC
    shape = (20, 20, 24)
    m = fourier.oversampling_for_width(TRICLINIC, shape, width)
    field = fourier.convolve_sites(pos, TRICLINIC, shape, gaussian_ft(width), oversample=m)
    pts = grid_points_cartesian(TRICLINIC, shape).reshape(-1, 3)
    pick = rng.choice(len(pts), 300, replace=False)
    expected = brute_force_gaussian_sum(pts[pick], pos, TRICLINIC, width)
    np.testing.assert_allclose(field.reshape(-1)[pick], expected, atol=1e-7)


def test_oversampling_removes_aliasing_on_a_coarse_grid():
    pos = np.array([[0.13, 0.41, 0.27]]) @ TRICLINIC
    shape, width = (6, 6, 6), 0.3
    pts = grid_points_cartesian(TRICLINIC, shape).reshape(-1, 3)
    expected = brute_force_gaussian_sum(pts, pos, TRICLINIC, width)
    coarse = fourier.convolve_sites(pos, TRICLINIC, shape, gaussian_ft(width)).reshape(-1)
    m = fourier.oversampling_for_width(TRICLINIC, shape, width)
    assert m > 1
    fine = fourier.convolve_sites(pos, TRICLINIC, shape, gaussian_ft(width), oversample=m).reshape(-1)
    assert np.max(np.abs(coarse - expected)) > 1e-3  # the naive sum aliases
    np.testing.assert_allclose(fine, expected, atol=1e-7)


def test_gradient_and_laplacian_of_periodic_gaussians():
    s = 0.6
    pos = np.array([[0.5, 0.4, 0.3], [1.9, 1.7, 2.2]])
    shape = (30, 30, 32)
    f = fourier.convolve_sites(pos, TRICLINIC, shape, gaussian_ft(s))
    grad = fourier.gradient(f, TRICLINIC)
    lap = fourier.laplacian(f, TRICLINIC)
    pts = grid_points_cartesian(TRICLINIC, shape).reshape(-1, 3)
    shifts = np.array(list(itertools.product(range(-3, 4), repeat=3))) @ TRICLINIC
    images = (pos[:, None, :] + shifts[None]).reshape(-1, 3)
    d = pts[:, None, :] - images[None]
    r2 = np.sum(d * d, axis=-1)
    g = np.exp(-r2 / (2 * s * s))
    expected_grad = -(g[..., None] * d).sum(1) / s**2
    expected_lap = (g * (r2 / s**4 - 3 / s**2)).sum(1)
    np.testing.assert_allclose(grad.reshape(-1, 3), expected_grad, atol=1e-6)
    np.testing.assert_allclose(lap.reshape(-1), expected_lap, atol=1e-5)


def test_supercell_grid_gives_tiled_field():
    pos = np.array([[0.2, 0.3, 0.1], [1.5, 1.2, 2.0]])
    f1 = fourier.convolve_sites(pos, TRICLINIC, (12, 12, 12), gaussian_ft(0.7))
    sc = TRICLINIC * np.array([[2], [1], [1]])
    pos2 = np.vstack([pos, pos + TRICLINIC[0]])
    f2 = fourier.convolve_sites(pos2, sc, (24, 12, 12), gaussian_ft(0.7))
    np.testing.assert_allclose(f2, np.concatenate([f1, f1], axis=0), atol=1e-10)


def test_nyquist_g_is_pi_over_grid_step():
    assert fourier.nyquist_g(np.diag([4.0, 2.0, 8.0]), (40, 10, 40)) == pytest.approx(np.pi / 0.2)
