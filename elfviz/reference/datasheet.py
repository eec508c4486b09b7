"""Tables that describe a dense-hydrogen ELF dataset (a FrameCollection built by ``elfviz dataset build``).

Every number in ``data/DATASHEET.md`` comes from here, so the datasheet can be regenerated whenever
the dataset grows::

    python -m elfviz.cli.programs.datasheet [DIR] [--markdown]

``dataset_summary`` is also what ``elfviz dataset info DIR`` prints.

Examples
--------
>>> from elfviz.data import dataset_path
>>> summary = dataset_summary(dataset_path())      # doctest: +SKIP
>>> summary.counts_by_split                           # doctest: +SKIP
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..errors import FileFormatError
from ..grid import keys
from ..io.store import FrameCollection

PAIRING_CUTOFF_A = 0.85  # Å: nearest-neighbour distance below which an atom counts as paired (H2 bond 0.74 Å)

log = logging.getLogger(__name__)


@dataclass
class DatasetSummary:
    """Summary tables of one dataset directory.

    Attributes
    ----------
    root : Path
    n_frames : int
    counts_by_split : DataFrame
        Frames per split and phase.
    liquid_by_density : DataFrame
        Liquid frames per nominal rs (bohr): mass density (g/cm^3), frames per split, pressure (GPa) mean /
        std /
        min / max, temperature (K) mean / std, median ELF.
    crystals : DataFrame
        Crystal frames: phase, rs (bohr), pressure (GPa), k-mesh, median ELF.
    trajectories : DataFrame
        MD runs (``md/*.npz``): name, split, rs, steps, time step (fs), wall seconds, seconds per step,
        decorrelation steps, mean temperature after equilibration, frames labelled.
    timings : dict
        Total and mean pw.x / pp.x seconds of the labels, total MD seconds.
    sizes : dict
        Bytes on disk of frames/, md/, index.csv and the total.
    label_settings : dict
        The distinct label settings found in the frames (should be one per kind).
    """

    root: Path
    n_frames: int
    counts_by_split: pd.DataFrame
    liquid_by_density: pd.DataFrame
    crystals: pd.DataFrame
    trajectories: pd.DataFrame
    timings: dict[str, float]
    sizes: dict[str, int]
    label_settings: dict[str, Any] = field(default_factory=dict)
    planned_frames: int | None = None


def expected_frame_ids(
    config: Any,
    *,
    only: list[str] | None = None,
    crystals_only: bool = False,
    skip_crystals: bool = False,
    out_dir: str | Path | None = None,
) -> list[str]:
    """The frame ids a build of ``config`` produces.

    Liquid frames are ``<trajectory>-fNNN``, crystals ``<phase>-rsX.XX``. With ``out_dir``, a trajectory whose
    dynamics already exist there (``md/<name>.npz``) counts only the frames it actually holds: a trajectory
    stopped early (``truncated``) yields fewer than ``n_frames``, and rerunning the build cannot add them.
    """
    from .dataset import trajectory_frames
    from .md import MDTrajectory

    ids: list[str] = []
    if not crystals_only:
        for spec in config.trajectories:
            if only and spec["name"] not in only:
                continue
            n_frames = int(spec["n_frames"])
            md_file = Path(out_dir) / "md" / f"{spec['name']}.npz" if out_dir is not None else None
            if md_file is not None and md_file.exists():
                n_frames = len(trajectory_frames(MDTrajectory.load(md_file), spec, config.md))
            ids += [f"{spec['name']}-f{k:03d}" for k in range(n_frames)]
    if not skip_crystals and not only:
        ids += [f"{spec['phase']}-rs{rs:.2f}" for spec in config.crystals for rs in spec["rs"]]
    return ids


def _directory_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file()) if path.exists() else 0


def frame_table(collection: FrameCollection, *, with_elf: bool = True) -> pd.DataFrame:
    """One row per frame: the index columns plus timings, k-mesh, SCF data and (optionally) the median ELF."""
    rows = []
    for frame_id in collection.frame_ids():
        ds = collection.read(frame_id)
        attrs = ds.attrs
        row = {
            "frame_id": frame_id,
            "phase": attrs.get("phase", ""),
            "trajectory": attrs.get("trajectory", ""),
            "split": attrs.get("split", ""),
            "n_atoms": int(ds.sizes["atom"]),
            "rs_bohr": float(attrs.get("rs_bohr", np.nan)),
            "rs_nominal": float(attrs.get("rs_nominal", np.round(attrs.get("rs_bohr", np.nan), 2))),
            "density_g_cm3": float(attrs.get("density_g_cm3", np.nan)),
            "pressure_gpa": float(attrs.get("pressure_gpa", np.nan)),
            "temperature_k": float(attrs.get("temperature_k", np.nan)),
            "pw_seconds": float(attrs.get("pw_seconds", np.nan)),
            "pp_seconds": float(attrs.get("pp_seconds", np.nan)),
            "scf_iterations": attrs.get("scf_iterations", np.nan),
            "scf_converged": attrs.get("scf_converged", np.nan),
            "kmesh": "x".join(map(str, attrs.get("kmesh", []))) + ("s" if attrs.get("kshift") else ""),
            "grid": "x".join(map(str, ds[keys.ELF].shape)),
            "ecutwfc_ry": (attrs.get("settings") or {}).get("ecutwfc_ry", np.nan),
            "source": attrs.get("source", ""),
        }
        if with_elf:
            elf = ds[keys.ELF].values
            row["elf_median"] = float(np.median(elf))
            row["elf_mean"] = float(elf.mean())
        rows.append(row)
    return pd.DataFrame(rows)


def rms_displacement(positions: np.ndarray, cell: np.ndarray, lag: int) -> float:
    """Root-mean-square displacement (Å) of the atoms over ``lag`` steps, from unwrapped positions.

    Examples
    --------
    >>> pos = np.zeros((3, 1, 3)); pos[:, 0, 0] = [0.0, 0.5, 1.0]
    >>> round(rms_displacement(pos, np.eye(3) * 10, 2), 6)
    1.0
    """
    if lag < 1 or len(positions) <= lag:
        return float("nan")
    frac = positions @ np.linalg.inv(cell)
    steps = np.diff(frac, axis=0)
    steps -= np.round(steps)
    unwrapped = np.concatenate([frac[:1], frac[:1] + np.cumsum(steps, axis=0)]) @ cell
    d = unwrapped[lag:] - unwrapped[:-lag]
    return float(np.sqrt(np.mean(np.sum(d**2, axis=-1))))


def paired_fraction(positions: np.ndarray, cell: np.ndarray, cutoff: float = PAIRING_CUTOFF_A) -> float:
    """Share of atoms with another atom within ``cutoff`` (Å), averaged over frames: how molecular a fluid is.

    An H2 bond is 0.74 Å; the default 0.85 Å cut-off counts thermally stretched bonds and excludes the
    ~1 Å nearest-neighbour distances of the dense atomic fluid.

    Parameters
    ----------
    positions : ndarray, shape (n_frames, n_atoms, 3)
        Cartesian positions, Å.
    cell : ndarray, shape (3, 3)
        Periodic cell (rows are lattice vectors), Å.
    cutoff : float
        Pairing distance, Å.

    Examples
    --------
    >>> pos = np.array([[[0.0, 0.0, 0.0], [0.74, 0.0, 0.0], [2.5, 2.5, 2.5]]])
    >>> round(paired_fraction(pos, np.eye(3) * 5.0), 3)
    0.667
    """
    from ase import Atoms
    from ase.neighborlist import neighbor_list

    if len(positions) == 0:
        return float("nan")
    shares = [
        np.unique(neighbor_list("i", Atoms(numbers=np.ones(len(frame), int), positions=frame, cell=cell, pbc=True),
                                cutoff)).size / len(frame)
        for frame in positions
    ]
    return float(np.mean(shares))


def trajectory_table(
    root: Path, frames: pd.DataFrame, equilibration_steps: int = 0, frame_interval_steps: int = 0
) -> pd.DataFrame:
    """One row per MD trajectory stored in ``root/md``: mean temperature after ``equilibration_steps``, the
    RMS displacement of the atoms between kept frames (``frame_interval_steps`` apart) and the share of atoms
    paired within 0.85 Å in the kept frames (:func:`paired_fraction`)."""
    from .md import MDTrajectory

    rows = []
    for path in sorted((root / "md").glob("*.npz")):
        traj = MDTrajectory.load(path)
        settings = traj.settings
        n_eq = int(settings.get("equilibration_steps", equilibration_steps) or 0)
        wall = settings.get("wall_seconds")
        if wall is None:  # runs stopped by a time limit record seconds per step only
            wall = float(settings.get("seconds_per_step") or np.nan) * traj.n_steps
        wall = float(wall)
        rows.append(
            {
                "trajectory": path.stem,
                "split": settings.get("split", ""),
                "rs": float(settings.get("rs", np.nan)),
                "n_atoms": int(traj.positions.shape[1]),
                "steps": traj.n_steps,
                "steps_planned": int(settings.get("n_steps_planned", settings.get("n_steps", traj.n_steps))),
                "dt_fs": traj.dt_fs,
                "wall_seconds": wall,
                "seconds_per_step": wall / max(traj.n_steps, 1),
                "decorrelation_steps": settings.get("decorrelation_steps", np.nan),
                "mean_temperature_k": float(np.mean(traj.temperature_k[n_eq:]))
                if len(traj.temperature_k)
                else np.nan,
                "rms_displacement_between_frames_A": rms_displacement(
                    traj.positions[n_eq:].astype(np.float64), traj.cell, frame_interval_steps
                ),
                "paired_fraction": paired_fraction(
                    traj.positions[n_eq:][:: max(frame_interval_steps, 1)].astype(np.float64), traj.cell
                ),
                "frames_labelled": int((frames["trajectory"] == path.stem).sum()) if len(frames) else 0,
                "machine": "device" if str(settings.get("machine", "")).startswith("device") else "2-core",
            }
        )
    return pd.DataFrame(rows)


def dataset_summary(
    root: str | Path, *, with_elf: bool = True, config: str | Path | None = None
) -> DatasetSummary:
    """Summary of a dataset directory (see :class:`DatasetSummary`).

    Parameters
    ----------
    root : path-like
        The dataset directory (``index.csv``, ``frames/``, ``md/``).
    with_elf : bool
        Also read every ELF field for its median (slower).
    config : path-like, optional
        The build config (for the equilibration length); default ``root/../dataset.toml`` if it exists.

    Raises
    ------
    FileFormatError
        If ``root`` has no ``index.csv``.
    """
    root = Path(root)
    collection = FrameCollection(root)
    if not collection.index_path.exists():
        raise FileFormatError(
            f"{root} is not a dataset: it has no index.csv (build one with `elfviz dataset build`)"
        )
    frames = frame_table(collection, with_elf=with_elf)
    if frames.empty:
        frames = pd.DataFrame(
            columns=[
                "frame_id",
                "phase",
                "trajectory",
                "split",
                "rs_nominal",
                "pressure_gpa",
                "temperature_k",
                "pw_seconds",
                "pp_seconds",
                "density_g_cm3",
                "kmesh",
            ]
        )
    counts = (
        frames.groupby(["split", "phase"]).size().rename("frames").reset_index()
        if len(frames)
        else pd.DataFrame(columns=["split", "phase", "frames"])
    )
    liquid = frames[frames["phase"] == "liquid"]
    by_density = pd.DataFrame()
    if len(liquid):
        grouped = liquid.groupby("rs_nominal")
        by_density = pd.DataFrame(
            {
                "density_g_cm3": grouped["density_g_cm3"].mean(),
                "train": grouped["split"].apply(lambda s: int((s == "train").sum())),
                "validation": grouped["split"].apply(lambda s: int((s == "validation").sum())),
                "test": grouped["split"].apply(lambda s: int((s == "test").sum())),
                "pressure_mean_gpa": grouped["pressure_gpa"].mean(),
                "pressure_std_gpa": grouped["pressure_gpa"].std(ddof=0),
                "pressure_min_gpa": grouped["pressure_gpa"].min(),
                "pressure_max_gpa": grouped["pressure_gpa"].max(),
                "temperature_mean_k": grouped["temperature_k"].mean(),
                "temperature_std_k": grouped["temperature_k"].std(ddof=0),
            }
        )
        if "elf_median" in liquid:
            by_density["elf_median"] = grouped["elf_median"].median()
        by_density = by_density.reset_index()
    crystal_columns = ["frame_id", "phase", "n_atoms", "rs_bohr", "pressure_gpa", "kmesh", "grid"]
    if "elf_median" in frames:
        crystal_columns.append("elf_median")
    crystals = (
        frames[frames["phase"] != "liquid"][crystal_columns].reset_index(drop=True)
        if len(frames)
        else pd.DataFrame(columns=crystal_columns)
    )
    config_path = Path(config) if config is not None else root.parent / "dataset.toml"
    equilibration = interval = 0
    planned = None
    if config_path.is_file():
        from .dataset import DatasetConfig

        build_config = DatasetConfig.from_toml(config_path)
        planned = len(expected_frame_ids(build_config))
        md = build_config.md
        equilibration = int(md.get("equilibration_steps", 0))
        interval = int(md.get("frame_interval_steps", 0))
    trajectories = trajectory_table(root, frames, equilibration, interval)
    timings = {
        "pw_seconds_total": float(np.nansum(frames["pw_seconds"])) if len(frames) else 0.0,
        "pp_seconds_total": float(np.nansum(frames["pp_seconds"])) if len(frames) else 0.0,
        "label_seconds_mean_liquid": float((liquid["pw_seconds"] + liquid["pp_seconds"]).mean())
        if len(liquid)
        else np.nan,
        "md_seconds_total": float(np.nansum(trajectories["wall_seconds"])) if len(trajectories) else 0.0,
    }
    sizes = {
        "frames": _directory_bytes(root / "frames"),
        "md": _directory_bytes(root / "md"),
        "index": collection.index_path.stat().st_size,
    }
    sizes["total"] = sizes["frames"] + sizes["md"] + sizes["index"]
    settings = {}
    if len(frames):
        settings = {
            "liquid_kmesh": sorted(set(liquid["kmesh"])) if len(liquid) else [],
            "crystal_kmesh": sorted(set(frames[frames["phase"] != "liquid"]["kmesh"])),
            "ecutwfc_ry": sorted(set(float(x) for x in frames["ecutwfc_ry"].dropna())),
            "grids": sorted(set(frames["grid"])),
            "sources": sorted(set(frames["source"])),
        }
    return DatasetSummary(
        root=root,
        n_frames=len(frames),
        counts_by_split=counts,
        liquid_by_density=by_density,
        crystals=crystals,
        trajectories=trajectories,
        timings=timings,
        sizes=sizes,
        label_settings=settings,
        planned_frames=planned,
    )


# ----------------------------------------------------------------------------- formatting
def _markdown(table: pd.DataFrame, floatfmt: str = ".2f") -> str:
    if table is None or table.empty:
        return "(none yet)\n"
    header = "| " + " | ".join(map(str, table.columns)) + " |"
    rule = "|" + "|".join("---" for _ in table.columns) + "|"
    lines = [header, rule]
    for row in table.itertuples(index=False):  # keeps each column's dtype (iterrows upcasts ints to float)
        cells = []
        for value in row:
            if isinstance(value, (float, np.floating)):
                cells.append("" if np.isnan(value) else format(value, floatfmt))
            else:
                cells.append(str(value))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _megabytes(n: int) -> str:
    return f"{n / 1e6:.1f} MB"


def summary_markdown(summary: DatasetSummary) -> str:
    """The datasheet's generated tables as Markdown."""
    t = summary.timings
    parts = [
        f"Frames: {summary.n_frames}"
        + (f" of {summary.planned_frames} planned by the config" if summary.planned_frames else "")
        + f" ({_megabytes(summary.sizes['total'])} on disk: frames "
        f"{_megabytes(summary.sizes['frames'])}, MD trajectories {_megabytes(summary.sizes['md'])}).\n",
        "### Frames per split and phase\n",
        _markdown(summary.counts_by_split),
        "\n### Liquid frames per density\n",
        _markdown(summary.liquid_by_density),
        "\n### Crystal frames (test only)\n",
        _markdown(summary.crystals),
        "\n### MD trajectories\n",
        _markdown(summary.trajectories),
        "\n### Wall time (as recorded by the runs; labels on the 2-core machine with `mpirun -np 2`)\n",
        f"- labels: pw.x {t['pw_seconds_total'] / 3600:.2f} h + pp.x {t['pp_seconds_total'] / 3600:.2f} h "
        "in total; "
        f"{t['label_seconds_mean_liquid']:.1f} s per liquid frame on average\n",
        f"- MD: {t['md_seconds_total'] / 3600:.2f} h in total\n",
        "\n### Label settings found in the frames\n",
        "".join(f"- {k}: {v}\n" for k, v in summary.label_settings.items()),
    ]
    return "".join(parts)


def summary_text(summary: DatasetSummary) -> str:
    """Plain-text summary for the terminal (``elfviz dataset info``)."""
    with pd.option_context("display.width", 160, "display.max_columns", 30, "display.precision", 3):
        planned = f" (of {summary.planned_frames} planned)" if summary.planned_frames else ""
        parts = [
            f"{summary.root}: {summary.n_frames} frames{planned}, "
            f"{_megabytes(summary.sizes['total'])} on disk "
            f"(frames {_megabytes(summary.sizes['frames'])}, md {_megabytes(summary.sizes['md'])})"
        ]
        if not summary.counts_by_split.empty:
            parts += ["", "frames per split and phase:", summary.counts_by_split.to_string(index=False)]
        if not summary.liquid_by_density.empty:
            parts += [
                "",
                "liquid frames per density (rs in bohr):",
                summary.liquid_by_density.to_string(index=False),
            ]
        if not summary.crystals.empty:
            parts += ["", "crystals:", summary.crystals.to_string(index=False)]
        if not summary.trajectories.empty:
            parts += ["", "MD trajectories:", summary.trajectories.to_string(index=False)]
        t = summary.timings
        parts += [
            "",
            f"label wall time: pw.x {t['pw_seconds_total']:.0f} s, pp.x {t['pp_seconds_total']:.0f} s; "
            f"MD {t['md_seconds_total']:.0f} s",
        ]
    return "\n".join(parts)


BEGIN_MARKER = "<!-- generated by python -m elfviz.cli.programs.datasheet: begin -->"
END_MARKER = "<!-- generated by python -m elfviz.cli.programs.datasheet: end -->"


def replace_generated_section(document: str, tables: str) -> str:
    """Put ``tables`` between the begin/end markers of ``document`` (appended with markers if absent).

    Examples
    --------
    >>> doc = f"intro\\n{BEGIN_MARKER}\\nold\\n{END_MARKER}\\noutro\\n"
    >>> "new" in replace_generated_section(doc, "new") and "old" not in replace_generated_section(doc, "new")
    True
    """
    from datetime import datetime, timezone

    stamp = datetime.now(timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    block = f"{BEGIN_MARKER}\n_Snapshot of {stamp}._\n\n{tables.strip()}\n{END_MARKER}"
    if BEGIN_MARKER in document and END_MARKER in document:
        head, rest = document.split(BEGIN_MARKER, 1)
        _, tail = rest.split(END_MARKER, 1)
        return head + block + tail
    return document.rstrip() + "\n\n" + block + "\n"
