"""A stretched-H2 trajectory whose molecular fraction and phi* are known, and a fast stand-in predictor.

The stand-in returns the promolecular ELF (elfviz.reference.promolecular, no training, milliseconds on a
small grid) with the Predictor's interface as the trajectory code uses it; ``fail_after`` interrupts a run.
"""

from __future__ import annotations

import numpy as np
from ase import Atoms

from elfviz.reference.promolecular import promolecular_elf

CELL = 4.0
BONDS = (0.74, 0.9, 1.2, 1.5, 1.8, 2.1)
"""Length of the stretched bond in each frame, Å; the other molecule stays at 0.74 Å."""

SHAPE = (20, 20, 20)


def stretched_frames(bonds=BONDS, *, times: bool = True) -> list[Atoms]:
    """Two H2 molecules in a 4 Å cubic cell; the first one is stretched frame by frame.

    At ELF >= 0.6 both are molecules while the bond is short (molecular fraction 1) and the stretched one
    falls apart into two atoms once it is long (0.5); phi* stays that of the intact molecule.
    """
    frames = []
    for k, d in enumerate(bonds):
        atoms = Atoms("H4", [[0.5, 1.0, 1.0], [0.5 + d, 1.0, 1.0], [1.0, 3.0, 3.0], [1.74, 3.0, 3.0]],
                      cell=[CELL] * 3, pbc=True)
        if times:
            atoms.info["time"] = 0.5 * k
        frames.append(atoms)
    return frames


class StandInPredictor:
    """Promolecular ELF with Predictor's interface: version, device, n_members, estimate_bytes, predict."""

    version = "promolecular-standin@0"
    device = "cpu"
    n_members = 4

    def __init__(self, fail_after: int | None = None):
        self.calls = 0
        self.fail_after = fail_after

    def estimate_bytes(self, cell, shape, *, member_spread=False):
        return int(np.prod(shape)) * 100

    def predict(self, structure, *, shape=None, spacing=0.12, member_spread=False, max_memory=None):
        if self.fail_after is not None and self.calls >= self.fail_after:
            raise KeyboardInterrupt  # stands for Ctrl-C or a killed job
        self.calls += 1
        ds = promolecular_elf(structure, shape=shape, spacing=spacing)
        ds.attrs.update(source=f"model:{self.version}", device=self.device, predict_seconds=0.001)
        if member_spread:
            ds.attrs["member_std_mean"] = 0.001 * self.calls
        return ds


def install(monkeypatch, predictor: StandInPredictor) -> StandInPredictor:
    """Make ``elfviz.model.Predictor(...)`` return ``predictor`` (the CLI imports it when it runs)."""
    import elfviz.model

    monkeypatch.setattr(elfviz.model, "Predictor", lambda *args, **kwargs: predictor)
    return predictor
