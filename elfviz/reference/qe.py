"""Quantum ESPRESSO backend: reference ELF from ``pw.x`` (SCF) and ``pp.x`` (``plot_num = 8``).

The run happens in a temporary directory (kept on request): elfviz writes the pw.x and pp.x inputs, runs
them under ``mpirun`` with one OpenMP thread per process, streams the SCF progress into the log, and
parses the ELF cube onto the data layer's grid (fractional ``i/N``, no end point). QE computes the ELF on
its dense FFT grid; elfviz chooses that grid itself (sizes made of 2, 3 and 5, at least as fine as the
density cutoff needs and as the requested spacing), so no interpolation is needed unless an explicit
grid shape coarser than QE's minimum is asked for.

Examples
--------
>>> from elfviz.reference.qe import qe_elf          # doctest: +SKIP
>>> ref = qe_elf(structure_dataset, spacing=0.12)   # doctest: +SKIP
>>> ref.attrs["pressure_gpa"], ref.attrs["scf_converged"]  # doctest: +SKIP
"""

from __future__ import annotations

import logging
import math
import os
import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .. import grid
from ..errors import EngineError, SpeciesError
from ..grid import keys
from .pseudo import find_pseudopotential
from .settings import DFTSettings

log = logging.getLogger(__name__)

INSTALL_HINT = ("install Quantum ESPRESSO with `apt-get install quantum-espresso quantum-espresso-data` "
                "(Debian/Ubuntu) or `conda install -c conda-forge qe`, or use the pip-only PySCF backend "
                "(--engine pyscf)")

_SMEARING = {"fermi-dirac": "fd", "gaussian": "gaussian", "mv": "mv"}


# ----------------------------------------------------------------------------- executables
def find_executable(name: str) -> str:
    """Full path of a QE program (``pw.x``, ``pp.x``); ``ELFVIZ_QE_BIN`` may name their folder."""
    folder = os.environ.get("ELFVIZ_QE_BIN")
    if folder and (Path(folder) / name).is_file():
        return str(Path(folder) / name)
    path = shutil.which(name)
    if path is None:
        raise EngineError(f"Quantum ESPRESSO's {name} was not found on PATH; {INSTALL_HINT}")
    return path


def is_available() -> bool:
    """True when pw.x and pp.x can be found."""
    try:
        find_executable("pw.x")
        find_executable("pp.x")
        return True
    except EngineError:
        return False


def mpi_prefix(n_processes: int | None) -> list[str]:
    """The ``mpirun`` prefix for ``n_processes`` (empty for one process or without mpirun)."""
    if n_processes is None:
        n_processes = min(os.cpu_count() or 1, 4)
    if n_processes <= 1 or shutil.which("mpirun") is None:
        return []
    prefix = ["mpirun", "-np", str(int(n_processes))]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        prefix.insert(1, "--allow-run-as-root")
    return prefix


# ----------------------------------------------------------------------------- grids and k-points
def minimum_fft_shape(cell: Any, ecutrho_ry: float) -> tuple[int, int, int]:
    """Smallest FFT grid (sizes of 2, 3, 5) that holds the density cutoff, as pw.x computes it.

    ``n_i >= 2 sqrt(ecutrho) |a_i| / (2π) + 1`` with ``|a_i|`` in bohr and ``ecutrho`` in Ry.
    """
    lengths_bohr = np.linalg.norm(grid.as_cell(cell), axis=1) / grid.BOHR_ANGSTROM
    gmax = math.sqrt(ecutrho_ry)
    return tuple(grid.next_fft_size(int(2 * gmax * length / (2 * math.pi)) + 1)  # type: ignore[return-value]
                 for length in lengths_bohr)


def choose_fft_shape(cell: Any, settings: DFTSettings, spacing: float | None = None,
                     shape: Any = None) -> tuple[tuple[int, int, int], tuple[int, int, int]]:
    """The grid QE computes on and the grid the result is delivered on.

    Returns
    -------
    qe_shape, target_shape : tuple of int
        ``qe_shape`` is at least the cutoff's minimum and at least as fine as ``spacing`` (Å) or
        ``shape``; ``target_shape`` is ``shape`` if given, else ``qe_shape``.
    """
    minimum = minimum_fft_shape(cell, settings.ecutrho)
    if shape is not None:
        target = grid.check_shape(shape)
        if all(grid.is_fft_friendly(n) for n in target) and all(t >= m for t, m in zip(target, minimum, strict=True)):
            return target, target
        return minimum, target
    if spacing is not None:
        wanted = grid.shape_for_spacing(cell, spacing)
        qe_shape = tuple(max(w, m) for w, m in zip(wanted, minimum, strict=True))
        return qe_shape, qe_shape  # type: ignore[return-value]
    return minimum, minimum


# ----------------------------------------------------------------------------- inputs
def pw_input(cell: np.ndarray, positions: np.ndarray, settings: DFTSettings, *,
             fft_shape: tuple[int, int, int] | None, kmesh: tuple[int, int, int], pseudo_file: str,
             prefix: str = "elfviz", outdir: str = "./out", calculation: str = "scf", extra_control: str = "",
             extra_ions: str = "", scf_must_converge: bool = True, symmetry: bool = False,
             fractional: bool = False, disk_io: str = "low") -> str:
    """Text of a pw.x input for a hydrogen structure (positions and cell in Å): elfviz's one pw.x writer.

    Parameters
    ----------
    fft_shape : (int, int, int) or None
        The dense FFT grid (``nr1, nr2, nr3``: the ELF grid of a reference run); None lets pw.x choose.
    symmetry : bool
        Let pw.x use the crystal's symmetry (relaxations, energies); off (``nosym``) for reference ELF, whose
        grid must not be symmetrised.
    fractional : bool
        Write ``ATOMIC_POSITIONS crystal`` (fractional, 12 decimals) instead of Cartesian Å.
    extra_control, extra_ions : str
        More ``&CONTROL`` settings; the ``&IONS`` namelist of an ``md`` or ``relax`` run.
    scf_must_converge : bool
        False lets pw.x finish (and write the wave functions pp.x needs) after an SCF that did not converge;
        the output still says "convergence NOT achieved".
    disk_io : str
        pw.x's ``disk_io`` (``"low"`` keeps the wave functions pp.x reads; ``"none"`` for energies only).
    """
    nat = len(positions)
    if settings.smearing == "none":
        occupations = "  occupations = 'fixed'\n"
    else:
        occupations = (f"  occupations = 'smearing', smearing = '{_SMEARING[settings.smearing]}', "
                       f"degauss = {settings.degauss_ry:.6g}\n")
    gamma = kmesh == (1, 1, 1) and not settings.kshift
    grid_line = [f"  nr1 = {fft_shape[0]}, nr2 = {fft_shape[1]}, nr3 = {fft_shape[2]}"] if fft_shape else []
    lines = [
        "&CONTROL",
        f"  calculation = '{calculation}', prefix = '{prefix}', outdir = '{outdir}', pseudo_dir = './'",
        f"  tstress = .true., tprnfor = .true., disk_io = '{disk_io}'"
        + (", " + extra_control if extra_control else ""),
        "/",
        "&SYSTEM",
        f"  ibrav = 0, nat = {nat}, ntyp = 1, ecutwfc = {settings.ecutwfc_ry:.6g}, ecutrho = {settings.ecutrho:.6g}",
        *grid_line,
        *([] if symmetry else ["  nosym = .true."]),
        occupations.rstrip("\n"),
        "/",
        "&ELECTRONS",
        f"  conv_thr = {settings.conv_thr_ry_per_atom * max(nat, 1):.3e}, mixing_beta = {settings.mixing_beta:.4g}, "
        f"electron_maxstep = {settings.max_scf_steps}" + ("" if scf_must_converge else ", scf_must_converge = .false."),
        "/",
    ]
    if calculation in ("md", "relax"):
        lines += ["&IONS", "  " + extra_ions, "/"]
    lines += ["ATOMIC_SPECIES", f"H 1.00794 {pseudo_file}", "CELL_PARAMETERS angstrom"]
    lines += ["  " + " ".join(f"{x:.12f}" if fractional else f"{x:.10f}" for x in row) for row in cell]
    if fractional:
        lines.append("ATOMIC_POSITIONS crystal")
        frac = np.linalg.solve(np.asarray(cell, dtype=float).T, np.asarray(positions, dtype=float).T).T
        frac = (frac % 1.0) % 1.0  # twice: a tiny negative becomes 1.0 after the first
        lines += [f"H {p[0]:.12f} {p[1]:.12f} {p[2]:.12f}" for p in frac]
    else:
        lines.append("ATOMIC_POSITIONS angstrom")
        lines += [f"H {p[0]:.10f} {p[1]:.10f} {p[2]:.10f}" for p in positions]
    if gamma:
        lines.append("K_POINTS gamma")
    else:
        shift = " 1 1 1" if settings.kshift else " 0 0 0"
        lines += ["K_POINTS automatic", " ".join(str(k) for k in kmesh) + shift]
    return "\n".join(lines) + "\n"


def pp_input(prefix: str = "elfviz", outdir: str = "./out", cube_file: str = "elf.cube") -> str:
    """Text of a pp.x input writing the ELF (``plot_num = 8``) as a Gaussian cube on the full FFT grid."""
    return (f"&INPUTPP\n  prefix = '{prefix}', outdir = '{outdir}', filplot = 'elf.dat', plot_num = 8\n/\n"
            f"&PLOT\n  nfile = 1, filepp(1) = 'elf.dat', iflag = 3, output_format = 6, fileout = '{cube_file}'\n/\n")


# ----------------------------------------------------------------------------- running
def run_program(command: list[str], input_file: Path, output_file: Path, cwd: Path, *,
                timeout: float | None = None, on_line: Callable[[str], None] | None = None,
                allowed_returncodes: tuple[int, ...] = (0,)) -> float:
    """Run a QE program with ``-in input_file``, stream its output to ``output_file``; return wall seconds.

    ``allowed_returncodes``: exit codes that are not failures (pw.x exits with 2 when the SCF does not converge,
    after writing its data).
    """
    env = dict(os.environ, OMP_NUM_THREADS="1")
    env.setdefault("OMPI_MCA_btl_vader_single_copy_mechanism", "none")
    start = time.perf_counter()
    with open(output_file, "w") as out:
        proc = subprocess.Popen(command + ["-in", str(Path(input_file).resolve())], cwd=cwd, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True, env=env, stdin=subprocess.DEVNULL)
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                out.write(line)
                if on_line is not None:
                    on_line(line)
                if timeout is not None and time.perf_counter() - start > timeout:
                    proc.kill()
                    raise EngineError(f"{Path(command[-1]).name} exceeded the time limit of {timeout:.0f} s; "
                                      f"its output is in {output_file}")
            proc.wait()
        except BaseException:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
            raise
    if proc.returncode not in allowed_returncodes:
        tail = output_file.read_text(errors="replace")[-2000:]
        message = _qe_error_message(tail)
        raise EngineError(f"{' '.join(command)} failed with exit code {proc.returncode}: {message}"
                          f" (full output: {output_file})")
    return time.perf_counter() - start


def _qe_error_message(text: str) -> str:
    match = re.search(r"%{10,}\s*\n(.*?)\n\s*%{10,}", text, re.S)
    if match:
        return " ".join(match.group(1).split())
    return text.strip().splitlines()[-1] if text.strip() else "no output"


class _ScfProgress:
    """Logs SCF iterations of a running pw.x at INFO level."""

    def __init__(self, label: str):
        self.label = label
        self.iteration = 0

    def __call__(self, line: str) -> None:
        if "iteration #" in line:
            self.iteration = int(line.split("#")[1].split()[0])
        elif "estimated scf accuracy" in line:
            log.info("%s: SCF iteration %d, estimated accuracy %s Ry", self.label, self.iteration,
                     line.split("<")[-1].strip().split()[0])
        elif "convergence has been achieved" in line:
            log.info("%s: SCF converged (%s)", self.label, line.strip())


# ----------------------------------------------------------------------------- parsing
def parse_pw_output(text: str) -> dict[str, Any]:
    """Energy (eV), pressure (GPa), convergence, Fermi level (eV), QE version, k-points and FFT grid of a pw.x run."""
    out: dict[str, Any] = {}
    version = re.search(r"Program PWSCF v\.(\S+)", text)
    out["qe_version"] = version.group(1) if version else "unknown"
    energies = re.findall(r"^!\s+total energy\s+=\s+(-?[\d.]+)\s+Ry", text, re.M)
    if energies:
        out["total_energy_ev"] = float(energies[-1]) * 13.605693122994
    pressures = re.findall(r"P=\s*(-?[\d.]+)", text)
    if pressures:
        out["pressure_gpa"] = float(pressures[-1]) / 10.0
    fermi = re.findall(r"the Fermi energy is\s+(-?[\d.]+)\s+ev", text)
    if fermi:
        out["fermi_energy_ev"] = float(fermi[-1])
    iterations = re.findall(r"convergence has been achieved in\s+(\d+)\s+iterations", text)
    out["scf_converged"] = bool(iterations) and "convergence NOT achieved" not in text
    # with scf_must_converge = .false. pw.x 6.7 prints "convergence has been achieved" after its last allowed
    # iteration even when it is not: compare the final estimated accuracy with the threshold
    threshold = re.search(r"scf convergence threshold\s*=\s*([\d.Ee+-]+)", text)
    accuracy = re.findall(r"estimated scf accuracy\s*<\s*([\d.Ee+-]+)\s*Ry", text)
    if accuracy:
        out["scf_accuracy_ry"] = float(accuracy[-1])
        if threshold and float(accuracy[-1]) >= float(threshold.group(1)):
            out["scf_converged"] = False
    if iterations:
        out["scf_iterations"] = int(iterations[-1])
    nks = re.search(r"number of k points=\s*(\d+)", text)
    if nks:
        out["n_kpoints"] = int(nks.group(1))
    fft = re.search(r"Dense\s+grid:.*FFT dimensions:\s*\(\s*(\d+),\s*(\d+),\s*(\d+)\)", text)
    if fft:
        out["fft_shape"] = [int(x) for x in fft.groups()]
    return out


def read_elf_cube(path: Path, expected_shape: tuple[int, int, int]) -> np.ndarray:
    """ELF values of a pp.x cube file as a (na, nb, nc) float32 array on the periodic grid."""
    from ase.io.cube import read_cube_data

    data, _atoms = read_cube_data(str(path))
    data = np.asarray(data)
    if data.shape == tuple(n + 1 for n in expected_shape):  # a writer that duplicates the periodic end point
        data = data[:-1, :-1, :-1]
    if data.shape != tuple(expected_shape):
        raise EngineError(f"pp.x wrote an ELF grid of shape {data.shape}, expected {expected_shape}")
    return data.astype(np.float32)


def resample_periodic(field: np.ndarray, shape: tuple[int, int, int]) -> np.ndarray:
    """Periodic cubic-spline resampling of a grid field onto another grid (fractional i/N), clipped to [0, 1]."""
    frac = np.stack(np.meshgrid(*grid.fractional_axes(shape), indexing="ij"), axis=-1)
    return np.clip(grid.interpolate_periodic(field, frac), 0.0, 1.0).astype(np.float32)


# ----------------------------------------------------------------------------- public entry point
def qe_elf(structure: xr.Dataset, settings: DFTSettings | None = None, *, spacing: float | None = None,
           shape: Any = None, workdir: str | os.PathLike | None = None, keep_files: bool = False,
           allow_unconverged: bool = False, timeout: float | None = None, label: str = "qe") -> xr.Dataset:
    """Reference ELF of a hydrogen structure from Quantum ESPRESSO.

    Parameters
    ----------
    structure : xarray.Dataset
        Data-layer Dataset of the structure, with or without a grid (only the structure is used; see
        :func:`elfviz.grid.make_structure`).
    settings : DFTSettings, optional
        Numerical settings (defaults: the reference convention).
    spacing : float, optional
        Largest grid spacing, Å; QE's grid is refined to meet it. Default: QE's own minimum grid.
    shape : (int, int, int), optional
        Deliver the ELF on exactly this grid (interpolated when it is not a valid QE grid).
    workdir : path-like, optional
        Run here instead of a temporary directory (kept).
    keep_files : bool
        Keep the temporary directory (its path goes into the attrs).
    allow_unconverged : bool
        Return a non-converged SCF (flagged ``scf_converged = 0`` in the attrs) instead of raising.
    timeout : float, optional
        Wall-time limit per program, s.

    Returns
    -------
    xarray.Dataset
        The structure with field ``elf`` and attrs ``source``, ``engine``, ``settings`` (JSON), ``qe_version``,
        ``total_energy_ev``, ``pressure_gpa``, ``scf_converged``, ``kmesh``, timings.
    """
    settings = settings or DFTSettings()
    grid.validate_structure(structure)
    numbers = structure[keys.NUMBERS].values
    if np.any(numbers != 1):
        raise SpeciesError("the Quantum ESPRESSO reference supports hydrogen only (it ships the H pseudopotential); "
                           f"found atomic numbers {sorted(set(numbers.tolist()))}")
    cell = structure[keys.CELL].values
    positions = structure[keys.POSITIONS].values
    pw = find_executable("pw.x")
    pp = find_executable("pp.x")
    pseudo = find_pseudopotential(settings.pseudopotential)
    qe_shape, target_shape = choose_fft_shape(cell, settings, spacing, shape)
    kmesh = settings.kpoint_mesh(cell)

    tmp_ctx = None
    if workdir is None:
        tmp_ctx = tempfile.TemporaryDirectory(prefix="elfviz-qe-")
        run_dir = Path(tmp_ctx.name)
    else:
        run_dir = Path(workdir)
        run_dir.mkdir(parents=True, exist_ok=True)
    try:
        shutil.copy(pseudo, run_dir / pseudo.name)
        (run_dir / "pw.in").write_text(pw_input(cell, positions, settings, fft_shape=qe_shape, kmesh=kmesh,
                                                pseudo_file=pseudo.name, scf_must_converge=not allow_unconverged))
        (run_dir / "pp.in").write_text(pp_input())
        prefix = mpi_prefix(settings.mpi_processes)
        log.info("%s: pw.x SCF for %d atoms, k-mesh %s%s, FFT grid %s", label, len(positions), kmesh,
                 " shifted" if settings.kshift else "", qe_shape)
        pw_seconds = run_program(prefix + [pw], run_dir / "pw.in", run_dir / "pw.out", run_dir,
                                 timeout=timeout, on_line=_ScfProgress(label), allowed_returncodes=(0, 2))
        pw_text = (run_dir / "pw.out").read_text(errors="replace")
        results = parse_pw_output(pw_text)
        if "JOB DONE" not in pw_text:  # exit code 2 without finishing: a real failure, not a non-converged SCF
            raise EngineError(f"pw.x failed: {_qe_error_message(pw_text[-2000:])} (full output: {run_dir / 'pw.out'})")
        if not results["scf_converged"] and not allow_unconverged:
            raise EngineError(f"the SCF did not converge in {settings.max_scf_steps} iterations; try a smaller "
                              "mixing_beta, more SCF steps, or pass --allow-unconverged to keep the result flagged")
        if results.get("fft_shape") and tuple(results["fft_shape"]) != tuple(qe_shape):
            raise EngineError(f"pw.x used the FFT grid {results['fft_shape']} instead of {qe_shape}")
        pp_seconds = run_program(prefix + [pp], run_dir / "pp.in", run_dir / "pp.out", run_dir, timeout=timeout)
        elf = read_elf_cube(run_dir / "elf.cube", qe_shape)
        # QE's ELF is 1 / (1 + chi^2) and can exceed 1 by rounding only; anything else is an error.
        if float(elf.min()) < -1e-4 or float(elf.max()) > 1 + 1e-4:
            raise EngineError(f"pp.x returned ELF values in [{elf.min()}, {elf.max()}], outside [0, 1]")
        elf = np.clip(elf, 0.0, 1.0)
        resampled = tuple(target_shape) != tuple(qe_shape)
        if resampled:
            elf = resample_periodic(elf, target_shape)
        attrs = {
            "engine": "qe",
            "settings": settings.to_dict(),
            "kmesh": list(kmesh),
            "kshift": int(settings.kshift),
            "qe_grid": list(qe_shape),
            "resampled_from_qe_grid": int(resampled),
            "pseudopotential": pseudo.name,
            "pw_seconds": pw_seconds,
            "pp_seconds": pp_seconds,
            **{k: v for k, v in results.items() if k != "fft_shape"},
        }
        attrs["scf_converged"] = int(bool(results["scf_converged"]))
        if keep_files or workdir is not None:
            attrs["workdir"] = str(run_dir)
        extra = {k: v for k, v in structure.attrs.items()
                 if k in ("phase", "trajectory", "frame_id", "temperature_k", "md_step", "md_time_fs")}
        source = (f"dft:qe-{results['qe_version']} PBE {pseudo.name} ecutwfc={settings.ecutwfc_ry:g}Ry "
                  f"k={'x'.join(map(str, kmesh))}{'s' if settings.kshift else ''}")
        ds = grid.make_dataset(cell, positions, numbers, elf, source=source, attrs={**extra, **attrs})
        log.info("%s: done in %.1f s (pw.x %.1f s, pp.x %.1f s), P = %.1f GPa", label, pw_seconds + pp_seconds,
                 pw_seconds, pp_seconds, attrs.get("pressure_gpa", float("nan")))
        return ds
    finally:
        if tmp_ctx is not None:
            if keep_files:
                tmp_ctx._finalizer.detach()  # type: ignore[attr-defined]
            else:
                tmp_ctx.cleanup()
