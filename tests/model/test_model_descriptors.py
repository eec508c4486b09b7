"""FFT descriptors versus brute-force periodic real-space sums, and their invariances."""

import itertools

import numpy as np
import pytest
import torch
from scipy.spatial.transform import Rotation

from elfviz.grid import cart_to_frac, grid_points_cartesian
from elfviz.grid.fourier import structure_factor
from elfviz.model.descriptors import (
    DescriptorSpec,
    compute_descriptors,
    density_channels,
    feature_names,
    solid_harmonics,
    structure_factor_torch,
    triple_invariants,
)

SKEWED = np.array([[3.2, 0.0, 0.0], [0.8, 3.0, 0.0], [-0.5, 0.4, 3.4]])
SPEC = DescriptorSpec(widths=(0.3, 0.7, 1.4), lmax=3)


def atoms_in(cell, n=6, seed=0):
    return np.random.default_rng(seed).random((n, 3)) @ cell


def brute_force_channels(points, positions, cell, spec, n_images=4):
    shifts = np.array(list(itertools.product(range(-n_images, n_images + 1), repeat=3))) @ cell
    images = (positions[:, None] + shifts[None]).reshape(-1, 3)
    d = images[None] - points[:, None]  # R_j + L - r
    r2 = np.sum(d * d, -1)
    out = []
    for s in spec.widths:
        harm = solid_harmonics(*(torch.as_tensor(d[..., i]) for i in range(3)), spec.lmax)
        gauss = np.exp(-r2 / (2 * s * s))
        chans = []
        for l, ms in enumerate(harm):
            for h in ms:
                chans.append((h.numpy() * gauss / s**l).sum(1))
        out.append(np.stack(chans))
    return np.stack(out)  # (S, nl, P)


def test_solid_harmonics_are_orthonormal_on_the_sphere():
    v = np.random.default_rng(0).normal(size=(200000, 3))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    harm = [h for ms in solid_harmonics(*(torch.as_tensor(v[:, i]) for i in range(3)), 3) for h in ms]
    y = torch.stack(harm).numpy()
    gram = y @ y.T * 4 * np.pi / len(v)
    np.testing.assert_allclose(gram, np.eye(16), atol=0.02)


@pytest.mark.parametrize("shape", [(20, 18, 24), (9, 10, 15)])
@pytest.mark.parametrize("atom_chunk", [256, 4])
def test_torch_structure_factor_matches_the_numpy_one(shape, atom_chunk):
    """The model's torch S(G) (kept for CUDA) and elfviz.grid.fourier's NumPy S(G) agree in float64."""
    pos = atoms_in(SKEWED, n=11, seed=5)
    frac = torch.as_tensor(cart_to_frac(pos, SKEWED), dtype=torch.float64)
    got = structure_factor_torch(frac, shape, dtype=torch.complex128, atom_chunk=atom_chunk).numpy()
    expected = structure_factor(pos, SKEWED, shape)
    assert got.shape == expected.shape == (shape[0], shape[1], shape[2] // 2 + 1)
    np.testing.assert_allclose(got, expected, rtol=0, atol=1e-10)


def test_channels_match_brute_force_periodic_sum():
    pos = atoms_in(SKEWED)
    shape = (20, 18, 24)
    chans = density_channels(pos, SKEWED, shape, SPEC, dtype=torch.float64).numpy()
    pts = grid_points_cartesian(SKEWED, shape).reshape(-1, 3)
    pick = np.random.default_rng(1).choice(len(pts), 150, replace=False)
    expected = brute_force_channels(pts[pick], pos, SKEWED, SPEC)
    got = chans.reshape(chans.shape[0], chans.shape[1], -1)[:, :, pick]
    scale = np.abs(expected).max()
    assert np.max(np.abs(got - expected)) < 1e-6 * scale


def test_coarse_grid_is_refined_internally():
    pos = atoms_in(SKEWED, seed=2)
    coarse = density_channels(pos, SKEWED, (8, 8, 8), SPEC, dtype=torch.float64).numpy()
    fine = density_channels(pos, SKEWED, (24, 24, 24), SPEC, dtype=torch.float64).numpy()
    np.testing.assert_allclose(coarse, fine[:, :, ::3, ::3, ::3], atol=1e-6 * np.abs(fine).max())


def test_float32_close_to_float64():
    pos = atoms_in(SKEWED, seed=3)
    d64 = compute_descriptors(pos, SKEWED, (16, 16, 16), SPEC, dtype=torch.float64).numpy()
    d32 = compute_descriptors(pos, SKEWED, (16, 16, 16), SPEC).numpy()
    np.testing.assert_allclose(d32, d64, atol=2e-5 * np.abs(d64).max())


def test_invariants_under_rotation_of_the_whole_cell():
    pos = atoms_in(SKEWED, seed=4)
    shape = (12, 14, 16)
    ref = compute_descriptors(pos, SKEWED, shape, SPEC, dtype=torch.float64).numpy()
    rot = Rotation.from_euler("zyx", [37, -21, 64], degrees=True).as_matrix()
    out = compute_descriptors(pos @ rot.T, SKEWED @ rot.T, shape, SPEC, dtype=torch.float64).numpy()
    np.testing.assert_allclose(out, ref, atol=1e-8 * np.abs(ref).max())


def test_translation_permutation_and_supercell():
    pos = atoms_in(SKEWED, seed=5)
    shape = (12, 12, 12)
    ref = compute_descriptors(pos, SKEWED, shape, SPEC, dtype=torch.float64).numpy()
    shift = np.array([2, 7, 5]) / 12 @ SKEWED
    moved = compute_descriptors(pos + shift, SKEWED, shape, SPEC, dtype=torch.float64).numpy()
    np.testing.assert_allclose(moved, np.roll(ref, (2, 7, 5), axis=(1, 2, 3)), atol=1e-9)
    perm = compute_descriptors(pos[::-1], SKEWED, shape, SPEC, dtype=torch.float64).numpy()
    np.testing.assert_allclose(perm, ref, atol=1e-9)
    sc = SKEWED * np.array([[1], [2], [1]])
    both = np.vstack([pos, pos + SKEWED[1]])
    big = compute_descriptors(both, sc, (12, 24, 12), SPEC, dtype=torch.float64).numpy()
    np.testing.assert_allclose(big, np.concatenate([ref, ref], axis=2), atol=1e-9)


def test_equivalent_cell_choice_gives_the_same_field():
    # a = a + b describes the same lattice; grids coincide when the grid is chosen accordingly (na = nb)
    pos = atoms_in(SKEWED, seed=6)
    shape = (12, 12, 12)
    ref = compute_descriptors(pos, SKEWED, shape, SPEC, dtype=torch.float64).numpy()
    other = SKEWED.copy()
    other[1] = SKEWED[1] + SKEWED[0]
    out = compute_descriptors(pos, other, shape, SPEC, dtype=torch.float64).numpy()
    # point (i, j, k) of the new cell is at i a + j (a + b) = (i + j) a + j b of the old one
    i, j, k = np.meshgrid(*[np.arange(12)] * 3, indexing="ij")
    np.testing.assert_allclose(
        out, ref[:, (i + j) % 12, j, k], atol=1e-6 * np.abs(ref).max()
    )  # aliasing tolerance


def test_feature_names_match_count():
    assert (
        len(feature_names((1.0, 2.0), 2)) == DescriptorSpec(widths=(1.0, 2.0), lmax=2).n_features == 2 + 2 * 3
    )
    with pytest.raises(ValueError):
        DescriptorSpec(lmax=4)


TRIPLE = DescriptorSpec(widths=(0.3, 0.7, 1.4), lmax=2, triple=True)


def test_triple_invariant_names_count_and_settings():
    spec = DescriptorSpec(widths=(1.0, 2.0), lmax=2, triple=True)
    # q: 2, p: 2 l x 3 width pairs, v.Q.v: 3 (s <= u) x 2 (t), tr QQQ: 4 (s <= t <= u)
    assert spec.n_features == len(spec.names) == 2 + 6 + 6 + 4
    assert spec.names[8:10] == ("vQv_s1_s1_s1", "vQv_s1_s2_s1") and spec.names[-1] == "QQQ_s2_s2_s2"
    assert DescriptorSpec.from_dict(spec.to_dict()) == spec
    plain = DescriptorSpec(widths=(1.0, 2.0), lmax=2)
    assert "triple" not in plain.to_dict()  # weights written before the option read back unchanged
    assert DescriptorSpec.from_dict(plain.to_dict()) == plain
    with pytest.raises(ValueError, match="lmax >= 2"):
        DescriptorSpec(lmax=1, triple=True)


def test_triple_invariants_extend_the_power_spectrum_and_are_rotation_invariant():
    pos = atoms_in(SKEWED, seed=8)
    shape = (12, 14, 16)
    ref = compute_descriptors(pos, SKEWED, shape, TRIPLE, dtype=torch.float64).numpy()
    plain = DescriptorSpec(widths=TRIPLE.widths, lmax=2)
    np.testing.assert_array_equal(
        ref[: plain.n_features], compute_descriptors(pos, SKEWED, shape, plain, dtype=torch.float64).numpy()
    )
    triple = ref[plain.n_features :]
    assert np.all(np.abs(triple).max(axis=(1, 2, 3)) > 1e-3)  # none vanishes identically
    rot = Rotation.from_euler("zyx", [-52, 33, 118], degrees=True).as_matrix()
    out = compute_descriptors(pos @ rot.T, SKEWED @ rot.T, shape, TRIPLE, dtype=torch.float64).numpy()
    np.testing.assert_allclose(out, ref, atol=1e-8 * np.abs(ref).max())
    mirrored = compute_descriptors(pos * [1, 1, -1], SKEWED * [1, 1, -1], shape, TRIPLE, dtype=torch.float64)
    np.testing.assert_allclose(mirrored.numpy(), ref, atol=1e-8 * np.abs(ref).max())  # the ELF has no handedness


def _triple_at_origin(positions, width=0.8):
    """v.Q.v and tr QQQ of one width at the grid point at the origin of a 12 Å box (an isolated cluster)."""
    spec = DescriptorSpec(widths=(width,), lmax=2, triple=True)
    cell = np.eye(3) * 12.0
    channels = density_channels(np.asarray(positions, float) % 12.0, cell, (24, 24, 24), spec, dtype=torch.float64)
    return triple_invariants(channels)[:, 0, 0, 0].numpy()


def test_triple_invariants_tell_shapes_apart():
    # centre of a pair along z (prolate): no dipole, tr Q^3 > 0; centre of a square ring (oblate): tr Q^3 < 0
    vqv, qqq = _triple_at_origin([[0, 0, 0.6], [0, 0, -0.6]])
    assert vqv == pytest.approx(0, abs=1e-12) and qqq > 1e-3
    vqv, qqq = _triple_at_origin([[0.6, 0, 0], [-0.6, 0, 0], [0, 0.6, 0], [0, -0.6, 0]])
    assert vqv == pytest.approx(0, abs=1e-12) and qqq < -1e-3
    # centre of a regular tetrahedron: neither a dipole nor a quadrupole
    tetra = 0.7 * np.array([[1, 1, 1], [1, -1, -1], [-1, 1, -1], [-1, -1, 1]]) / np.sqrt(3)
    assert np.allclose(_triple_at_origin(tetra), 0, atol=1e-10)
    # a short pair (its quadrupole dominates) and a distant third atom on the pair's axis (a chain) or beside it:
    # the dipole lies along or across the quadrupole's long axis, and v.Q.v has the sign to say which
    chain, _ = _triple_at_origin([[0, 0, 0.4], [0, 0, -0.4], [0, 0, 2.4]])
    side, _ = _triple_at_origin([[0, 0, 0.4], [0, 0, -0.4], [2.4, 0, 0]])
    assert chain > 1e-4 and side < -1e-4


def test_triple_invariants_do_not_depend_on_the_chunk_size():
    channels = density_channels(atoms_in(SKEWED, seed=9), SKEWED, (8, 9, 10), TRIPLE, dtype=torch.float64)
    np.testing.assert_array_equal(triple_invariants(channels, chunk=37), triple_invariants(channels))
    with pytest.raises(ValueError, match="lmax >= 2"):
        triple_invariants(channels[:, :4])


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu():
    pos = atoms_in(SKEWED, seed=7)
    cpu = compute_descriptors(pos, SKEWED, (16, 16, 16), SPEC).numpy()
    gpu = compute_descriptors(pos, SKEWED, (16, 16, 16), SPEC, device="cuda").cpu().numpy()
    np.testing.assert_allclose(gpu, cpu, atol=1e-5 * np.abs(cpu).max())
