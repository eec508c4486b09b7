"""Build the bundled example set from the full dataset (the rule lives here, the files in ``examples/``).

The examples are the held-out liquid frames spread evenly along each density's test trajectory
(:data:`FRAMES_PER_DENSITY` of them) and every crystal frame, copied byte for byte with their index rows, and
an MD trajectory of 24 frames (:data:`TRAJECTORY_FILE`) from the held-out run at rs 1.47 bohr::

    python -m elfviz.cli.programs.examples data/dataset elfviz/data/examples
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd

from ..grid import keys

FRAMES_PER_DENSITY = 4
"""Liquid test frames kept per density (evenly spread along the trajectory, first and last included)."""


def select_examples(index: pd.DataFrame, per_density: int = FRAMES_PER_DENSITY) -> pd.DataFrame:
    """The index rows of the example set: ``per_density`` liquid test frames per density, all crystals.

    Examples
    --------
    >>> index = pd.DataFrame({"frame_id": [f"rs1.20-test-f{k:03d}" for k in range(8)] + ["I41amd-rs1.30"],
    ...                       "phase": ["liquid"] * 8 + ["I41amd"], "split": ["test"] * 9, "rs_bohr": 1.2})
    >>> select_examples(index)["frame_id"].str[-4:].tolist()
    ['1.30', 'f000', 'f002', 'f005', 'f007']
    """
    test = index[index["split"] == "test"]
    liquid = test[test["phase"] == "liquid"].assign(_density=lambda t: t["rs_bohr"].astype(float).round(2))
    picked = []
    for _, trajectory in liquid.groupby("_density"):
        trajectory = trajectory.sort_values("frame_id")
        if len(trajectory) > per_density:
            trajectory = trajectory.iloc[np.linspace(0, len(trajectory) - 1, per_density).round().astype(int)]
        picked.append(trajectory.drop(columns="_density"))
    crystals = index[index["phase"] != "liquid"]
    return pd.concat([*picked, crystals]).sort_values(["phase", "frame_id"]).reset_index(drop=True)


def build_examples(dataset: str | Path, out: str | Path, per_density: int = FRAMES_PER_DENSITY) -> pd.DataFrame:
    """Copy the example frames of ``dataset`` (a FrameCollection folder) into ``out`` with their index."""
    dataset, out = Path(dataset), Path(out)
    index = pd.read_csv(dataset / "index.csv")
    chosen = select_examples(index, per_density)
    (out / "frames").mkdir(parents=True, exist_ok=True)
    for name in chosen["file"]:
        shutil.copyfile(dataset / name, out / name)
    chosen.to_csv(out / "index.csv", index=False)
    return chosen


TRAJECTORY = "rs1.47-test"
"""The held-out MD run the example trajectory comes from (1500 K, rs 1.47 bohr, about 128 GPa)."""

TRAJECTORY_FILE = "trajectory-rs1.47.xyz"


def build_example_trajectory(dataset: str | Path, out: str | Path, *, source: str = TRAJECTORY, every: int = 5,
                             n_frames: int = 24) -> Path:
    """Write ``n_frames`` frames, every ``every``-th MD step from the start, of a dataset MD run as extended XYZ.

    Each frame carries ``time_fs`` and ``md_step``; a held-out (test) run, so nothing the model was trained on.
    """
    import ase
    import ase.io

    record = np.load(Path(dataset) / "md" / f"{source}.npz", allow_pickle=False)
    dt = float(record["dt_fs"])
    frames = []
    for step in range(0, every * n_frames, every):
        atoms = ase.Atoms(f"H{record['positions'].shape[1]}", positions=record[keys.POSITIONS][step],
                          cell=record[keys.CELL], pbc=True)
        atoms.info.update(time_fs=step * dt, md_step=step, source=f"dataset md/{source}.npz")
        frames.append(atoms)
    path = Path(out) / TRAJECTORY_FILE
    ase.io.write(str(path), frames, format="extxyz")
    return path
