"""Helpers for the screening tests (importable by Dask worker processes; holds no tests itself).

Worker processes import these functions by name, so the tests put this folder on their PYTHONPATH.
"""

from __future__ import annotations

import os
import time

import ase.io
import numpy as np
from ase import Atoms

SPACING = 0.3
"""Coarse grid spacing (Å) that keeps every test item at ~10^3 grid points."""


def slow_promolecular(structure, *, shape=None, spacing=0.12, like=None):
    """Promolecular ELF after a pause (``ELFVIZ_TEST_DELAY`` s, default 0.4): a test can interrupt a batch."""
    from elfviz.reference.promolecular import promolecular_elf

    time.sleep(float(os.environ.get("ELFVIZ_TEST_DELAY", "0.4")))
    return promolecular_elf(structure, shape=shape, spacing=spacing, like=like)


def failing_model(structure, *, shape=None, spacing=0.12, like=None):
    """A model that fails on structures with more than 2 atoms (to test per-item errors from workers)."""
    from elfviz.reference.promolecular import promolecular_elf

    if structure.sizes["atom"] > 2:
        raise RuntimeError("synthetic model failure for a test")
    return promolecular_elf(structure, shape=shape, spacing=spacing, like=like)


def h2_frames(n: int, *, box: float = 2.4, seed: int = 0) -> list[Atoms]:
    """``n`` small periodic H2 cells with different bond lengths and orientations (Å)."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n):
        bond = 0.70 + 0.05 * i
        direction = rng.normal(size=3)
        direction /= np.linalg.norm(direction)
        centre = rng.uniform(0, box, size=3)
        positions = [centre - 0.5 * bond * direction, centre + 0.5 * bond * direction]
        atoms = Atoms("H2", positions=positions, cell=[box, box, box], pbc=True)
        atoms.info["pressure_gpa"] = 100.0 + 10 * i
        frames.append(atoms)
    return frames


def write_trajectory(path, n: int, **kwargs) -> str:
    """Write ``n`` H2 frames to an extxyz file and return its path as a string."""
    ase.io.write(str(path), h2_frames(n, **kwargs), format="extxyz")
    return str(path)


def tiny_weights(folder) -> str:
    """Save an untrained 8-unit network with the default descriptors as weights (for plumbing tests)."""
    import torch

    from elfviz.model.descriptors import DescriptorSpec
    from elfviz.model.network import ElfNet, save_model

    torch.manual_seed(0)
    spec = DescriptorSpec()
    net = ElfNet(spec.n_features, hidden=(8,))
    return str(
        save_model(
            os.path.join(str(folder), "tiny"),
            net,
            {"descriptors": spec.to_dict(), "version": "tiny-untrained@0"},
        )
    )
