"""Born-Oppenheimer molecular dynamics of fluid hydrogen with Quantum ESPRESSO (``calculation = 'md'``).

One call of :func:`run_md` runs one trajectory in a working directory and returns its frames (positions
after every step, instantaneous temperature, energies). Dynamics use the Gamma point (acceptable for the
trajectory; the ELF labels are computed afterwards with a converged k-mesh), velocity Verlet with
second-order wave-function and charge extrapolation, and the stochastic velocity-rescaling thermostat
(Bussi, Donadio & Parrinello, J. Chem. Phys. 126, 014101 (2007)), which samples the canonical ensemble.

:func:`initial_configuration` builds starting points: randomly oriented H2 molecules on a jittered lattice
(rs >= 1.45 bohr, where the fluid is molecular) or random atoms with a minimum separation (denser fluids);
the equilibration part of every trajectory is discarded by the dataset builder.
"""

from __future__ import annotations

import logging
import math
import re
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from .. import grid
from ..errors import EngineError
from ..grid import keys
from .pseudo import find_pseudopotential
from .qe import find_executable, minimum_fft_shape, mpi_prefix, pw_input, run_program
from .settings import DFTSettings

log = logging.getLogger(__name__)

FS_PER_RY_TIME = 4.8378e-2
"""One Rydberg atomic unit of time (pw.x's ``dt`` unit) in fs."""


@dataclass
class MDTrajectory:
    """Frames of one MD run.

    Attributes
    ----------
    cell : ndarray (3, 3)
        Lattice vectors, Å.
    positions : ndarray (n_steps, n_atoms, 3)
        Positions after each step, Å.
    temperature_k : ndarray (n_steps,)
        Instantaneous ionic temperature, K.
    energy_ev : ndarray (n_steps,)
        Potential (DFT total) energy, eV.
    dt_fs : float
        Time step, fs.
    settings : dict
        MD and DFT settings used.
    """

    cell: np.ndarray
    positions: np.ndarray
    temperature_k: np.ndarray
    energy_ev: np.ndarray
    dt_fs: float
    settings: dict[str, Any] = field(default_factory=dict)

    @property
    def n_steps(self) -> int:
        return int(self.positions.shape[0])

    def save(self, path: str | Path) -> None:
        """Store as a compressed ``.npz`` (plain arrays and a JSON string, no pickle)."""
        import json
        import os

        path = Path(path)
        tmp = path.with_name(path.name + ".part")
        with open(tmp, "wb") as handle:  # written aside and renamed: an interrupted save leaves no bad file
            np.savez_compressed(handle, cell=self.cell, positions=self.positions, temperature_k=self.temperature_k,
                                energy_ev=self.energy_ev, dt_fs=self.dt_fs, settings=json.dumps(self.settings))
        os.replace(tmp, path)

    @classmethod
    def load(cls, path: str | Path) -> MDTrajectory:
        import json

        with np.load(path, allow_pickle=False) as data:
            return cls(cell=data[keys.CELL], positions=data[keys.POSITIONS], temperature_k=data["temperature_k"],
                       energy_ev=data["energy_ev"], dt_fs=float(data["dt_fs"]),
                       settings=json.loads(str(data["settings"])))


def initial_configuration(rs: float, n_atoms: int, seed: int, *, molecular: bool | None = None,
                          bond_length: float = 0.74, min_distance: float = 0.9) -> tuple[np.ndarray, np.ndarray]:
    """A starting configuration of ``n_atoms`` hydrogen atoms in a cubic cell of Wigner-Seitz radius ``rs``.

    Parameters
    ----------
    rs : float
        Wigner-Seitz radius, bohr.
    n_atoms : int
        Number of atoms (even for molecular starts).
    seed : int
        Random seed (different seeds give independent trajectories).
    molecular : bool, optional
        H2 molecules (default for rs >= 1.45) or random atoms.
    bond_length : float
        H-H distance of the starting molecules, Å.
    min_distance : float
        Smallest distance between molecule centres or atoms, Å (relaxed if the cell is too dense).

    Returns
    -------
    cell, positions : ndarray
        Cell (Å) and Cartesian positions (Å).
    """
    rng = np.random.default_rng(seed)
    cell = grid.cell_for_rs(rs, n_atoms)
    length = cell[0, 0]
    molecular = rs >= 1.45 if molecular is None else molecular
    n_sites = n_atoms // 2 if molecular else n_atoms
    sites = _random_sites(n_sites, length, rng, min_distance * (1.6 if molecular else 1.0))
    if not molecular:
        return cell, sites
    axes = rng.normal(size=(n_sites, 3))
    axes /= np.linalg.norm(axes, axis=1, keepdims=True)
    positions = np.concatenate([sites + 0.5 * bond_length * axes, sites - 0.5 * bond_length * axes])
    return cell, positions % length


def _random_sites(n: int, length: float, rng: np.random.Generator, min_distance: float) -> np.ndarray:
    """Random points in a periodic cube with a minimum separation (relaxed by 5 % after many failures)."""
    points: list[np.ndarray] = []
    tries = 0
    while len(points) < n:
        candidate = rng.uniform(0, length, 3)
        ok = True
        for p in points:
            d = candidate - p
            d -= length * np.round(d / length)
            if np.dot(d, d) < min_distance**2:
                ok = False
                break
        if ok:
            points.append(candidate)
            tries = 0
        else:
            tries += 1
            if tries > 2000:
                min_distance *= 0.95
                tries = 0
    return np.array(points)


def md_input(cell: np.ndarray, positions: np.ndarray, settings: DFTSettings, *, temperature_k: float,
             dt_fs: float, n_steps: int, thermostat_tau_fs: float, pseudo_file: str) -> str:
    """pw.x input for a Gamma-point BOMD run with the SVR thermostat."""
    dt_ry = dt_fs / FS_PER_RY_TIME
    nraise = max(1, int(round(thermostat_tau_fs / dt_fs)))
    fft = minimum_fft_shape(cell, settings.ecutrho)
    ions = (f"ion_dynamics = 'verlet', ion_temperature = 'svr', tempw = {temperature_k:.6g}, nraise = {nraise}, "
            "pot_extrapolation = 'second_order', wfc_extrapolation = 'second_order'")
    gamma_settings = settings.replace(kmesh=(1, 1, 1), kshift=False)
    return pw_input(cell, positions, gamma_settings, fft_shape=fft, kmesh=(1, 1, 1), pseudo_file=pseudo_file,
                    calculation="md", extra_control=f"nstep = {int(n_steps)}, dt = {dt_ry:.6f}",
                    extra_ions=ions).replace("tstress = .true., ", "tstress = .false., ")


def parse_md_output(text: str, n_atoms: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Positions (Å) after each step, temperatures (K) and DFT energies (eV) from a pw.x md output."""
    lines = text.splitlines()
    frames = []
    for i, line in enumerate(lines):
        if line.startswith("ATOMIC_POSITIONS (angstrom)"):
            block = lines[i + 1: i + 1 + n_atoms]
            try:
                frames.append([[float(x) for x in row.split()[1:4]] for row in block])
            except (ValueError, IndexError):
                break  # a block cut off by an interrupted run
            if len(frames[-1]) != n_atoms or any(len(row) != 3 for row in frames[-1]):
                frames.pop()
                break
    positions = np.array(frames, dtype=float).reshape(-1, n_atoms, 3)
    temperatures = np.array([float(x) for x in re.findall(r"temperature\s+=\s+([\d.]+)\s+K", text)])
    energies = np.array([float(x) * 13.605693122994 for x in
                         re.findall(r"^!\s+total energy\s+=\s+(-?[\d.]+)\s+Ry", text, re.M)])
    n = min(len(positions), len(temperatures))
    # The energy of step i is computed before the move that produces positions i; keep them aligned by count.
    return positions[:n], temperatures[:n], energies[:n]


def run_md(cell: np.ndarray, positions: np.ndarray, *, temperature_k: float, n_steps: int, dt_fs: float = 0.5,
           thermostat_tau_fs: float = 10.0, settings: DFTSettings | None = None, workdir: str | Path,
           label: str = "md", timeout: float | None = None) -> MDTrajectory:
    """Run one Born-Oppenheimer MD trajectory of hydrogen with pw.x.

    Parameters
    ----------
    cell, positions : ndarray
        Starting cell and positions, Å.
    temperature_k : float
        Thermostat temperature, K.
    n_steps : int
        Number of MD steps.
    dt_fs : float
        Time step, fs (0.5 fs resolves the H2 vibration, period ~8 fs).
    thermostat_tau_fs : float
        Relaxation time of the SVR thermostat, fs.
    settings : DFTSettings, optional
        Electronic settings (k-points are forced to Gamma).
    workdir : path-like
        Directory for inputs and outputs (kept: the output is the trajectory's record).
    """
    settings = settings or DFTSettings()
    workdir = Path(workdir)
    workdir.mkdir(parents=True, exist_ok=True)
    pw = find_executable("pw.x")
    pseudo = find_pseudopotential(settings.pseudopotential)
    shutil.copy(pseudo, workdir / pseudo.name)
    cell = grid.as_cell(cell)
    positions = grid.check_positions(positions, cell)
    (workdir / "md.in").write_text(md_input(cell, positions, settings, temperature_k=temperature_k, dt_fs=dt_fs,
                                            n_steps=n_steps, thermostat_tau_fs=thermostat_tau_fs,
                                            pseudo_file=pseudo.name))
    progress = _MDProgress(label, n_steps)
    seconds = run_program(mpi_prefix(settings.mpi_processes) + [pw], workdir / "md.in", workdir / "md.out",
                          workdir, timeout=timeout, on_line=progress)
    text = (workdir / "md.out").read_text(errors="replace")
    frames, temperatures, energies = parse_md_output(text, len(positions))
    if len(frames) < n_steps:
        raise EngineError(f"pw.x md stopped after {len(frames)} of {n_steps} steps; see {workdir / 'md.out'}")
    shutil.rmtree(workdir / "out", ignore_errors=True)
    log.info("%s: %d MD steps in %.0f s (%.2f s/step), mean T = %.0f K", label, n_steps, seconds,
             seconds / max(n_steps, 1), float(np.mean(temperatures)))
    return MDTrajectory(cell=cell, positions=frames, temperature_k=temperatures, energy_ev=energies, dt_fs=dt_fs,
                        settings={"temperature_k": temperature_k, "dt_fs": dt_fs, "n_steps": n_steps,
                                  "thermostat": "svr", "thermostat_tau_fs": thermostat_tau_fs,
                                  "kpoints": "gamma", "dft": settings.to_dict(), "wall_seconds": seconds})


class _MDProgress:
    def __init__(self, label: str, n_steps: int):
        self.label, self.n_steps, self.step = label, n_steps, 0
        self.every = max(1, n_steps // 20)

    def __call__(self, line: str) -> None:
        if "temperature           =" in line:
            self.step += 1
            if self.step % self.every == 0 or self.step == self.n_steps:
                log.info("%s: MD step %d/%d, T = %s K", self.label, self.step, self.n_steps,
                         line.split("=")[1].split()[0])


def decorrelation_steps(trajectory: MDTrajectory, threshold: float = 1 / math.e) -> int:
    """Lag (steps) after which the velocity autocorrelation of the atoms has decayed below ``threshold``
    for good, estimated from finite-difference velocities (unwrapped positions)."""
    pos = trajectory.positions
    cell = trajectory.cell
    frac = grid.cart_to_frac(pos.reshape(-1, 3), cell).reshape(pos.shape)
    dfrac = np.diff(frac, axis=0)
    dfrac -= np.round(dfrac)
    vel = dfrac @ cell
    n = len(vel)
    if n < 4:
        return 1
    vel = vel - vel.mean(axis=(0, 1))
    c0 = float(np.mean(np.sum(vel * vel, axis=-1)))
    max_lag = n // 2
    acf = np.array([np.mean(np.sum(vel[: n - lag] * vel[lag:], axis=-1)) / c0 for lag in range(max_lag)])
    envelope = np.maximum.accumulate(np.abs(acf)[::-1])[::-1]
    below = np.where(envelope < threshold)[0]
    return int(below[0]) if len(below) else max_lag
