"""Build the dense-hydrogen ELF dataset: BOMD trajectories of the fluid, then converged-k ELF labels.

A build is described by a TOML config (see ``elfviz/data/dataset.toml``)::

    [md]            n_atoms, temperature_k, dt_fs, equilibration_steps, frame_interval_steps,
                    thermostat_tau_fs, ecutwfc_ry
    [labels]        kmesh, kshift, ecutwfc_ry, kspacing (crystals)
    [[trajectory]]  name, rs, seed, split, n_frames
    [[crystal]]     phase, rs (list)

The build is resumable at every level: a finished trajectory is stored as ``md/<name>.npz`` and is not run
again; a labelled frame is in the FrameCollection's index and is skipped. Frames are labelled one at a time
and written atomically, so an interruption loses at most the frame in progress.
"""

from __future__ import annotations

import logging
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import grid
from ..errors import ElfvizError
from ..store import FrameCollection
from .md import MDTrajectory, decorrelation_steps, initial_configuration, run_md
from .settings import DFTSettings

log = logging.getLogger(__name__)


@dataclass
class DatasetConfig:
    """Parsed build configuration (see the module docstring)."""

    md: dict[str, Any]
    labels: dict[str, Any]
    trajectories: list[dict[str, Any]]
    crystals: list[dict[str, Any]] = field(default_factory=list)

    @classmethod
    def from_toml(cls, path: str | Path) -> DatasetConfig:
        if sys.version_info >= (3, 11):
            import tomllib
        else:  # pragma: no cover
            import tomli as tomllib
        try:
            data = tomllib.loads(Path(path).read_text())
        except FileNotFoundError:
            raise ElfvizError(f"dataset config {path} does not exist") from None
        except Exception as exc:
            raise ElfvizError(f"dataset config {path} is not valid TOML: {exc}") from None
        for key in ("md", "labels", "trajectory"):
            if key not in data:
                raise ElfvizError(f"dataset config {path} has no [{key}] section")
        names = [t["name"] for t in data["trajectory"]]
        if len(set(names)) != len(names):
            raise ElfvizError(f"dataset config {path}: trajectory names must be unique")
        return cls(md=data["md"], labels=data["labels"], trajectories=data["trajectory"],
                   crystals=data.get("crystal", []))


def label_settings(config: DatasetConfig, **overrides: Any) -> DFTSettings:
    labels = config.labels
    kmesh = labels.get("kmesh")
    values: dict[str, Any] = {"ecutwfc_ry": labels.get("ecutwfc_ry", 60.0), "kmesh": tuple(kmesh) if kmesh else None,
                              "kshift": labels.get("kshift", True), "kspacing": labels.get("kspacing", 0.8)}
    values.update(overrides)
    return DFTSettings(**values)


def md_settings(config: DatasetConfig) -> DFTSettings:
    return DFTSettings(ecutwfc_ry=config.md.get("ecutwfc_ry", 60.0))


def trajectory_frames(traj: MDTrajectory, spec: dict[str, Any], md: dict[str, Any]) -> list[tuple[int, np.ndarray]]:
    """(step, positions) of the frames kept from a trajectory: after equilibration, every interval steps."""
    first = int(md["equilibration_steps"]) + int(md["frame_interval_steps"]) - 1
    steps = range(first, traj.n_steps, int(md["frame_interval_steps"]))
    return [(s, traj.positions[s]) for s in list(steps)[: int(spec["n_frames"])]]


def build(config: DatasetConfig, out_dir: str | Path, *, work_dir: str | Path | None = None,
          only: list[str] | None = None, skip_crystals: bool = False,
          crystals_only: bool = False) -> FrameCollection:
    """Run (or resume) the whole build; returns the collection.

    Parameters
    ----------
    config : DatasetConfig
    out_dir : path-like
        The FrameCollection directory (frames/, index.csv, md/).
    work_dir : path-like, optional
        Scratch space for QE runs (default ``out_dir/../.dataset-work``).
    only : list of str, optional
        Build only these trajectory names (and no crystals).
    """
    out_dir = Path(out_dir)
    collection = FrameCollection(out_dir)
    work_dir = Path(work_dir) if work_dir else out_dir.parent / ".dataset-work"
    md = config.md
    for spec in config.trajectories:
        if crystals_only or (only and spec["name"] not in only):
            continue
        traj = _trajectory(spec, md, config, out_dir, work_dir)
        frames = trajectory_frames(traj, spec, md)
        for k, (step, positions) in enumerate(frames):
            frame_id = f"{spec['name']}-f{k:03d}"
            if frame_id in collection:
                continue
            structure = grid.make_dataset(traj.cell, positions, np.ones(len(positions), dtype=int),
                                          shape=(4, 4, 4), source="md")
            structure.attrs.update({"phase": "liquid", "trajectory": spec["name"], "frame_id": frame_id,
                                    "temperature_k": float(traj.temperature_k[step]), "md_step": int(step),
                                    "md_time_fs": float((step + 1) * traj.dt_fs)})
            ds = _label(structure, config, frame_id, work_dir)
            ds.attrs.update({"target_temperature_k": float(md["temperature_k"]), "split": spec["split"],
                             "rs_nominal": float(spec["rs"])})
            collection.add(ds, frame_id, phase="liquid", trajectory=spec["name"], split=spec["split"])
            log.info("frame %s labelled (%d in collection)", frame_id, len(collection))
    if not skip_crystals and not only:
        _crystals(config, collection, work_dir)
    return collection


def _trajectory(spec: dict[str, Any], md: dict[str, Any], config: DatasetConfig, out_dir: Path,
                work_dir: Path) -> MDTrajectory:
    path = out_dir / "md" / f"{spec['name']}.npz"
    if path.exists():
        return MDTrajectory.load(path)
    n_steps = int(md["equilibration_steps"]) + int(spec["n_frames"]) * int(md["frame_interval_steps"])
    cell, positions = initial_configuration(float(spec["rs"]), int(md["n_atoms"]), int(spec["seed"]))
    log.info("trajectory %s: rs = %.3f bohr, %d steps", spec["name"], spec["rs"], n_steps)
    traj = run_md(cell, positions, temperature_k=float(md["temperature_k"]), n_steps=n_steps,
                  dt_fs=float(md["dt_fs"]), thermostat_tau_fs=float(md.get("thermostat_tau_fs", 10.0)),
                  settings=md_settings(config), workdir=work_dir / f"md-{spec['name']}", label=spec["name"])
    traj.settings["decorrelation_steps"] = decorrelation_steps(
        MDTrajectory(traj.cell, traj.positions[int(md["equilibration_steps"]):], traj.temperature_k, traj.energy_ev,
                     traj.dt_fs))
    traj.settings.update({"rs": float(spec["rs"]), "seed": int(spec["seed"]), "split": spec["split"]})
    traj.positions = traj.positions.astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    traj.save(path)
    return traj


def _label(structure, config: DatasetConfig, frame_id: str, work_dir: Path, settings: DFTSettings | None = None):
    from .qe import qe_elf

    start = time.perf_counter()
    ds = qe_elf(structure, settings or label_settings(config), label=frame_id)
    ds.attrs["label_seconds"] = time.perf_counter() - start
    return ds


def _crystals(config: DatasetConfig, collection: FrameCollection, work_dir: Path) -> None:
    from ..structures import build_phase

    for spec in config.crystals:
        for rs in spec["rs"]:
            frame_id = f"{spec['phase']}-rs{rs:.2f}"
            if frame_id in collection:
                continue
            atoms = build_phase(spec["phase"], rs=rs)
            structure = grid.from_atoms(atoms, shape=(4, 4, 4), source="structure")
            structure.attrs.update({"phase": spec["phase"], "frame_id": frame_id})
            settings = label_settings(config, kspacing=float(config.labels.get("crystal_kspacing", 0.5)),
                                      kmesh=None)
            ds = _label(structure, config, frame_id, work_dir, settings)
            collection.add(ds, frame_id, phase=spec["phase"], trajectory="", split="test")
            log.info("crystal %s labelled", frame_id)
