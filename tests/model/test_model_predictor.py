"""Predictor: invariances, batching, devices, errors, density-range warning."""

import warnings

import numpy as np
import pytest
import torch
from ase import Atoms
from conftest import random_hydrogen
from scipy.spatial.transform import Rotation

from elfviz.errors import ModelError, SpeciesError
from elfviz.grid import make_dataset
from elfviz.model.predictor import DensityRangeWarning, Predictor


@pytest.fixture(scope="module")
def predictor(synthetic_weights):
    return Predictor(synthetic_weights[0], device="cpu")


@pytest.fixture(scope="module")
def atoms():
    return random_hydrogen(rs=1.5, seed=123)


def test_metadata_and_output_schema(predictor, atoms):
    ds = predictor.predict(atoms, shape=(12, 12, 14))
    assert ds["elf"].shape == (12, 12, 14) and ds["elf"].dtype == np.float32
    assert ds.attrs["source"] == f"model:{predictor.version}" and predictor.version.startswith("elfnet-fft@")
    assert ds.attrs["device"] == predictor.device == "cpu"
    values = ds["elf"].values
    assert 0.0 <= values.min() and values.max() <= 1.0 and values.std() > 1e-3
    lo, hi = predictor.training_rs_range
    assert lo == pytest.approx(1.35, abs=0.01) and hi == pytest.approx(1.6, abs=0.01)


def test_translation_shifts_the_field(predictor, atoms):
    shape = (12, 12, 12)
    ref = predictor.predict(atoms, shape=shape)["elf"].values
    moved = atoms.copy()
    moved.translate(np.array([5, 2, 9]) / 12 @ atoms.cell.array)
    out = predictor.predict(moved, shape=shape)["elf"].values
    np.testing.assert_allclose(out, np.roll(ref, (5, 2, 9), axis=(0, 1, 2)), atol=2e-5)


def test_permutation_changes_nothing(predictor, atoms):
    shape = (10, 10, 10)
    ref = predictor.predict(atoms, shape=shape)["elf"].values
    perm = atoms[np.random.default_rng(1).permutation(len(atoms))]
    np.testing.assert_allclose(predictor.predict(perm, shape=shape)["elf"].values, ref, atol=2e-5)


def test_rotating_the_whole_cell_gives_the_same_values(predictor, atoms):
    shape = (10, 12, 10)
    ref = predictor.predict(atoms, shape=shape)["elf"].values
    rot = Rotation.from_euler("xyz", [33, 71, -12], degrees=True).as_matrix()
    turned = Atoms(atoms.numbers, atoms.positions @ rot.T, cell=atoms.cell.array @ rot.T, pbc=True)
    np.testing.assert_allclose(predictor.predict(turned, shape=shape)["elf"].values, ref, atol=2e-5)


def test_supercell_gives_the_tiled_field(predictor, atoms):
    ref = predictor.predict(atoms, shape=(10, 10, 10))["elf"].values
    big = predictor.predict(atoms.repeat((2, 2, 2)), shape=(20, 20, 20))["elf"].values
    np.testing.assert_allclose(big, np.tile(ref, (2, 2, 2)), atol=2e-5)


def test_batched_equals_unbatched(synthetic_weights, atoms):
    whole = Predictor(synthetic_weights[0], device="cpu", batch_points=10**7).predict(
        atoms, shape=(12, 12, 12)
    )
    small = Predictor(synthetic_weights[0], device="cpu", batch_points=97).predict(atoms, shape=(12, 12, 12))
    np.testing.assert_allclose(small["elf"].values, whole["elf"].values, atol=1e-6)


def test_like_and_dataset_input(predictor, atoms):
    field = make_dataset(atoms.cell.array, atoms.positions, atoms.numbers, shape=(9, 10, 11))
    out = predictor.predict(field, like=field)
    assert out["elf"].shape == (9, 10, 11)


def test_correction_hook_is_applied(synthetic_weights, atoms):
    def halve(ds):
        return ds.assign(elf=ds["elf"] * 0.5)

    plain = Predictor(synthetic_weights[0], device="cpu").predict(atoms, shape=(8, 8, 8))
    corrected = Predictor(synthetic_weights[0], device="cpu", correction=halve).predict(
        atoms, shape=(8, 8, 8)
    )
    np.testing.assert_allclose(corrected["elf"].values, 0.5 * plain["elf"].values, atol=1e-7)


def test_non_hydrogen_is_refused(predictor):
    lih = Atoms("LiH", [[0, 0, 0], [2, 2, 2]], cell=[4, 4, 4], pbc=True)
    with pytest.raises(SpeciesError, match="Li"):
        predictor.predict(lih, spacing=0.3)


def test_density_outside_training_range_warns(predictor):
    dilute = random_hydrogen(rs=2.4, seed=5)
    with pytest.warns(DensityRangeWarning, match="outside the model's training range"):
        flagged = predictor.predict(dilute, shape=(8, 8, 8))
    assert "rs = 2.400 bohr is outside the model's training range" in flagged.attrs["cautions"]  # kept for later
    with warnings.catch_warnings():
        warnings.simplefilter("error", DensityRangeWarning)
        inside = predictor.predict(random_hydrogen(rs=1.5, seed=6), shape=(8, 8, 8))
    assert "cautions" not in inside.attrs


def test_bad_weights_and_devices(tmp_path, synthetic_weights):
    with pytest.raises(ModelError, match="elfviz train"):
        Predictor(tmp_path / "missing")
    bad = tmp_path / "bad"
    bad.with_suffix(".json").write_text(synthetic_weights[0].with_suffix(".json").read_text())
    bad.with_suffix(".pt").write_bytes(b"not a torch file")
    with pytest.raises(ModelError, match="cannot read"):
        Predictor(bad)
    if not torch.cuda.is_available():
        with pytest.raises(ModelError, match="CUDA"):
            Predictor(synthetic_weights[0], device="cuda")
    with pytest.raises(ModelError, match="unknown device"):
        Predictor(synthetic_weights[0], device="tpu")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_matches_cpu(synthetic_weights, atoms):
    cpu = Predictor(synthetic_weights[0], device="cpu").predict(atoms, shape=(16, 16, 16))["elf"].values
    gpu = Predictor(synthetic_weights[0], device="cuda").predict(atoms, shape=(16, 16, 16))
    assert gpu.attrs["device"] == "cuda"
    np.testing.assert_allclose(gpu["elf"].values, cpu, atol=1e-4)
