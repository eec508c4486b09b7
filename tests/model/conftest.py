"""Small synthetic FrameCollections for model tests (stand-in target: the promolecular ELF).

Never used to ship weights: the bundled model is trained on the QE dataset only.
"""

import numpy as np
import pytest
from ase import Atoms

from elfviz.grid import cell_for_rs
from elfviz.io.store import FrameCollection
from elfviz.reference.promolecular import promolecular_elf


def random_hydrogen(n_side=2, rs=1.5, seed=0, bond=0.74):
    """Randomly oriented H2 molecules on a jittered simple-cubic lattice at Wigner-Seitz radius rs (bohr)."""
    rng = np.random.default_rng(seed)
    n_atoms = 2 * n_side**3
    cell = cell_for_rs(rs, n_atoms)
    frac = np.stack(np.meshgrid(*[np.arange(n_side)] * 3, indexing="ij"), -1).reshape(-1, 3) / n_side
    centres = frac @ cell + rng.normal(0, 0.08, (len(frac), 3))
    axis = rng.normal(size=(len(frac), 3))
    axis *= (bond + rng.normal(0, 0.04, (len(frac), 1))) / 2 / np.linalg.norm(axis, axis=1, keepdims=True)
    pos = np.concatenate([centres + axis, centres - axis])
    return Atoms(f"H{len(pos)}", pos, cell=cell, pbc=True)


def small_train_args(epochs: int = 1) -> list[str]:
    """`elfviz train` options for a seconds-long CPU run on the synthetic collection (tiny net, 2 frames)."""
    return [
        "--epochs", str(epochs), "--device", "cpu", "--points-per-frame", "300", "--hidden", "8",
        "--lmax", "1", "--max-frames", "2", "--no-progress",
    ]


def make_collection(root, n_per_traj=2, rs_values=(1.35, 1.6), shape=(18, 18, 18)):
    coll = FrameCollection(root)
    seed = 0
    for rs in rs_values:
        for traj, split in (("t0", "train"), ("t1", "train"), ("t2", "validation"), ("t3", "test")):
            for k in range(n_per_traj):
                seed += 1
                atoms = random_hydrogen(rs=rs, seed=seed)
                ds = promolecular_elf(atoms, shape=shape)
                ds.attrs["source"] = "synthetic:promolecular"
                coll.add(
                    ds,
                    frame_id=f"rs{rs}-{traj}-{k}",
                    phase="liquid",
                    trajectory=f"rs{rs}-{traj}",
                    split=split,
                )
    return coll


@pytest.fixture(scope="session")
def synthetic_collection(tmp_path_factory):
    return make_collection(tmp_path_factory.mktemp("synthetic-collection"))


@pytest.fixture(scope="session")
def synthetic_weights(synthetic_collection, tmp_path_factory):
    """A small network trained for a few epochs on the synthetic collection (for invariance tests)."""
    from elfviz.model.training import train

    out = tmp_path_factory.mktemp("synthetic-weights") / "net"
    meta = train(
        synthetic_collection.root,
        out,
        seed=0,
        epochs=10,
        members=1,
        device="cpu",
        points_per_frame=2500,
        val_points_per_frame=2000,
        hidden=(48, 48),
        widths=(0.3, 0.6, 1.2, 2.0),
        lmax=2,
        learning_rate=4e-3,
    )
    return out, meta
