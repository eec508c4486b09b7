"""Message-passing atom channels (elfviz.model.atom_messages) and the network reading their densities."""

import numpy as np
import torch
from conftest import random_hydrogen

from elfviz.model.atom_channels import atom_basis
from elfviz.model.atom_messages import AtomMessages, MessageSpec, atom_graph, atom_terms, learned_densities
from elfviz.model.atom_network import MessageAtomNet, predict_grid_messages
from elfviz.model.descriptors import DescriptorSpec, compute_descriptors

SPEC = MessageSpec(widths=(0.36, 0.75), lmax=2)
FIXED = DescriptorSpec(widths=(0.52, 1.0), lmax=1)


def _skewed_structure(seed=3):
    atoms = random_hydrogen(n_side=2, rs=1.4, seed=seed)
    cell = np.array(atoms.cell) @ np.array([[1.0, 0.0, 0.0], [0.15, 1.0, 0.0], [0.1, -0.08, 1.05]])
    return atoms.get_scaled_positions() @ cell, cell


def _trained_looking(net_or_messages, seed=0):
    """Non-zero message-passing head (an untrained one starts at zero), so the messages matter."""
    torch.manual_seed(seed)
    messages = getattr(net_or_messages, "messages", net_or_messages)
    with torch.no_grad():
        messages.head.weight.normal_(0.0, 0.3)
        messages.head.bias.normal_(0.0, 0.1)
    return net_or_messages


def test_direct_sums_over_neighbours_and_the_fft_give_the_same_densities():
    positions, cell = _skewed_structure()
    unwrapped = positions + np.random.default_rng(5).integers(-2, 3, (len(positions), 3)) @ cell
    weights = torch.as_tensor(np.random.default_rng(1).normal(size=(len(positions), 3)))
    shape = (28, 30, 32)
    fft = learned_densities(weights, positions, cell, shape, SPEC, dtype=torch.float64).numpy()
    ijk = np.random.default_rng(2).integers(0, shape, (8, 3))
    points = (ijk / np.array(shape)) @ cell
    terms = atom_terms(points, unwrapped, cell, SPEC, dtype=torch.float64)
    assert tuple(terms.shape) == (8, len(positions), SPEC.n_terms)
    direct = torch.einsum("pnt,nc->pct", terms, weights).numpy()
    at_points = np.moveaxis(fft[:, :, ijk[:, 0], ijk[:, 1], ijk[:, 2]], -1, 0)
    assert np.abs(direct).max() > 0.5  # the check compares real values, not zeros
    assert np.abs(at_points - direct).max() <= 1e-5


def test_grid_prediction_by_fft_equals_the_training_path_by_direct_sums():
    positions, cell = _skewed_structure(seed=4)
    shape = (20, 22, 24)
    torch.manual_seed(0)
    net = _trained_looking(MessageAtomNet(FIXED.n_features, SPEC, channels=3, hidden=(16,)), seed=1)
    grid = predict_grid_messages(net, positions, cell, shape, FIXED).numpy()
    ijk = np.random.default_rng(3).integers(0, shape, (10, 3))
    points = (ijk / np.array(shape)) @ cell
    fixed = compute_descriptors(positions, cell, shape, FIXED).reshape(FIXED.n_features, -1).T
    flat = np.ravel_multi_index(ijk.T, shape)
    terms = atom_terms(points, positions, cell, SPEC)
    weights = net.messages(*atom_graph(positions, cell))
    with torch.no_grad():
        direct = net(fixed[flat], terms, weights.expand(len(points), -1, -1)).numpy()
    assert np.abs(grid[ijk[:, 0], ijk[:, 1], ijk[:, 2]] - direct).max() <= 1e-5
    assert direct.std() > 1e-3  # different points, different values


def test_an_untrained_message_part_leaves_the_linear_atom_channels():
    positions, cell = _skewed_structure()
    messages = AtomMessages(channels=4)
    f = messages(*atom_graph(positions, cell))
    h = torch.as_tensor(atom_basis(positions, cell), dtype=torch.float32)
    assert torch.allclose(f, h @ messages.mixing.T)


def test_atom_channels_are_invariant_to_rotation_translation_and_atom_order():
    positions, cell = _skewed_structure()
    messages = _trained_looking(AtomMessages(channels=3))
    f = messages(*atom_graph(positions, cell)).detach()
    angle = 0.7
    rotation = np.array([[np.cos(angle), -np.sin(angle), 0], [np.sin(angle), np.cos(angle), 0], [0, 0, 1]])
    moved = messages(*atom_graph(positions @ rotation.T + [0.3, -1.1, 2.0], cell @ rotation.T)).detach()
    assert torch.allclose(f, moved, atol=1e-5)
    order = np.random.default_rng(0).permutation(len(positions))
    permuted = messages(*atom_graph(positions[order], cell)).detach()
    assert torch.allclose(f[order], permuted, atol=1e-5)
    assert (f[:, 0] - f[:, 0].mean()).abs().max() > 1e-3  # the channels do depend on the environment


def test_the_loss_trains_the_message_passing_layers():
    positions, cell = _skewed_structure()
    net = _trained_looking(MessageAtomNet(FIXED.n_features, SPEC, channels=2, hidden=(8,)))
    points = np.random.default_rng(0).uniform(0, 1, (6, 3)) @ cell
    terms = atom_terms(points, positions, cell, SPEC)
    fixed = torch.rand(6, FIXED.n_features)
    weights = net.messages(*atom_graph(positions, cell))
    net(fixed, terms, weights.expand(6, -1, -1)).sum().backward()
    for name, parameter in net.messages.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name
