"""Dataset build config: per-trajectory temperature, and its checks (no QE: the MD and labels are faked)."""

from __future__ import annotations

import numpy as np
import pytest

from elfviz import grid
from elfviz.errors import ElfvizError
from elfviz.reference import dataset as dataset_module
from elfviz.reference.dataset import DatasetConfig, build, trajectory_temperature
from elfviz.reference.md import MDTrajectory
from elfviz.store import FrameCollection

CONFIG = """
[md]
n_atoms = 4
temperature_k = 1500.0
dt_fs = 0.5
equilibration_steps = 2
frame_interval_steps = 1

[labels]
ecutwfc_ry = 20.0

[[trajectory]]
name = "hot"
rs = 1.5
seed = 1
split = "train"
n_frames = 1

[[trajectory]]
name = "cold"
rs = 1.5
seed = 2
split = "train"
n_frames = 1
temperature_k = 800.0
"""


def _config(tmp_path, text=CONFIG) -> DatasetConfig:
    path = tmp_path / "config.toml"
    path.write_text(text)
    return DatasetConfig.from_toml(path)


def test_trajectory_temperature_overrides_the_md_section(tmp_path):
    config = _config(tmp_path)
    assert [trajectory_temperature(t, config.md) for t in config.trajectories] == [1500.0, 800.0]


@pytest.mark.parametrize("value", ["-5.0", "0", '"cold"', "true"])
def test_a_bad_trajectory_temperature_is_refused(tmp_path, value):
    with pytest.raises(ElfvizError, match="'cold' needs a positive temperature_k"):
        _config(tmp_path, CONFIG.replace("temperature_k = 800.0", f"temperature_k = {value}"))


def test_a_missing_temperature_is_refused(tmp_path):
    text = CONFIG.replace("temperature_k = 1500.0\n", "")
    with pytest.raises(ElfvizError, match="'hot' needs a positive temperature_k"):
        _config(tmp_path, text)


def test_build_runs_each_trajectory_at_its_temperature(tmp_path, monkeypatch):
    thermostats = {}

    def fake_md(cell, positions, *, temperature_k, n_steps, label, **kwargs):
        thermostats[label] = temperature_k
        steps = np.repeat(positions[None], n_steps, axis=0)
        return MDTrajectory(cell, steps, np.full(n_steps, temperature_k), np.zeros(n_steps), 0.5)

    def fake_label(structure, config, frame_id, work_dir, settings=None):
        return grid.make_dataset(structure["cell"].values, structure["positions"].values,
                                 structure["numbers"].values, np.full((6, 6, 6), 0.4, dtype=np.float32),
                                 source="test", attrs=dict(structure.attrs))

    monkeypatch.setattr(dataset_module, "run_md", fake_md)
    monkeypatch.setattr(dataset_module, "_label", fake_label)
    build(_config(tmp_path), tmp_path / "out", work_dir=tmp_path / "work")
    assert thermostats == {"hot": 1500.0, "cold": 800.0}
    collection = FrameCollection(tmp_path / "out")
    assert collection.read("cold-f000").attrs["target_temperature_k"] == 800.0
    assert collection.read("hot-f000").attrs["target_temperature_k"] == 1500.0
    assert MDTrajectory.load(tmp_path / "out" / "md" / "cold.npz").temperature_k[0] == 800.0
