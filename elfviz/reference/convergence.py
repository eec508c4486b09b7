"""Is the reference right? Convergence of the QE reference ELF and of the networking value phi.

Runs Quantum ESPRESSO on one 64-atom liquid frame of the bundled dataset and on one crystal phase, varying
one setting at a time from the reference convention (PBE, 60 Ry, Fermi-Dirac 0.02 Ry, shifted 2x2x2 for
64 atoms), and compares each ELF with the most converged run of its series:

- k-mesh (60 Ry): Gamma, 2x2x2 unshifted, 2x2x2 shifted (the dataset's choice), 3x3x3 shifted (reference);
- cutoff (shifted 2x2x2, all on the grid of the highest cutoff): 45, 60, 80 Ry (reference);
- grid spacing (60 Ry, shifted 2x2x2): QE's minimum FFT grid, 1.5x and 2x as many points per axis. The ELF
  is compared at the points the grids share; phi is computed on each grid.

Also: the H2 molecule in a large box (ELF at the bond centre) and the QE-PySCF agreement on a small cell.
Every run records its wall time. Results go to a JSON file and a Markdown table on stdout::

    nice -n 10 python -m elfviz.cli.programs.convergence --out convergence.json
    python -m elfviz.cli.programs.convergence --sections h2 crosscheck --np 1

The written study is ``docs/reference_validation.md``.
"""

from __future__ import annotations

import logging
import math
import time
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .. import grid
from ..grid import keys
from .settings import DFTSettings

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- comparisons (pure)
def common_points(coarse_shape: tuple[int, ...], fine_shape: tuple[int, ...]) -> tuple[slice, slice, slice]:
    """Slices of the fine grid that land on the coarse grid's points (fine sizes must be multiples).

    Examples
    --------
    >>> common_points((40, 40, 40), (80, 80, 80))[0]
    slice(None, None, 2)
    """
    steps = []
    for n_coarse, n_fine in zip(coarse_shape, fine_shape, strict=True):
        if n_fine % n_coarse:
            raise ValueError(f"grid {fine_shape} is not a refinement of {coarse_shape}")
        steps.append(slice(None, None, n_fine // n_coarse))
    return tuple(steps)  # type: ignore[return-value]


def field_difference(reference: np.ndarray, other: np.ndarray) -> dict[str, float]:
    """MAE, largest absolute difference, RMSE and Pearson correlation of two ELF fields.

    The finer of the two is subsampled onto the coarser grid when their shapes differ by integer factors.

    Examples
    --------
    >>> a = np.random.default_rng(0).random((4, 4, 4))
    >>> field_difference(a, a)["mae"]
    0.0
    """
    reference = np.asarray(reference, dtype=np.float64)
    other = np.asarray(other, dtype=np.float64)
    if reference.shape != other.shape:
        if all(o >= r for o, r in zip(other.shape, reference.shape, strict=True)):
            other = other[common_points(reference.shape, other.shape)]
        else:
            reference = reference[common_points(other.shape, reference.shape)]
    diff = other - reference
    pearson = float(np.corrcoef(reference.ravel(), other.ravel())[0, 1]) if reference.std() > 0 else math.nan
    return {
        "mae": float(np.abs(diff).mean()),
        "max_abs": float(np.abs(diff).max()),
        "rmse": float(np.sqrt(np.mean(diff**2))),
        "pearson": pearson,
    }


def network_values(ds: xr.Dataset) -> dict[str, float | None]:
    """Networking value phi and molecularity index phi* (elfviz.topology), None when unavailable."""
    try:
        from ..topology import networking_analysis
    except ImportError:  # pragma: no cover - topology is part of the package
        return {"phi": None, "phi_star": None}
    result = networking_analysis(ds)
    return {"phi": float(result.phi), "phi_star": None if result.phi_star is None else float(result.phi_star)}


def bond_centre_elf(ds: xr.Dataset, i: int = 0, j: int = 1) -> float:
    """ELF at the midpoint of atoms ``i`` and ``j`` (minimum image), by periodic cubic interpolation."""
    cell = ds[keys.CELL].values
    pos = ds[keys.POSITIONS].values
    frac = grid.cart_to_frac(pos, cell)
    d = frac[j] - frac[i]
    d -= np.round(d)
    mid = frac[i] + d / 2
    return float(np.clip(grid.interpolate_periodic(ds[keys.ELF].values, mid), 0.0, 1.0))


# ----------------------------------------------------------------------------- runs
CACHE_DIR: Path | None = None
"""When set (``--cache``), every run's Dataset is stored here and reused, so the study resumes after an
interruption."""


def _run(
    structure: xr.Dataset,
    settings: DFTSettings,
    shape: tuple[int, int, int] | None,
    label: str,
    engine: str = "qe",
    **kwargs: Any,
) -> tuple[xr.Dataset, float]:
    from ..io.store import read_netcdf, write_netcdf
    from . import reference_elf

    cached = None
    if CACHE_DIR is not None:
        key = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in label)
        cached = CACHE_DIR / f"{key}.nc"
        if cached.exists():
            ds = read_netcdf(cached)
            if _same_run(ds, structure, settings, shape):
                log.info("%s: reusing %s", label, cached)
                return ds, float(ds.attrs.get("run_seconds", math.nan))
            log.info("%s: %s was run with other settings; running again", label, cached)
    start = time.perf_counter()
    ds = reference_elf(structure, engine=engine, settings=settings, shape=shape, label=label, **kwargs)
    seconds = time.perf_counter() - start
    ds.attrs["run_seconds"] = seconds
    if cached is not None:
        write_netcdf(ds, cached, force=True)
    return ds, seconds


def _same_run(ds: xr.Dataset, structure: xr.Dataset, settings: DFTSettings, shape: Any) -> bool:
    """Whether a cached run used this structure, these settings and this grid."""
    stored = ds.attrs.get("settings", {})
    wanted = settings.to_dict()
    names = ("ecutwfc_ry", "ecutrho_ry", "degauss_ry", "smearing", "kshift", "conv_thr_ry_per_atom")
    same = all(stored.get(k) == wanted.get(k) for k in names)
    same &= list(ds.attrs.get("kmesh", [])) == list(settings.kpoint_mesh(structure[keys.CELL].values))
    same &= np.allclose(ds[keys.POSITIONS].values, structure[keys.POSITIONS].values, atol=1e-6)
    if shape is not None:
        same &= tuple(ds[keys.ELF].shape) == tuple(shape)
    return bool(same)


def dataset_label_run(frame_id: str) -> tuple[xr.Dataset, float]:
    """The bundled dataset's own label of a frame (reference convention: 60 Ry, shifted 2x2x2), as a run."""
    from ..data import dataset_path
    from ..io.store import FrameCollection

    ds = FrameCollection(dataset_path()).read(frame_id)
    return ds, float(ds.attrs.get("pw_seconds", math.nan)) + float(ds.attrs.get("pp_seconds", math.nan))


def _record(
    rows: list[dict[str, Any]], system: str, series: str, variant: str, ds: xr.Dataset, seconds: float
) -> dict[str, Any]:
    row = {
        "system": system,
        "series": series,
        "variant": variant,
        "n_atoms": int(ds.sizes["atom"]),
        "grid": list(ds[keys.ELF].shape),
        "kmesh": ds.attrs.get("kmesh"),
        "kshift": ds.attrs.get("kshift"),
        "n_kpoints": ds.attrs.get("n_kpoints"),
        "ecutwfc_ry": ds.attrs["settings"]["ecutwfc_ry"],
        "wall_seconds": seconds,
        "pressure_gpa": ds.attrs.get("pressure_gpa"),
        "energy_ev_per_atom": ds.attrs.get("total_energy_ev", math.nan) / ds.sizes["atom"],
        **network_values(ds),
    }
    log.info(
        "%s %s %s: %.1f s, P = %.1f GPa, phi = %s",
        system,
        series,
        variant,
        seconds,
        row["pressure_gpa"] or math.nan,
        row["phi"],
    )
    rows.append(row)
    return row


def _compare_to_last(series: list[tuple[dict[str, Any], xr.Dataset]], shared: bool = False) -> None:
    """Differences of every run of a series to its last (most converged) run."""
    ref_row, ref = series[-1]
    for row, ds in series:
        if shared:
            row.update(_shared_grid_difference(ref[keys.ELF].values, ds[keys.ELF].values))
        else:
            row.update(field_difference(ref[keys.ELF].values, ds[keys.ELF].values))
        row["reference"] = ref_row["variant"]
        if row["phi"] is not None and ref_row["phi"] is not None:
            row["dphi"] = row["phi"] - ref_row["phi"]


def kmesh_series(
    structure: xr.Dataset,
    system: str,
    base: DFTSettings,
    kmeshes: list[tuple[str, dict[str, Any]]],
    known: dict[str, tuple[xr.Dataset, float]] | None = None,
) -> list[dict[str, Any]]:
    """Vary the k-mesh on QE's minimum grid; the last entry is the reference.

    ``kmeshes`` holds (name, settings changes), e.g. ``("2x2x2s", {"kmesh": (2, 2, 2), "kshift": True})`` or
    ``("ks0.5", {"kspacing": 0.5, "kmesh": None})``; ``known`` maps names to finished runs (e.g. the dataset's
    own label of the frame) that are used instead of recomputing. Returns one row per run: system, series,
    variant,
    wall seconds, pressure, phi, phi*, and MAE / max / RMSE / Pearson against the reference.
    """
    rows: list[dict[str, Any]] = []
    series = []
    for name, changes in kmeshes:
        if known and name in known:
            ds, seconds = known[name]
        else:
            ds, seconds = _run(structure, base.replace(**changes), None, f"{system} k={name}")
        series.append((_record(rows, system, "kmesh", name, ds, seconds), ds))
    _compare_to_last(series)
    return rows


def cutoff_series(
    structure: xr.Dataset, system: str, base: DFTSettings, cutoffs: list[float]
) -> list[dict[str, Any]]:
    """Vary the wave-function cutoff (Ry), all runs on the minimum grid of the highest cutoff."""
    from .qe import minimum_fft_shape

    shape = minimum_fft_shape(structure[keys.CELL].values, 4.0 * max(cutoffs))
    rows: list[dict[str, Any]] = []
    series = []
    for ecut in cutoffs:
        ds, seconds = _run(structure, base.replace(ecutwfc_ry=ecut), shape, f"{system} ecut={ecut:g}")
        series.append((_record(rows, system, "cutoff", f"{ecut:g} Ry", ds, seconds), ds))
    _compare_to_last(series)
    return rows


def grid_series(
    structure: xr.Dataset, system: str, base: DFTSettings, factors: list[float]
) -> list[dict[str, Any]]:
    """Refine QE's FFT grid at fixed settings: the ELF is compared at the points the grids share (it is a
    pointwise quantity); phi is computed on each grid (its discretisation is what the grid changes)."""
    from .qe import minimum_fft_shape

    minimum = minimum_fft_shape(structure[keys.CELL].values, base.ecutrho)
    rows: list[dict[str, Any]] = []
    series = []
    for factor in factors:
        target = tuple(grid.next_fft_size(int(round(n * factor))) for n in minimum)
        ds, seconds = _run(structure, base, target, f"{system} grid x{factor:g}")
        series.append((_record(rows, system, "grid", f"{factor:g}x {target[0]}", ds, seconds), ds))
    _compare_to_last(series, shared=True)
    return rows


def _shared_grid_difference(fine: np.ndarray, other: np.ndarray) -> dict[str, float]:
    """Differences at the points two grids share (their gcd grid)."""
    gcd = tuple(math.gcd(a, b) for a, b in zip(fine.shape, other.shape, strict=True))
    a = fine[common_points(gcd, fine.shape)]
    b = other[common_points(gcd, other.shape)]
    out = field_difference(a, b)
    out["shared_points"] = int(np.prod(gcd))
    return out


def h2_bond_centre(box: float = 10.0, ecutwfc_ry: float = 60.0) -> dict[str, Any]:
    """ELF at the bond centre of H2 (0.74 Å) in a cubic box (Å), Gamma point, QE reference settings."""
    length = float(box)
    centre = np.array([length / 2 + 0.013, length / 2 - 0.021, length / 2 + 0.007])
    positions = [centre - [0.37, 0, 0], centre + [0.37, 0, 0]]
    structure = grid.make_structure(np.eye(3) * length, positions, [1, 1])
    ds, seconds = _run(
        structure, DFTSettings(ecutwfc_ry=ecutwfc_ry, kmesh=(1, 1, 1), kshift=False), None, "H2"
    )
    elf = ds[keys.ELF].values
    return {
        "box": length,
        "ecutwfc_ry": ecutwfc_ry,
        "elf_bond_centre": bond_centre_elf(ds),
        "elf_min": float(elf.min()),
        "elf_max": float(elf.max()),
        "wall_seconds": seconds,
        "grid": list(elf.shape),
    }


def crosscheck_structure(n_molecules: int = 4, rs: float = 1.5, seed: int = 3) -> xr.Dataset:
    """A small molecular test cell (random H2 molecules in a cube of Wigner-Seitz radius ``rs``, bohr)."""
    from .md import initial_configuration

    cell, positions = initial_configuration(rs, 2 * n_molecules, seed, molecular=True)
    return grid.make_structure(cell, positions, np.ones(len(positions), dtype=int))


def qe_pyscf_crosscheck(
    structure: xr.Dataset, settings: DFTSettings, shape: tuple[int, int, int], **pyscf_options: Any
) -> dict[str, Any]:
    """Run both engines on the same structure and grid; ELF differences and timings."""
    qe, qe_seconds = _run(structure, settings, shape, "crosscheck qe")
    py, py_seconds = _run(structure, settings, shape, "crosscheck pyscf", engine="pyscf", **pyscf_options)
    return {
        "n_atoms": int(structure.sizes["atom"]),
        "rs_bohr": float(structure.attrs["rs_bohr"]),
        "kmesh": list(qe.attrs["kmesh"]),
        "kshift": int(settings.kshift),
        "grid": list(shape),
        "qe_seconds": qe_seconds,
        "pyscf_seconds": py_seconds,
        "basis": py.attrs["basis"],
        "qe_pressure_gpa": qe.attrs.get("pressure_gpa"),
        "pyscf_pressure_gpa": py.attrs.get("pressure_gpa"),
        **field_difference(qe[keys.ELF].values, py[keys.ELF].values),
    }


# ----------------------------------------------------------------------------- inputs
def liquid_frame(frame_id: str | None = None, rs: float = 1.38) -> xr.Dataset:
    """A 64-atom liquid frame of the bundled dataset (structure only); the first test frame nearest ``rs``."""
    from ..data import dataset_path
    from ..io.store import FrameCollection

    collection = FrameCollection(dataset_path())
    table = collection.index
    if frame_id is None:
        liquid = table[table["phase"] == "liquid"]
        if liquid.empty:
            raise RuntimeError(f"no liquid frames in {dataset_path()} yet")
        distance = (liquid["rs_bohr"] - rs).abs()
        frame_id = str(liquid.loc[distance.idxmin(), "frame_id"])
    ds = collection.read(frame_id)
    out = grid.structure_only(ds)
    out.attrs["frame_id"] = frame_id
    return out


PROXY_K = [
    ("2x2x2", {"kmesh": (2, 2, 2), "kshift": False}),
    ("4x4x4s", {"kmesh": (4, 4, 4), "kshift": True}),
    ("6x6x6s", {"kmesh": (6, 6, 6), "kshift": True}),
    ("8x8x8s", {"kmesh": (8, 8, 8), "kshift": True}),
]
"""k-meshes of the 8-atom proxy. An 8-atom cell has half the edge of the 64-atom cell at the same density, so
its n x n x n mesh samples the Brillouin zone as densely as (n/2)^3 does for 64 atoms: 2x2x2 (with Gamma)
~ 64-atom Gamma, 4x4x4 shifted ~ 2x2x2 shifted (the dataset), 6x6x6 shifted ~ 3x3x3 shifted, 8x8x8 ~ 4x4x4."""


def proxy_structure(rs: float = 1.2, seed: int = 7) -> xr.Dataset:
    """A disordered 8-atom cell (random atoms at least 0.9 Å apart) at Wigner-Seitz radius ``rs`` (bohr): a
    cheap stand-in for the k-point convergence of the 64-atom liquid (see ``PROXY_K``)."""
    from .md import initial_configuration

    cell, positions = initial_configuration(rs, 8, seed, molecular=False)
    return grid.make_structure(cell, positions, np.ones(8, dtype=int))


def crystal_structure(phase: str = "C2c-12", rs: float = 1.38) -> xr.Dataset:
    from ..structures import build_phase

    return grid.structure_from_atoms(build_phase(phase, rs=rs), source="structure")


# ----------------------------------------------------------------------------- report
SECTIONS = (
    "proxy-k",
    "proxy-cutoff",
    "proxy-grid",
    "liquid-k",
    "crystal-k",
    "liquid-cutoff",
    "crystal-cutoff",
    "liquid-grid",
    "crystal-grid",
    "h2",
    "crosscheck",
)

COLUMNS = [
    "system",
    "series",
    "variant",
    "n_kpoints",
    "grid",
    "wall_seconds",
    "pressure_gpa",
    "mae",
    "max_abs",
    "pearson",
    "phi",
    "dphi",
    "phi_star",
]


def markdown_table(rows: list[dict[str, Any]], columns: list[str] = COLUMNS) -> str:
    def fmt(value: Any) -> str:
        if value is None:
            return ""
        if isinstance(value, float):
            return "" if math.isnan(value) else (f"{value:.4f}" if abs(value) < 10 else f"{value:.1f}")
        if isinstance(value, list):
            return "x".join(map(str, value))
        return str(value)

    lines = ["| " + " | ".join(columns) + " |", "|" + "|".join("---" for _ in columns) + "|"]
    lines += ["| " + " | ".join(fmt(row.get(c)) for c in columns) + " |" for row in rows]
    return "\n".join(lines)
