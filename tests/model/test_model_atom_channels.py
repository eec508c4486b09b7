"""Atom-weighted neighbour densities (elfviz.model.atom_channels) and the network reading them."""

import numpy as np
import pytest
import torch
from conftest import random_hydrogen

from elfviz.model.atom_channels import (
    ATOM_BASIS_NAMES,
    AtomChannelSpec,
    atom_basis,
    basis_channels,
    direct_basis_channels,
)
from elfviz.model.atom_network import AtomMixNet, predict_grid
from elfviz.model.descriptors import DescriptorSpec, density_channels

SPEC = AtomChannelSpec(widths=(0.36, 0.75), lmax=2, wide=(1.5, 2.2))


def _skewed_structure():
    atoms = random_hydrogen(n_side=2, rs=1.4, seed=3)
    cell = np.array(atoms.cell) @ np.array([[1.0, 0.0, 0.0], [0.15, 1.0, 0.0], [0.1, -0.08, 1.05]])
    return atoms.get_scaled_positions() @ cell, cell


def test_the_fft_and_the_direct_sum_over_neighbours_give_the_same_values():
    positions, cell = _skewed_structure()
    shape = (28, 30, 32)
    grid = basis_channels(positions, cell, shape, SPEC, dtype=torch.float64).numpy()
    rng = np.random.default_rng(1)
    ijk = rng.integers(0, shape, (6, 3))
    points = (ijk / np.array(shape)) @ cell
    direct = direct_basis_channels(points, positions, cell, SPEC)
    fft = grid[:, ijk[:, 0], ijk[:, 1], ijk[:, 2]].T
    assert fft.shape == direct.shape == (6, SPEC.n_channels)
    assert np.abs(fft - direct).max() <= 1e-5 * max(1.0, np.abs(direct).max())
    assert np.abs(fft - direct).max() <= 1e-5  # absolute too: the values are O(1-100)
    # float32, as predictions run: the same to single-precision rounding
    single = basis_channels(positions, cell, shape, SPEC).numpy()[:, ijk[:, 0], ijk[:, 1], ijk[:, 2]].T
    assert np.abs(single - direct).max() <= 1e-4 * np.abs(direct).max()


def test_unwrapped_positions_give_the_same_features_and_densities():
    """MD frames keep atoms that left the cell where they went (fractional coordinates beyond [0, 1))."""
    positions, cell = _skewed_structure()
    shifts = np.random.default_rng(2).integers(-2, 3, (len(positions), 3))
    unwrapped = positions + shifts @ cell
    assert np.abs(atom_basis(unwrapped, cell) - atom_basis(positions, cell)).max() < 1e-12
    points = np.array([[0.3, 0.2, 0.1], [1.2, -0.5, 2.7]]) @ cell
    direct = direct_basis_channels(points, unwrapped, cell, SPEC)
    assert np.abs(direct - direct_basis_channels(points, positions, cell, SPEC)).max() < 1e-9 * np.abs(direct).max()


def test_unit_weights_are_the_plain_neighbour_density():
    positions, cell = _skewed_structure()
    spec = DescriptorSpec(widths=(0.52,), lmax=1)
    plain = density_channels(positions, cell, (20, 20, 20), spec, dtype=torch.float64)
    weighted = density_channels(positions, cell, (20, 20, 20), spec, dtype=torch.float64,
                                weights=np.ones(len(positions)))
    assert torch.allclose(plain, weighted, atol=1e-12)
    with pytest.raises(ValueError, match="3 atom weights for 16 atoms"):
        density_channels(positions, cell, (20, 20, 20), spec, weights=np.ones(3))


def test_atom_features_tell_a_molecule_from_an_atom_of_a_dense_fluid():
    box = np.eye(3) * 12.0
    molecule = np.array([[0.0, 0.0, 0.0], [0.74, 0.0, 0.0]])
    h = dict(zip(ATOM_BASIS_NAMES, atom_basis(molecule, box)[0], strict=True))
    assert h["one"] == 1.0
    assert h["nearest_0.72"] == pytest.approx(np.exp(-0.5 * (0.02 / 0.08) ** 2))
    assert h["nearest_1"] < 0.01 and h["molecular_gap"] > 0.99  # second neighbour: none within 3 Å
    assert h["coordination"] == pytest.approx(0.25, abs=1e-3)  # one neighbour, counted / 4
    # a simple-cubic lattice at 1.0 Å spacing: no partner, six neighbours, no gap
    lattice = np.stack(np.meshgrid(*[np.arange(4.0)] * 3, indexing="ij"), -1).reshape(-1, 3)
    h = dict(zip(ATOM_BASIS_NAMES, atom_basis(lattice, np.eye(3) * 4.0)[0], strict=True))
    assert h["nearest_1"] == pytest.approx(1.0) and h["nearest_0.72"] < 0.01
    assert h["molecular_gap"] == pytest.approx(0.0, abs=1e-12)
    count = lambda d: 0.5 * (1 - np.tanh((d - 1.3) / 0.1))  # noqa: E731 (the smooth count of one neighbour)
    # six neighbours at 1 Å, twelve at √2 Å (counted a little), none farther that counts
    assert h["coordination"] == pytest.approx((6 * count(1.0) + 12 * count(np.sqrt(2)) + 8 * count(np.sqrt(3))) / 4)


def test_the_learned_atom_invariants_do_not_change_when_the_structure_rotates():
    positions, cell = _skewed_structure()
    rotation = torch.linalg.qr(torch.randn(3, 3, generator=torch.Generator().manual_seed(0), dtype=torch.float64))[0]
    rotation = rotation.numpy()
    points = np.array([[0.3, 0.2, 0.1], [1.0, 1.5, 0.7]]) @ cell
    net = AtomMixNet(4, SPEC, channels=3, hidden=(8,)).double()
    before = net.atom_invariants(torch.as_tensor(direct_basis_channels(points, positions, cell, SPEC)))
    rotated = direct_basis_channels(points @ rotation.T, positions @ rotation.T, cell @ rotation.T, SPEC)
    after = net.atom_invariants(torch.as_tensor(rotated))
    assert torch.allclose(before, after, rtol=1e-9, atol=1e-9)
    channels = torch.as_tensor(rotated)  # the raw l >= 1 channels themselves do rotate
    assert not torch.allclose(channels, torch.as_tensor(direct_basis_channels(points, positions, cell, SPEC)))


def test_the_switches_decide_what_the_network_reads():
    spec = AtomChannelSpec(widths=(0.52,), lmax=1, wide=(2.2,))
    fixed, channels = torch.rand(16, 5), torch.rand(16, spec.n_channels)
    plain = AtomMixNet(5, spec, hidden=(8,), atoms=False, wide=False)
    assert plain.n_atom_features == 0
    assert plain.n_parameters() == sum(p.numel() for p in plain.mlp.parameters())  # no unused mixing or head
    other = channels + torch.rand_like(channels)
    assert torch.equal(plain(fixed, channels), plain(fixed, other))  # the 1.6 network ignores the atoms
    atoms = AtomMixNet(5, spec, channels=2, hidden=(8,), atoms=True, wide=False)
    assert atoms.n_atom_features == 2 + 1 * 3  # C*W l=0 values + the (C*W)(C*W+1)/2 l=1 pair products
    loss = atoms(fixed, channels).sum()
    loss.backward()
    assert atoms.mixing.grad is not None and atoms.mixing.grad.abs().sum() > 0  # trained end to end
    wide = AtomMixNet(5, spec, hidden=(8,), atoms=False, wide=True)
    wide.mlp.load_state_dict(plain.mlp.state_dict())
    assert torch.allclose(wide(fixed, channels), plain(fixed, channels))  # the wide head starts at zero
    wide.wide_head.bias.data.fill_(1.0)
    assert torch.all(wide(fixed, channels) > plain(fixed, channels))


def test_a_whole_grid_is_predicted_in_batches_as_at_points():
    positions, cell = _skewed_structure()
    fixed_spec = DescriptorSpec(widths=(0.52, 1.05), lmax=1)
    spec = AtomChannelSpec(widths=(0.52,), lmax=1, wide=(2.2,))
    net = AtomMixNet(fixed_spec.n_features, spec, channels=2, hidden=(8,))
    shape = (12, 12, 12)
    whole = predict_grid(net, positions, cell, shape, fixed_spec, batch=500)
    assert whole.shape == shape and float(whole.min()) >= 0 and float(whole.max()) <= 1
    from elfviz.model.descriptors import compute_descriptors

    fixed = compute_descriptors(positions, cell, shape, fixed_spec).reshape(fixed_spec.n_features, -1).T
    channels = basis_channels(positions, cell, shape, spec).reshape(spec.n_channels, -1).T
    assert torch.allclose(whole.reshape(-1), net(fixed, channels), atol=1e-6)
