"""Build the dense-hydrogen ELF dataset: BOMD trajectories of the fluid, then converged-k ELF labels.

A build is described by a TOML config (see ``data/dataset.toml``)::

    [md]            n_atoms, temperature_k, dt_fs, equilibration_steps, frame_interval_steps,
                    thermostat_tau_fs, ecutwfc_ry
    [labels]        kmesh, kshift, ecutwfc_ry, kspacing (crystals)
    [[trajectory]]  name, rs, seed, split, n_frames; optional temperature_k (overrides [md]) and
                    start ("molecular" or "atomic"; default molecular for rs >= 1.45 bohr, else atomic)
    [[crystal]]     phase, rs (list)

The build is resumable at every level: a finished trajectory is stored as ``md/<name>.npz`` and is not run
again; a labelled frame is in the FrameCollection's index and is skipped. Frames are labelled one at a time
and written atomically, so an interruption loses at most the frame in progress.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np

from .. import grid
from ..errors import ElfvizError
from ..io.store import FrameCollection
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
        for spec in data["trajectory"]:
            temperature = spec.get("temperature_k", data["md"].get("temperature_k"))
            if not isinstance(temperature, (int, float)) or isinstance(temperature, bool) or temperature <= 0:
                raise ElfvizError(f"dataset config {path}: trajectory {spec['name']!r} needs a positive temperature_k "
                                  f"(in kelvin, in [md] or in the trajectory), got {temperature!r}")
            if spec.get("start", "molecular") not in TRAJECTORY_STARTS:
                raise ElfvizError(f"dataset config {path}: trajectory {spec['name']!r} has start = "
                                  f"{spec['start']!r}; use one of {', '.join(map(repr, TRAJECTORY_STARTS))} "
                                  "(or leave it out for the density's default)")
        return cls(md=data["md"], labels=data["labels"], trajectories=data["trajectory"],
                   crystals=data.get("crystal", []))


def label_settings(config: DatasetConfig, **overrides: Any) -> DFTSettings:
    labels = config.labels
    kmesh = labels.get("kmesh")
    values: dict[str, Any] = {"ecutwfc_ry": labels.get("ecutwfc_ry", 60.0), "kmesh": tuple(kmesh) if kmesh else None,
                              "kshift": labels.get("kshift", True), "kspacing": labels.get("kspacing", 0.8)}
    for key in ("degauss_ry", "mixing_beta"):  # optional SCF knobs (the reference defaults otherwise)
        if key in labels:
            values[key] = float(labels[key])
    values.update(overrides)
    return DFTSettings(**values)


def md_settings(config: DatasetConfig) -> DFTSettings:
    return DFTSettings(ecutwfc_ry=config.md.get("ecutwfc_ry", 60.0), mpi_processes=config.md.get("mpi_processes"))


def processes_per_run(workers: int = 1, cores: int | None = None) -> int:
    """MPI processes of each QE run when ``workers`` runs share ``cores`` (default: all cores), at least 1.

    Examples
    --------
    >>> processes_per_run(2, cores=8), processes_per_run(1, cores=1), processes_per_run(4, cores=2)
    (4, 1, 1)
    """
    if cores is not None and int(cores) < 1:
        raise ElfvizError(f"cores must be at least 1, got {cores}")
    total = int(cores) if cores is not None else (os.cpu_count() or 1)
    return max(1, total // max(1, int(workers)))


TRAJECTORY_STARTS = ("molecular", "atomic")


def trajectory_start(spec: dict[str, Any]) -> bool | None:
    """Whether a trajectory starts from H2 molecules (True), random atoms (False) or the density's default (None)."""
    start = spec.get("start")
    return None if start is None else start == "molecular"


def trajectory_temperature(spec: dict[str, Any], md: dict[str, Any]) -> float:
    """Target temperature of a trajectory, K: its own ``temperature_k`` where given, else the [md] one."""
    return float(spec.get("temperature_k", md["temperature_k"]))


def trajectory_frames(traj: MDTrajectory, spec: dict[str, Any], md: dict[str, Any]) -> list[tuple[int, np.ndarray]]:
    """(step, positions) of the frames kept from a trajectory: after equilibration, every interval steps."""
    first = int(md["equilibration_steps"]) + int(md["frame_interval_steps"]) - 1
    steps = range(first, traj.n_steps, int(md["frame_interval_steps"]))
    return [(s, traj.positions[s]) for s in list(steps)[: int(spec["n_frames"])]]


def build(config: DatasetConfig, out_dir: str | Path, *, work_dir: str | Path | None = None,
          only: list[str] | None = None, skip_crystals: bool = False, crystals_only: bool = False,
          workers: int = 1, deadline_s: float | None = None, md_only: bool = False,
          on_frame: Callable[[str], None] | None = None, cores: int | None = None) -> FrameCollection:
    """Run (or resume) the build; returns the collection.

    Parameters
    ----------
    config : DatasetConfig
    out_dir : path-like
        The FrameCollection directory (frames/, index.csv, md/).
    work_dir : path-like, optional
        Scratch space for QE runs (default ``out_dir/../.dataset-work``).
    only : list of str, optional
        Build only these trajectory names (and no crystals).
    skip_crystals, crystals_only : bool
        Leave out the crystal phases, or build only them.
    workers : int
        Parallel QE runs. With more than one, the missing trajectories run side by side first, then all
        missing frames are labelled side by side; each run gets ``cores // workers`` MPI processes. Only the
        main process writes to the collection.
    cores : int, optional
        Cores the build may use in all (default: all of the machine's); a machine shared with other work
        can be given ``cores=1`` (one pw.x process, no ``mpirun``).
    deadline_s : float, optional
        Stop starting new QE runs after this many seconds (finished work is kept; rerun to resume).
    md_only : bool
        Run the missing trajectories and stop (no labels): lets the dynamics run on one machine and the
        labelling on another.
    on_frame : callable, optional
        Called with each frame id once it is written (progress bars).
    """
    out_dir = Path(out_dir)
    collection = FrameCollection(out_dir)
    work_dir = Path(work_dir) if work_dir else out_dir.parent / ".dataset-work"
    start = time.perf_counter()
    specs = [] if crystals_only else [s for s in config.trajectories if not only or s["name"] in only]
    mpi = processes_per_run(workers, cores)
    md_cfg = replace(config, md={**config.md, "mpi_processes": mpi})
    label_cfg = replace(config, labels={**config.labels, "mpi_processes": mpi})

    def expired() -> bool:
        return deadline_s is not None and time.perf_counter() - start > deadline_s

    # 1. trajectories
    missing = [s for s in specs if not (out_dir / "md" / f"{s['name']}.npz").exists()]
    if workers > 1 and len(missing) > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            futures = [pool.submit(_trajectory, s, md_cfg.md, md_cfg, out_dir, work_dir) for s in missing]
            for future in as_completed(futures):
                future.result()
    if md_only:
        for spec in specs:
            _trajectory(spec, md_cfg.md, md_cfg, out_dir, work_dir)
        return collection
    # 2. frames to label
    labelled = set(collection.frame_ids())
    jobs = []
    for spec in specs:
        if expired():
            break
        traj = _trajectory(spec, md_cfg.md, md_cfg, out_dir, work_dir)
        for k, (step, positions) in enumerate(trajectory_frames(traj, spec, config.md)):
            frame_id = f"{spec['name']}-f{k:03d}"
            if frame_id not in labelled:
                jobs.append((_liquid_structure(traj, spec, step, positions, frame_id), frame_id,
                             {"phase": "liquid", "trajectory": spec["name"], "split": spec["split"]},
                             {"target_temperature_k": trajectory_temperature(spec, config.md), "split": spec["split"],
                              "rs_nominal": float(spec["rs"])}, None))
    if not skip_crystals and not only:
        jobs += _crystal_jobs(config, labelled)
    _run_label_jobs(jobs, label_cfg, collection, work_dir, workers, expired, on_frame)
    return collection


def _liquid_structure(traj: MDTrajectory, spec: dict[str, Any], step: int, positions: np.ndarray, frame_id: str):
    structure = grid.make_structure(traj.cell, positions, np.ones(len(positions), dtype=int), source="md")
    structure.attrs.update({"phase": "liquid", "trajectory": spec["name"], "frame_id": frame_id,
                            "temperature_k": float(traj.temperature_k[step]), "md_step": int(step),
                            "md_time_fs": float((step + 1) * traj.dt_fs)})
    return structure


def _run_label_jobs(jobs, config: DatasetConfig, collection: FrameCollection, work_dir: Path, workers: int,
                    expired: Callable[[], bool], on_frame: Callable[[str], None] | None) -> None:
    def store(ds, frame_id, columns, attrs):
        ds.attrs.update(attrs)
        collection.add(ds, frame_id, **columns)
        log.info("frame %s labelled (%d in collection)", frame_id, len(collection))
        if on_frame is not None:
            on_frame(frame_id)

    if workers <= 1:
        for structure, frame_id, columns, attrs, settings in jobs:
            if expired():
                log.warning("deadline reached: %d frames left for the next run", len(jobs))
                return
            store(_label(structure, config, frame_id, work_dir, settings), frame_id, columns, attrs)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        pending = {}
        queue = list(jobs)
        while queue or pending:
            while queue and len(pending) < workers and not expired():
                structure, frame_id, columns, attrs, settings = queue.pop(0)
                future = pool.submit(_label, structure, config, frame_id, work_dir, settings)
                pending[future] = (frame_id, columns, attrs)
            if not pending:
                log.warning("deadline reached: %d frames left for the next run", len(queue))
                return
            done = next(as_completed(list(pending)))
            frame_id, columns, attrs = pending.pop(done)
            store(done.result(), frame_id, columns, attrs)


def _trajectory(spec: dict[str, Any], md: dict[str, Any], config: DatasetConfig, out_dir: Path,
                work_dir: Path) -> MDTrajectory:
    path = out_dir / "md" / f"{spec['name']}.npz"
    if path.exists():
        return MDTrajectory.load(path)
    n_steps = int(md["equilibration_steps"]) + int(spec["n_frames"]) * int(md["frame_interval_steps"])
    cell, positions = initial_configuration(float(spec["rs"]), int(md["n_atoms"]), int(spec["seed"]),
                                            molecular=trajectory_start(spec))
    temperature = trajectory_temperature(spec, md)
    log.info("trajectory %s: rs = %.3f bohr, %.0f K, %d steps, start %s", spec["name"], spec["rs"], temperature,
             n_steps, spec.get("start", "default"))
    traj = run_md(cell, positions, temperature_k=temperature, n_steps=n_steps,
                  dt_fs=float(md["dt_fs"]), thermostat_tau_fs=float(md.get("thermostat_tau_fs", 10.0)),
                  settings=md_settings(config), workdir=work_dir / f"md-{spec['name']}", label=spec["name"])
    traj.settings["decorrelation_steps"] = decorrelation_steps(
        MDTrajectory(traj.cell, traj.positions[int(md["equilibration_steps"]):], traj.temperature_k, traj.energy_ev,
                     traj.dt_fs))
    traj.settings.update({"rs": float(spec["rs"]), "seed": int(spec["seed"]), "split": spec["split"],
                          "start": spec.get("start", "default")})
    traj.positions = traj.positions.astype(np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    traj.save(path)
    return traj


def _label(structure, config: DatasetConfig, frame_id: str, work_dir: Path, settings: DFTSettings | None = None):
    from .qe import qe_elf

    start = time.perf_counter()
    settings = settings or label_settings(config)
    if config.labels.get("mpi_processes"):
        settings = settings.replace(mpi_processes=int(config.labels["mpi_processes"]))
    ds = qe_elf(structure, settings, label=frame_id)
    ds.attrs["label_seconds"] = time.perf_counter() - start
    return ds


def _crystal_jobs(config: DatasetConfig, labelled: set[str]) -> list:
    from ..structures import build_phase

    jobs = []
    for spec in config.crystals:
        for rs in spec["rs"]:
            frame_id = f"{spec['phase']}-rs{rs:.2f}"
            if frame_id in labelled:
                continue
            atoms = build_phase(spec["phase"], rs=rs)
            structure = grid.structure_from_atoms(atoms, source="structure")
            structure.attrs.update({"phase": spec["phase"], "frame_id": frame_id})
            settings = label_settings(config, kspacing=float(config.labels.get("crystal_kspacing", 0.5)),
                                      kmesh=None)
            jobs.append((structure, frame_id, {"phase": spec["phase"], "trajectory": "", "split": "test"},
                         {"split": "test", "rs_nominal": float(rs)}, settings))
    return jobs
