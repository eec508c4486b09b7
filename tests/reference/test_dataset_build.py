"""A tiny dataset build (4 atoms, 4 MD steps, 20 Ry): MD, labels, resumability, interruption, the
``elfviz dataset`` CLI and the datasheet tables."""

from __future__ import annotations

import shutil

import numpy as np
import pytest
import xarray as xr

from elfviz import grid
from elfviz.io.store import FrameCollection
from elfviz.reference import dataset as dataset_module
from elfviz.reference import qe
from elfviz.reference.dataset import DatasetConfig, build
from elfviz.reference.datasheet import dataset_summary, summary_markdown
from elfviz.reference.md import MDTrajectory, parse_md_output

pytestmark = [
    pytest.mark.dft,
    pytest.mark.skipif(not qe.is_available(), reason="Quantum ESPRESSO is not installed"),
]

CONFIG = """
[md]
n_atoms = 4
temperature_k = 1500.0
dt_fs = 0.5
equilibration_steps = 2
frame_interval_steps = 1
thermostat_tau_fs = 5.0
ecutwfc_ry = 20.0

[labels]
ecutwfc_ry = 20.0
kmesh = [1, 1, 1]
kshift = false
# 4 atoms at Gamma can be metallic, and the thermostat's random kicks heat them to ~3500 K within 4 steps
# (QE's run differs from run to run): gentler mixing and wider smearing keep every such SCF converging
mixing_beta = 0.2
degauss_ry = 0.05

[[trajectory]]
name = "tiny"
rs = 1.5
seed = 1
split = "train"
n_frames = 2
"""


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    root = tmp_path_factory.mktemp("dataset")
    config_path = root / "tiny.toml"
    config_path.write_text(CONFIG)
    config = DatasetConfig.from_toml(config_path)
    out = root / "out"
    collection = build(config, out, work_dir=root / "work")
    return config_path, config, out, root / "work", collection


def test_label_settings_take_optional_scf_knobs(built):
    from elfviz.reference.dataset import label_settings

    _, config, _, _, _ = built
    assert label_settings(config).mixing_beta == 0.2 and label_settings(config).degauss_ry == 0.05
    silent = DatasetConfig(md=config.md, labels={"ecutwfc_ry": 20.0}, trajectories=config.trajectories)
    assert label_settings(silent).degauss_ry == 0.02 and label_settings(silent).mixing_beta == 0.5  # defaults


def test_tiny_build_frames_and_md(built):
    _, _, out, work, collection = built
    assert collection.frame_ids() == ["tiny-f000", "tiny-f001"]
    ds = collection.read("tiny-f001")
    assert ds.attrs["split"] == "train" and ds.attrs["phase"] == "liquid" and ds.attrs["trajectory"] == "tiny"
    assert ds.attrs["md_step"] == 3 and ds.attrs["kmesh"] == [1, 1, 1] and ds.attrs["scf_converged"] == 1
    assert ds.attrs["rs_bohr"] == pytest.approx(1.5) and np.isfinite(ds.attrs["pressure_gpa"])
    assert 0 <= float(ds["elf"].min()) and float(ds["elf"].max()) <= 1
    traj = MDTrajectory.load(out / "md" / "tiny.npz")
    assert traj.positions.shape == (4, 4, 3) and np.all(np.isfinite(traj.temperature_k))
    assert traj.settings["thermostat"] == "svr" and traj.settings["dft"]["ecutwfc_ry"] == 20.0
    assert isinstance(traj.settings["decorrelation_steps"], int)
    # the frame's structure is the trajectory's step
    np.testing.assert_allclose(ds["positions"].values, traj.positions[3], atol=1e-5)
    # the MD output parses to the same frames
    positions, temperatures, _ = parse_md_output((work / "md-tiny" / "md.out").read_text(), 4)
    np.testing.assert_allclose(positions, traj.positions, atol=1e-5)
    np.testing.assert_allclose(temperatures, traj.temperature_k)


def test_second_build_does_nothing(built, monkeypatch):
    _, config, out, work, _ = built

    def forbidden(*args, **kwargs):
        raise AssertionError("a finished build must not run QE again")

    monkeypatch.setattr(dataset_module, "run_md", forbidden)
    monkeypatch.setattr(dataset_module, "_label", forbidden)
    before = (out / "index.csv").read_text()
    assert build(config, out, work_dir=work).frame_ids() == ["tiny-f000", "tiny-f001"]
    assert (out / "index.csv").read_text() == before


def _fake_label(structure, config, frame_id, work_dir, settings=None):
    shape = (6, 6, 6)
    return grid.make_dataset(
        structure["cell"].values,
        structure["positions"].values,
        structure["numbers"].values,
        np.full(shape, 0.4, dtype=np.float32),
        source="test",
        attrs={k: v for k, v in structure.attrs.items() if k not in ("rs_bohr",)},
    )


def test_interrupted_write_leaves_no_half_frame(built, tmp_path, monkeypatch):
    _, config, out, work, _ = built
    fresh = tmp_path / "fresh"
    (fresh / "md").mkdir(parents=True)
    shutil.copy(out / "md" / "tiny.npz", fresh / "md" / "tiny.npz")  # reuse the trajectory
    monkeypatch.setattr(dataset_module, "_label", _fake_label)
    original = xr.Dataset.to_netcdf
    calls = {"n": 0}

    def interrupted(self, path, *args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 2:  # the second frame: write some bytes, then the user presses Ctrl-C
            with open(path, "wb") as handle:
                handle.write(b"\x89HDF partial")
            raise KeyboardInterrupt
        return original(self, path, *args, **kwargs)

    monkeypatch.setattr(xr.Dataset, "to_netcdf", interrupted)
    with pytest.raises(KeyboardInterrupt):
        build(config, fresh, work_dir=tmp_path / "work")
    collection = FrameCollection(fresh)
    assert collection.frame_ids() == ["tiny-f000"]
    assert sorted(p.name for p in (fresh / "frames").iterdir()) == ["tiny-f000.nc"]
    monkeypatch.setattr(xr.Dataset, "to_netcdf", original)
    assert build(config, fresh, work_dir=tmp_path / "work").frame_ids() == ["tiny-f000", "tiny-f001"]
    assert float(FrameCollection(fresh).read("tiny-f001")["elf"].mean()) == pytest.approx(0.4, abs=1e-4)


def test_dataset_cli_build_resume_and_info(built, capsys):
    from elfviz.cli import main

    config_path, _, out, work, _ = built
    assert main(["dataset", "build", str(config_path), "-o", str(out), "--work-dir", str(work)]) == 0
    assert "2 of 2 frames built" in capsys.readouterr().out
    assert main(["dataset", "info", str(out), "--config", str(config_path)]) == 0
    text = capsys.readouterr().out
    assert "2 frames" in text and "train" in text and "tiny" in text
    assert main(["dataset", "build", str(config_path), "-o", str(out), "--only", "nope"]) == 2
    assert "unknown trajectories" in capsys.readouterr().err
    assert main(["dataset", "build", str(config_path), "-o", str(out), "--workers", "0"]) == 2
    assert main(["dataset", "info", str(out.parent / "missing")]) == 2


def test_datasheet_tables(built):
    config_path, _, out, _, _ = built
    summary = dataset_summary(out, config=config_path)
    assert summary.n_frames == 2 and summary.planned_frames == 2
    counts = summary.counts_by_split.set_index(["split", "phase"])["frames"]
    assert counts[("train", "liquid")] == 2
    row = summary.liquid_by_density.iloc[0]
    assert row["rs_nominal"] == pytest.approx(1.5) and row["train"] == 2 and row["test"] == 0
    traj = summary.trajectories.iloc[0]
    assert traj["trajectory"] == "tiny" and traj["steps"] == 4 and traj["frames_labelled"] == 2
    assert (
        summary.sizes["total"] == summary.sizes["frames"] + summary.sizes["md"] + summary.sizes["index"] > 0
    )
    assert summary.timings["pw_seconds_total"] > 0
    assert summary.label_settings["liquid_kmesh"] == ["1x1x1"]
    markdown = summary_markdown(summary)
    assert "| train | liquid | 2 |" in markdown and "tiny" in markdown and "2 of 2 planned" in markdown


def test_dataset_cli_parallel_workers(built, tmp_path, capsys):
    """--workers 2: the two frames are labelled side by side (one MPI process each), trajectory reused."""
    from elfviz.cli import main

    config_path, _, out, _, _ = built
    fresh = tmp_path / "parallel"
    (fresh / "md").mkdir(parents=True)
    shutil.copy(out / "md" / "tiny.npz", fresh / "md" / "tiny.npz")
    argv = [
        "dataset",
        "build",
        str(config_path),
        "-o",
        str(fresh),
        "--work-dir",
        str(tmp_path / "w"),
        "--workers",
        "2",
    ]
    assert main(argv) == 0
    assert "2 of 2 frames built" in capsys.readouterr().out
    collection = FrameCollection(fresh)
    assert sorted(collection.frame_ids()) == ["tiny-f000", "tiny-f001"]
    serial = FrameCollection(out).read("tiny-f001")["elf"].values
    np.testing.assert_allclose(collection.read("tiny-f001")["elf"].values, serial, atol=1e-3)


def test_dataset_cli_tells_frames_beyond_a_truncated_trajectory_apart(built, tmp_path, capsys):
    """A config asking for more frames than an existing (stopped) trajectory holds: the build says those
    frames cannot be made from it instead of promising them on the next run."""
    from elfviz.cli import main

    config_path, _, out, work, _ = built
    longer = tmp_path / "longer.toml"
    longer.write_text(config_path.read_text().replace("n_frames = 2", "n_frames = 5"))
    assert main(["dataset", "build", str(longer), "-o", str(out), "--work-dir", str(work)]) == 0
    printed = capsys.readouterr().out
    assert "2 of 2 frames built" in printed and "frames left" not in printed
    assert "3 planned frames lie beyond the end of trajectories that were stopped early" in printed
