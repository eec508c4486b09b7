"""Small reference frames and a fast stand-in model for the dashboard and browser tests.

The stand-in predictor returns the promolecular ELF (elfviz.reference.promolecular), so the tests do not
depend on trained weights and run in seconds; the "reference" of each frame is that ELF plus a smooth
long-wavelength bump, so residuals, spectra and the Fourier correction have something to find.
"""

from __future__ import annotations

import numpy as np

from elfviz import grid
from elfviz.io.store import FrameCollection
from elfviz.reference.promolecular import promolecular_elf

XYZ = (b"2\nLattice=\"3 0 0 0 3 0 0 0 3\" pbc=\"T T T\" Properties=species:S:1:pos:R:3\n"
       b"H 0 0 0\nH 0.74 0 0\n")
"""A good upload: an H2 molecule in a 3 Å cubic cell (extended XYZ)."""

SHAPE = (20, 20, 20)


class PromolecularPredictor:
    """Predictor stand-in with the agreed interface (version, device, card, predict)."""

    version = "promolecular-standin@0"
    device = "cpu"
    card: dict = {}

    def __init__(self):
        self.calls = 0

    def predict(self, structure, *, shape=None, spacing=0.12, like=None):
        self.calls += 1
        ds = promolecular_elf(structure, shape=shape, spacing=spacing, like=like)
        ds.attrs.update(source=f"model:{self.version}", device=self.device)
        return ds


def liquid_like(cell_length: float, seed: int) -> np.ndarray:
    """8 atoms: a jittered 2x2x2 lattice (no overlaps), Å."""
    rng = np.random.default_rng(seed)
    base = np.array(list(np.ndindex(2, 2, 2)), dtype=float) * cell_length / 2
    return base + rng.normal(scale=0.12, size=base.shape)


def reference_frame(cell_length: float, seed: int, pressure: float) -> xr.Dataset:  # noqa: F821
    ds = grid.make_dataset(np.eye(3) * cell_length, liquid_like(cell_length, seed), [1] * 8, shape=SHAPE)
    elf = promolecular_elf(ds, shape=SHAPE)["elf"].values
    x = np.arange(SHAPE[0]) / SHAPE[0]
    bump = 0.05 * np.sin(2 * np.pi * x)[:, None, None]
    ds = grid.with_field(ds, "elf", np.clip(elf + bump, 0.0, 1.0))
    ds.attrs.update(pressure_gpa=pressure, temperature_k=1000.0, source="dft:test-reference")
    return ds


def build_collection(root) -> FrameCollection:
    """Two densities x (train, test) liquid-like frames with a reference ELF."""
    coll = FrameCollection(root)
    for i, (length, pressure) in enumerate(((3.2, 250.0), (3.6, 120.0))):
        for j, split in enumerate(("train", "test")):
            coll.add(reference_frame(length, 10 * i + j, pressure), frame_id=f"liq-{i}-{split}", phase="liquid",
                     split=split, trajectory=f"traj-{i}")
    return coll
