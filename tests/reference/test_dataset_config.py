"""Dataset build config: per-trajectory temperature, and its checks (no QE: the MD and labels are faked)."""

from __future__ import annotations

import numpy as np
import pytest

from elfviz import grid
from elfviz.errors import ElfvizError
from elfviz.io.store import FrameCollection
from elfviz.reference import dataset as dataset_module
from elfviz.reference.dataset import DatasetConfig, build, trajectory_start, trajectory_temperature
from elfviz.reference.md import MDTrajectory

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


def test_trajectory_start_reads_molecular_atomic_or_default(tmp_path):
    text = CONFIG.replace('name = "hot"', 'name = "hot"\nstart = "molecular"').replace(
        'name = "cold"', 'name = "cold"\nstart = "atomic"')
    config = _config(tmp_path, text)
    assert [trajectory_start(t) for t in config.trajectories] == [True, False]
    assert trajectory_start({"name": "x"}) is None


def test_a_bad_trajectory_start_is_refused(tmp_path):
    with pytest.raises(ElfvizError, match="'cold' has start = 'crystal'; use one of 'molecular', 'atomic'"):
        _config(tmp_path, CONFIG.replace('name = "cold"', 'name = "cold"\nstart = "crystal"'))


def test_build_starts_a_molecular_trajectory_from_h2_pairs(tmp_path, monkeypatch):
    # rs 1.30 defaults to random atoms; start = "molecular" must give bonded pairs (atom i with atom i + n/2)
    text = CONFIG.replace("n_atoms = 4", "n_atoms = 16").replace("rs = 1.5", "rs = 1.3").replace(
        'name = "cold"', 'name = "cold"\nstart = "molecular"')
    starts = {}

    def fake_md(cell, positions, *, temperature_k, n_steps, label, **kwargs):
        starts[label] = (cell, positions)
        steps = np.repeat(positions[None], n_steps, axis=0)
        return MDTrajectory(cell, steps, np.full(n_steps, temperature_k), np.zeros(n_steps), 0.5)

    monkeypatch.setattr(dataset_module, "run_md", fake_md)
    monkeypatch.setattr(dataset_module, "_label", lambda structure, *args, **kwargs: grid.make_dataset(
        structure["cell"].values, structure["positions"].values, structure["numbers"].values,
        np.full((6, 6, 6), 0.4, dtype=np.float32), source="test", attrs=dict(structure.attrs)))
    build(_config(tmp_path, text), tmp_path / "out", work_dir=tmp_path / "work")

    def pair_distances(cell, positions):
        half = len(positions) // 2
        delta = positions[:half] - positions[half:]
        delta -= cell[0, 0] * np.round(delta / cell[0, 0])  # cubic cell: minimum image
        return np.linalg.norm(delta, axis=1)

    np.testing.assert_allclose(pair_distances(*starts["cold"]), 0.74, atol=1e-6)
    assert pair_distances(*starts["hot"]).min() > 0.8  # random atoms: no pair at the bond length
    assert MDTrajectory.load(tmp_path / "out" / "md" / "cold.npz").settings["start"] == "molecular"


def test_processes_per_run_share_the_given_cores(monkeypatch):
    from elfviz.reference.dataset import processes_per_run

    assert processes_per_run(1, cores=1) == 1 and processes_per_run(2, cores=8) == 4
    assert processes_per_run(3, cores=2) == 1  # never below one process
    monkeypatch.setattr(dataset_module.os, "cpu_count", lambda: 6)
    assert processes_per_run(2) == 3
    with pytest.raises(ElfvizError, match="at least 1"):
        processes_per_run(1, cores=0)


def test_build_gives_each_label_run_the_cores_asked_for(tmp_path, monkeypatch):
    seen = []

    def fake_md(cell, positions, *, temperature_k, n_steps, label, settings, **kwargs):
        seen.append(("md", settings.mpi_processes))
        steps = np.repeat(positions[None], n_steps, axis=0)
        return MDTrajectory(cell, steps, np.full(n_steps, temperature_k), np.zeros(n_steps), 0.5)

    def fake_label(structure, config, frame_id, work_dir, settings=None):
        seen.append(("label", config.labels["mpi_processes"]))
        return grid.make_dataset(structure["cell"].values, structure["positions"].values,
                                 structure["numbers"].values, np.full((6, 6, 6), 0.4, dtype=np.float32),
                                 source="test", attrs=dict(structure.attrs))

    monkeypatch.setattr(dataset_module.os, "cpu_count", lambda: 8)
    monkeypatch.setattr(dataset_module, "run_md", fake_md)
    monkeypatch.setattr(dataset_module, "_label", fake_label)
    build(_config(tmp_path), tmp_path / "out", work_dir=tmp_path / "work", cores=1)
    assert seen and set(seen) == {("md", 1), ("label", 1)}


def test_dataset_cli_refuses_zero_cores(tmp_path, capsys):
    from elfviz.cli import main

    path = tmp_path / "config.toml"
    path.write_text(CONFIG)
    assert main(["dataset", "build", str(path), "-o", str(tmp_path / "out"), "--cores", "0"]) == 2
    assert "--cores must be at least 1" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
