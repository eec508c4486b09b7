"""Training-point sampling: uniform points plus points drawn near atom-pair midpoints."""

import numpy as np
import pytest
import torch
from conftest import random_hydrogen

from elfviz.errors import ModelError
from elfviz.grid.pairs import pair_midpoints
from elfviz.model.descriptors import DescriptorSpec
from elfviz.model.training import BondSampling, TrainConfig, sample_frame, train
from elfviz.reference.promolecular import promolecular_elf

SPEC = DescriptorSpec(widths=(0.4, 0.9), lmax=1)


@pytest.fixture(scope="module")
def frame():
    return promolecular_elf(random_hydrogen(rs=1.45, seed=3), shape=(20, 20, 20))


def distance_to_nearest_midpoint(ds, flat_index, window):
    """Minimum-image distance (Å) from grid points to the nearest midpoint of pairs in ``window``."""
    shape = ds["elf"].shape
    cell = ds["cell"].values
    frac_points = np.stack(np.unravel_index(flat_index, shape), axis=1) / np.array(shape)
    _, mids = pair_midpoints(ds["positions"].values, cell, *window)
    delta = (frac_points[:, None, :] - mids[None, :, :] + 0.5) % 1.0 - 0.5
    return np.linalg.norm(delta @ cell, axis=2).min(axis=1)


def test_bond_points_lie_near_pair_midpoints(frame):
    sampling = BondSampling(fraction=1.0, window=(0.85, 1.8), sigma=0.1)
    index = sampling.bond_points(frame, 2000, np.random.default_rng(0))
    assert index.shape == (2000,) and index.dtype == np.int64
    assert 0 <= index.min() and index.max() < frame["elf"].size
    spacing = max(np.linalg.norm(frame["cell"].values, axis=1) / np.array(frame["elf"].shape))
    distance = distance_to_nearest_midpoint(frame, index, sampling.window)
    # a 3-D Gaussian offset of 0.1 Å exceeds 0.45 Å with probability ~1e-4; snapping adds half a diagonal
    assert np.quantile(distance, 0.999) < 0.45 + np.sqrt(3) / 2 * spacing
    uniform = np.random.default_rng(0).choice(frame["elf"].size, 2000, replace=False)
    near = np.mean(distance < 0.25)
    assert near > 3 * np.mean(distance_to_nearest_midpoint(frame, uniform, sampling.window) < 0.25)


def test_sample_frame_mixes_uniform_and_bond_points_and_returns_their_elf(frame):
    x, y = sample_frame(frame, SPEC, 1000, np.random.default_rng(1), torch.device("cpu"), BondSampling(0.4))
    assert x.shape == (1000, SPEC.n_features) and y.shape == (1000,)
    values = frame["elf"].values.reshape(-1)
    # every label is the reference ELF of some grid point, and the bond share repeats a few of them
    assert np.all(np.isin(y.numpy(), values.astype(np.float32)))
    x_uniform, y_uniform = sample_frame(frame, SPEC, 1000, np.random.default_rng(1), torch.device("cpu"))
    assert len(np.unique(x_uniform.numpy(), axis=0)) == 1000  # uniform: no grid point twice
    assert len(np.unique(x.numpy(), axis=0)) < 1000


def test_a_frame_without_pairs_in_the_window_gets_uniform_points(frame):
    far = BondSampling(fraction=0.5, window=(0.05, 0.3))  # no atoms that close
    assert len(far.bond_points(frame, 100, np.random.default_rng(0))) == 0
    x, y = sample_frame(frame, SPEC, 500, np.random.default_rng(2), torch.device("cpu"), far)
    assert len(y) == 500 and len(np.unique(x.numpy(), axis=0)) == 500


@pytest.mark.parametrize(
    "options, message",
    [
        ({"bond_fraction": 1.5}, "bond_fraction must lie in"),
        ({"bond_window": (1.8, 0.85)}, "bond_window must be"),
        ({"bond_sigma": 0.0}, "bond_sigma must be positive"),
        ({"lmax": 1, "triple": True}, "lmax >= 2"),
    ],
)
def test_bad_sampling_and_descriptor_options_are_refused(options, message, tmp_path):
    with pytest.raises(ValueError, match=message):
        TrainConfig(**options)
    with pytest.raises(ModelError, match=message):
        train(tmp_path, tmp_path / "w", **options)


def test_train_config_records_the_sampling():
    config = TrainConfig(bond_fraction=0.2, bond_window=(1, 2), bond_sigma=0.3)
    assert config.bond_sampling() == BondSampling(0.2, (1.0, 2.0), 0.3)


def test_pools_of_several_seeds_share_one_descriptor_pass(synthetic_collection, monkeypatch):
    from elfviz.model.training import pools as training

    ids = synthetic_collection.index["frame_id"].tolist()[:3]
    sampling = BondSampling(0.3)
    singles = [
        training.build_pool(synthetic_collection, ids, SPEC, 200, seed, torch.device("cpu"), sampling=sampling)
        for seed in (5, 6)
    ]
    calls = []
    original = training.frame_descriptors
    monkeypatch.setattr(training, "frame_descriptors", lambda *a, **k: calls.append(1) or original(*a, **k))
    shared = training.build_pools(synthetic_collection, ids, SPEC, 200, [5, 6], torch.device("cpu"), sampling=sampling)
    assert len(calls) == len(ids)  # once per frame, not once per frame and seed
    for one, pool in zip(singles, shared, strict=True):
        assert torch.equal(one["x"], pool["x"]) and torch.equal(one["y"], pool["y"])
        assert torch.equal(one["frame"], pool["frame"]) and one["info"] == pool["info"]
    assert not torch.equal(shared[0]["y"], shared[1]["y"])  # each seed draws its own points
    # and a pool is exactly the frames' samples one after the other, each drawn with the seed's generator
    rng = np.random.default_rng(6)
    pieces = [
        sample_frame(synthetic_collection.read(i), SPEC, 200, rng, torch.device("cpu"), sampling) for i in ids
    ]
    assert torch.equal(shared[1]["x"], torch.cat([x for x, _ in pieces]))
    assert torch.equal(shared[1]["y"], torch.cat([y for _, y in pieces]))
    assert shared[1]["frame"].tolist() == [k for k in range(len(ids)) for _ in range(200)]


def test_standardisation_is_exactly_that_of_the_transformed_features():
    from elfviz.model.network import ElfNet

    x = torch.randn(5000, 7) * torch.logspace(-3, 2, 7)
    x[::7] = 0.0
    net = ElfNet(7, hidden=(4,))
    net.fit_standardisation(x)
    z = net.transform_features(x)
    assert torch.equal(net.feature_mean, z.mean(0))
    assert torch.equal(net.feature_scale, 1.0 / z.std(0).clamp_min(1e-6))


def test_the_default_recipe_is_the_one_elfnet_fft_1_6_was_trained_with():
    """``elfviz train bundled`` with default settings retrains the shipped elfnet-fft@1.6 (same hyper-parameters;
    elfnet-msg@2.0 has its own recipe, tests/model/test_model_shipped_runs.py)."""
    import json

    from elfviz.model.bundled import resolve_weights
    from elfviz.model.network import weight_paths
    from elfviz.model.training.config import _config_record

    shipped = json.loads(weight_paths(resolve_weights("elfnet-fft@1.6"))[1].read_text())["card"]["hyperparameters"]
    assert json.loads(json.dumps(_config_record(TrainConfig()))) == shipped
