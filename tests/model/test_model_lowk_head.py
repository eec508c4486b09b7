"""The long-wavelength head trained with the network (elfviz.model.lowk_head, LowKNet)."""

import numpy as np
import pytest
import torch
from conftest import random_hydrogen

from elfviz.grid.schema import make_dataset
from elfviz.model.atom_channels import AtomChannelSpec
from elfviz.model.atom_network import AtomMixNet, LowKNet, predict_any
from elfviz.model.correction import FourierCorrection
from elfviz.model.descriptors import DescriptorSpec
from elfviz.model.lowk_head import LowKSpec, coarse_shape, feature_fields, features_at, head_field, mode_design

SPEC = LowKSpec(n_radial=4, rs_order=1)


def _structure(seed=3):
    atoms = random_hydrogen(n_side=2, rs=1.4, seed=seed)
    cell = np.array(atoms.cell) @ np.array([[1.0, 0.0, 0.0], [0.15, 1.0, 0.0], [0.1, -0.08, 1.05]])
    return atoms.get_scaled_positions() @ cell, np.ones(len(atoms), int), cell


def _smooth_field(shape, seed=0):
    rng = np.random.default_rng(seed)
    u = [np.arange(n) / n for n in shape]
    a, b, c = np.meshgrid(*u, indexing="ij")
    return 0.5 + 0.2 * np.cos(2 * np.pi * (a + 2 * b) + rng.uniform()) + 0.1 * np.sin(2 * np.pi * 3 * c)


def test_the_coarse_grid_holds_every_mode_of_the_head():
    positions, numbers, cell = _structure()
    shape = coarse_shape(cell, SPEC.spacing)
    assert all(n % 2 == 1 for n in shape)
    assert all(np.linalg.norm(cell, axis=1) / np.array(shape) <= SPEC.spacing)
    with pytest.raises(ValueError, match="cannot hold"):
        LowKSpec(spacing=0.5)  # its Nyquist wavevector (6.3 Å^-1) is below k_max (8.5 Å^-1)


def test_head_features_are_the_fourier_corrections_features_on_the_coarse_grid():
    positions, numbers, cell = _structure()
    shape = coarse_shape(cell, SPEC.spacing)
    elf = _smooth_field(shape)
    modes, hkl = mode_design(elf, positions, numbers, cell, SPEC)
    weights = np.random.default_rng(1).normal(size=SPEC.n_features)
    correction = FourierCorrection(weights, k_max=SPEC.k_max, n_radial=SPEC.n_radial, channels=SPEC.channels,
                                   rs_ref=SPEC.rs_ref, rs_order=SPEC.rs_order)
    ds = make_dataset(cell, positions, numbers, elf=elf)
    expected = correction.predicted_residual(ds)
    assert np.abs(expected).max() > 1e-3
    assert np.abs(head_field(weights, modes, hkl, shape) - expected).max() < 1e-10


def test_features_on_any_grid_and_at_points_are_one_fourier_series():
    positions, numbers, cell = _structure()
    shape = coarse_shape(cell, SPEC.spacing)
    modes, hkl = mode_design(_smooth_field(shape), positions, numbers, cell, SPEC)
    coarse = feature_fields(modes, hkl, shape)
    fine_shape = tuple(2 * n for n in shape)
    fine = feature_fields(modes, hkl, fine_shape)
    assert np.abs(fine[:, ::2, ::2, ::2] - coarse).max() < 1e-10  # a band-limited series agrees on shared points
    ijk = np.random.default_rng(2).integers(0, fine_shape, (7, 3))
    direct = features_at(modes, hkl, ijk / np.array(fine_shape))
    assert np.abs(direct - fine[:, ijk[:, 0], ijk[:, 1], ijk[:, 2]].T).max() < 1e-10
    with pytest.raises(ValueError, match="too coarse"):
        feature_fields(modes, hkl, (5, 5, 5))


def test_a_lowk_network_predicts_whole_grids_as_its_training_path_does():
    from elfviz.model.training.atom_ablation import AblationBudget, _forward, refresh_lowk

    positions, numbers, cell = _structure(seed=5)
    fixed_spec = DescriptorSpec(widths=(0.52, 1.0), lmax=1)
    torch.manual_seed(0)
    base = AtomMixNet(fixed_spec.n_features, AtomChannelSpec(widths=(0.5,), lmax=1, wide=(2.0,)), channels=2,
                      hidden=(8,), atoms=True, wide=False)
    net = LowKNet(base, SPEC)
    with torch.no_grad():
        net.head.normal_(0.0, 0.02)
    shape = (24, 26, 28)
    grid = predict_any(net, positions, cell, numbers, shape, fixed_spec).numpy()
    from elfviz.model.atom_channels import basis_channels
    from elfviz.model.descriptors import compute_descriptors

    flat = np.random.default_rng(4).choice(np.prod(shape), 12, replace=False)
    fixed = compute_descriptors(positions, cell, shape, fixed_spec).reshape(fixed_spec.n_features, -1).T
    channels = basis_channels(positions, cell, shape, base.spec).reshape(base.spec.n_channels, -1).T
    pool = {"fixed": fixed[flat], "channels": channels[flat], "y": torch.zeros(len(flat)),
            "frame": torch.zeros(len(flat), dtype=torch.int64), "index": torch.as_tensor(flat),
            "structures": [(positions, cell, numbers, shape)]}
    budget = AblationBudget(fixed=fixed_spec.to_dict(), lowk=SPEC.to_dict())
    refresh_lowk(net, pool, budget)
    with torch.no_grad():
        direct = _forward(net, pool, torch.arange(len(flat))).numpy()
    assert ((direct > 0) & (direct < 1)).all()  # no clipping in play: the two must agree exactly
    assert np.abs(grid.reshape(-1)[flat] - direct).max() <= 1e-5
    base_only = predict_any(base, positions, cell, numbers, shape, fixed_spec).numpy().reshape(-1)[flat]
    assert np.abs(direct - base_only).max() > 1e-4  # the head does something
