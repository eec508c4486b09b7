"""Read an MD trajectory of hydrogen frame by frame: extended XYZ, ASE .traj, XDATCAR, pw.x output, LAMMPS dump.

Frames are parsed lazily (``ase.io.iread``), checked (periodic cell, hydrogen only, one atom count for the
whole run; the cell may change) and yielded as structure-only elfviz Datasets (:func:`elfviz.grid.make_structure`)
with the MD step and time where the file records them. elfviz's own MD record (``.npz`` with ``cell``,
``positions`` and ``dt_fs``, as in ``data/dataset/md``) is read too.
"""

from __future__ import annotations

import logging
import math
import os
import re
import warnings
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import xarray as xr

from .. import grid
from ..errors import FileFormatError, SpeciesError, StructureError
from ..grid import keys

log = logging.getLogger(__name__)

TRAJECTORY_FORMATS = {
    "extxyz": "extended XYZ with Lattice= (.xyz, .extxyz)",
    "traj": "ASE trajectory (.traj)",
    "vasp-xdatcar": "VASP XDATCAR",
    "espresso-out": "Quantum ESPRESSO pw.x output of an MD run (.pwo, .out)",
    "lammps-dump-text": "LAMMPS text dump (.lammpstrj, .dump; atom type 1 = H unless an element column says so)",
    "elfviz-md": "elfviz MD record (.npz with cell, positions, dt_fs: data/dataset/md)",
}
"""Trajectory formats and a one-line description of each."""

TIME_KEYS_FS = ("md_time_fs", "time_fs", "time")
"""``atoms.info`` keys read as the MD time in fs (``time`` is taken to be in fs, as extended XYZ writers use it)."""

STEP_KEYS = ("md_step", "timestep", "step")
"""``atoms.info`` keys read as the MD step number (LAMMPS dumps give ``timestep``)."""


@dataclass(frozen=True)
class TrajectoryScan:
    """What one pass over a trajectory found (no positions kept).

    Attributes
    ----------
    path : pathlib.Path
        The file.
    format : str
        One of :data:`TRAJECTORY_FORMATS`.
    n_frames_in_file : int
        All frames in the file.
    frame_index : numpy.ndarray
        int64 (n,): index in the file of each selected frame (every ``every``-th).
    n_atoms : int
        Atoms per frame.
    cells : numpy.ndarray
        float64 (n, 3, 3): cell of each selected frame, Å.
    time_fs : numpy.ndarray or None
        float64 (n,): MD time of each selected frame in fs, None unless every frame has one.
    """

    path: Path
    format: str
    n_frames_in_file: int
    frame_index: np.ndarray
    n_atoms: int
    cells: np.ndarray
    time_fs: np.ndarray | None

    @property
    def n_frames(self) -> int:
        """Number of selected frames."""
        return int(len(self.frame_index))

    def grid_shapes(self, *, shape: Any = None, spacing: float = 0.12) -> list[tuple[int, int, int]]:
        """The grid of each selected frame: ``shape`` for all, else the one of ``spacing`` (Å) for its cell."""
        if shape is not None:
            fixed = grid.check_shape(shape)
            return [fixed] * self.n_frames
        return [grid.shape_for_spacing(cell, spacing) for cell in self.cells]


def detect_trajectory_format(path: str | os.PathLike, content: bytes | None = None) -> str:
    """The trajectory format of ``path`` from its name, else from its content (ASE's guess).

    With ``content`` (the file's bytes, e.g. an upload) no file is opened: the name decides (a pw.x output
    may be a ``.out`` file).

    Examples
    --------
    >>> detect_trajectory_format("run/XDATCAR"), detect_trajectory_format("md.lammpstrj")
    ('vasp-xdatcar', 'lammps-dump-text')
    """
    path = Path(path)
    name = path.name.lower()
    for suffix in (".gz", ".bz2", ".xz"):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
    suffix = Path(name).suffix
    by_suffix = {".xyz": "extxyz", ".extxyz": "extxyz", ".traj": "traj", ".npz": "elfviz-md",
                 ".lammpstrj": "lammps-dump-text", ".dump": "lammps-dump-text", ".pwo": "espresso-out"}
    if suffix in by_suffix:
        return by_suffix[suffix]
    if name.startswith("xdatcar") or name.endswith(".xdatcar"):
        return "vasp-xdatcar"
    if suffix == ".out" and content is not None and b"Program PWSCF" in content[:65536]:
        return "espresso-out"
    if content is not None:
        raise FileFormatError(
            f"cannot tell the trajectory format of {path.name} from its name; name it by its format (.xyz, "
            f".traj, XDATCAR, .pwo, .lammpstrj, .npz)")
    if not path.exists():
        raise FileFormatError(f"{path}: no such file")
    if path.is_file():
        try:
            from ase.io.formats import filetype

            guess = filetype(str(path), guess=False)
        except Exception:  # ASE raises several types for unknown content
            guess = None
        if guess in TRAJECTORY_FORMATS:
            return guess
    raise FileFormatError(
        f"cannot tell the trajectory format of {path.name}; name it by its format (.xyz, .traj, XDATCAR, .pwo, "
        f".lammpstrj, .npz) or give the format ({', '.join(TRAJECTORY_FORMATS)})"
    )


def read_trajectory(path: str | os.PathLike, every: int = 1, *, format: str | None = None,  # noqa: A002
                    timestep_fs: float | None = None) -> Iterator[xr.Dataset]:
    """The frames of an MD trajectory of hydrogen, one structure-only Dataset at a time.

    Parameters
    ----------
    path : path-like
        Trajectory file (see :data:`TRAJECTORY_FORMATS`).
    every : int
        Yield every ``every``-th frame (0, every, 2 every, ...); all frames are still read and checked.
    format : str, optional
        Force a format instead of detecting it from the name.
    timestep_fs : float, optional
        Time between MD steps in fs: frames with a step number (LAMMPS ``timestep``) get
        ``md_time_fs = step * timestep_fs``, frames without any get ``frame index * timestep_fs``.
        A time recorded in the file wins.

    Yields
    ------
    xarray.Dataset
        ``cell``, ``positions`` (Å), ``numbers``; attrs ``frame_index`` (in the file), ``trajectory`` (the
        file name), ``md_step`` and ``md_time_fs`` (fs) where known, plus the derived ``rs_bohr`` etc.

    Raises
    ------
    FileFormatError
        Missing, empty or unreadable file, or no frames.
    SpeciesError
        A frame holds atoms other than hydrogen.
    StructureError
        A frame has another number of atoms than the first, no periodic cell, or overlapping atoms.

    Examples
    --------
    >>> import tempfile, ase.io
    >>> from ase import Atoms
    >>> path = Path(tempfile.mkdtemp()) / "h2.xyz"
    >>> ase.io.write(path, [Atoms("H2", [[0, 0, 0], [d, 0, 0]], cell=[3] * 3, pbc=True) for d in (0.7, 0.8)])
    >>> [float(f["positions"][1, 0]) for f in read_trajectory(path)]
    [0.7, 0.8]
    """
    path = Path(path)
    every = int(every)
    if every < 1:
        raise FileFormatError(f"every must be a positive integer (1 = all frames), got {every}")
    if timestep_fs is not None and not (math.isfinite(timestep_fs) and timestep_fs > 0):
        raise FileFormatError(f"the time step must be a positive number of fs, got {timestep_fs}")
    if not path.exists():
        raise FileFormatError(f"{path}: no such file")
    if path.is_dir():
        raise FileFormatError(f"{path} is a folder; give a trajectory file")
    if path.stat().st_size == 0:
        raise FileFormatError(f"{path.name} is empty; nothing to read")
    fmt = format or detect_trajectory_format(path)
    yield from _checked_frames(path, path.name, fmt, every, timestep_fs)


def read_trajectory_bytes(data: bytes, name: str, every: int = 1, *, format: str | None = None,  # noqa: A002
                          timestep_fs: float | None = None) -> Iterator[xr.Dataset]:
    """The frames of an MD trajectory held in memory (an upload), parsed without writing a file.

    Parameters
    ----------
    data : bytes
        The file's content.
    name : str
        The file's name: its extension gives the format (as for :func:`read_trajectory`).
    every, format, timestep_fs
        As for :func:`read_trajectory`.

    Yields, Raises
        As :func:`read_trajectory`.

    Examples
    --------
    >>> import io, ase.io
    >>> from ase import Atoms
    >>> buffer = io.StringIO()
    >>> ase.io.write(buffer, [Atoms("H2", [[0, 0, 0], [d, 0, 0]], cell=[3] * 3, pbc=True) for d in (0.7, 0.8)],
    ...              format="extxyz")
    >>> [float(f["positions"][1, 0]) for f in read_trajectory_bytes(buffer.getvalue().encode(), "md.xyz")]
    [0.7, 0.8]
    """
    name = Path(str(name or "upload")).name
    every = int(every)
    if every < 1:
        raise FileFormatError(f"every must be a positive integer (1 = all frames), got {every}")
    if not data:
        raise FileFormatError(f"{name} is empty; nothing to read")
    fmt = format or detect_trajectory_format(name, content=bytes(data[:65536]))
    yield from _checked_frames(bytes(data), name, fmt, every, timestep_fs)


def _checked_frames(source: Path | bytes, name: str, fmt: str, every: int,
                    timestep_fs: float | None) -> Iterator[xr.Dataset]:
    """Frames of a file or of bytes, checked (one atom count, hydrogen only, a cell), every ``every``-th."""
    if fmt not in TRAJECTORY_FORMATS:
        raise FileFormatError(f"unknown trajectory format {fmt!r}; choose one of {', '.join(TRAJECTORY_FORMATS)}")
    n_atoms = None
    k = -1
    for k, (cell, positions, numbers, info) in enumerate(_raw_frames(source, name, fmt)):
        where = f"{name}, frame {k}"
        if n_atoms is None:
            n_atoms = len(numbers)
        elif len(numbers) != n_atoms:
            raise StructureError(
                f"{where} has {len(numbers)} atoms but frame 0 has {n_atoms}; a trajectory must keep its number "
                "of atoms: split the file where the count changes and analyse each part on its own")
        if k % every:
            continue
        _require_hydrogen(numbers, where)
        attrs = {"frame_index": k, "trajectory": name, **_step_and_time(info, k, timestep_fs)}
        try:
            yield grid.make_structure(cell, positions, numbers, source=f"file:{name}", attrs=attrs)
        except StructureError as exc:
            raise type(exc)(f"{where}: {exc}") from None
    if k < 0:
        raise FileFormatError(f"{name}: no frames found in the {fmt} file; is it the right file?")


def scan_trajectory(path: str | os.PathLike, every: int = 1, *, format: str | None = None,  # noqa: A002
                    timestep_fs: float | None = None) -> TrajectoryScan:
    """Read and check the whole trajectory once, keeping only cells, frame indices and times.

    Done before any prediction, so a bad frame late in the file is refused before work starts, and the
    grids of all frames are known up front (:meth:`TrajectoryScan.grid_shapes`). Arguments and errors as
    for :func:`read_trajectory`.
    """
    every = int(every)
    if every < 1:
        raise FileFormatError(f"every must be a positive integer (1 = all frames), got {every}")
    index, cells, times = [], [], []
    n_atoms = n_total = 0
    fmt = format or detect_trajectory_format(path)
    for frame in read_trajectory(path, 1, format=fmt, timestep_fs=timestep_fs):  # every frame is checked
        n_total += 1
        n_atoms = int(frame.sizes["atom"])
        if int(frame.attrs["frame_index"]) % every:
            continue
        index.append(int(frame.attrs["frame_index"]))
        cells.append(frame[keys.CELL].values)
        times.append(float(frame.attrs.get("md_time_fs", math.nan)))
    time_fs = np.array(times) if times and np.all(np.isfinite(times)) else None
    return TrajectoryScan(path=Path(path), format=fmt, n_frames_in_file=n_total,
                          frame_index=np.array(index, dtype=np.int64), n_atoms=n_atoms,
                          cells=np.array(cells, dtype=float).reshape(-1, 3, 3), time_fs=time_fs)


def _require_hydrogen(numbers: np.ndarray, where: str) -> None:
    others = sorted({int(z) for z in np.asarray(numbers).reshape(-1)} - {1})
    if not len(numbers):
        raise StructureError(f"{where} has no atoms")
    if others:
        from ase.data import chemical_symbols

        names = ", ".join(chemical_symbols[z] if 0 < z < len(chemical_symbols) else str(z) for z in others)
        raise SpeciesError(
            f"{where} contains {names}; the ELF model is for pure hydrogen: remove the other species from the "
            "trajectory (for a LAMMPS dump, hydrogen must be atom type 1 or named H in an element column)")


def _step_and_time(info: dict[str, Any], k: int, timestep_fs: float | None) -> dict[str, Any]:
    out: dict[str, Any] = {}
    step = next((info[key] for key in STEP_KEYS if _is_number(info.get(key))), None)
    if step is not None:
        out["md_step"] = int(step)
    time = next((info[key] for key in TIME_KEYS_FS if _is_number(info.get(key))), None)
    if time is not None:
        out["md_time_fs"] = float(time)
    elif timestep_fs is not None:
        out["md_time_fs"] = float((int(step) if step is not None else k) * timestep_fs)
    return out


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool) and \
        math.isfinite(float(value))


def _raw_frames(source: Path | bytes, name: str,
                fmt: str) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]]:
    """(cell, positions, numbers, info) per frame of a file or of bytes, parsed lazily; parse errors become
    FileFormatError."""
    if fmt == "elfviz-md":
        yield from _npz_frames(source, name)
        return
    import io

    import ase.io

    if isinstance(source, bytes):
        binary = fmt == "traj"
        handle = io.BytesIO(source) if binary else io.StringIO(source.decode("utf-8", errors="replace"))
    else:
        handle = str(source)
    md_times = []
    if fmt == "espresso-out":  # ASE reads no times from pw.x: take them from its "Entering Dynamics" lines
        text = source.decode("utf-8", errors="replace") if isinstance(source, bytes) else \
            Path(source).read_text(errors="replace")
        md_times = pw_md_times_fs(text)
    frames = ase.io.iread(handle, index=":", format=fmt)
    k = 0
    while True:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                atoms = next(frames)
        except StopIteration:
            return
        except (FileFormatError, StructureError):
            raise
        except Exception as exc:  # ASE raises many types for bad files
            detail = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            raise FileFormatError(
                f"{name}: frame {k} could not be read as {fmt} ({detail}); check the file, or name it by "
                "its real format") from None
        if len(atoms.cell.array) != 3 or abs(atoms.cell.volume) < 1e-6 or not all(atoms.pbc):
            raise StructureError(
                f"{name}, frame {k}: no 3-D periodic cell; elfviz needs the lattice vectors of every frame "
                "(Lattice= in extended XYZ, a box in a LAMMPS dump)")
        info = dict(atoms.info)
        if md_times:  # frame 0: the starting positions; frame k: those after MD iteration k
            info.setdefault("md_step", k)
            if k <= len(md_times):
                info.setdefault("md_time_fs", 0.0 if k == 0 else md_times[k - 1])
        yield atoms.cell.array, atoms.positions, atoms.numbers, info
        k += 1


_PW_DYNAMICS = re.compile(r"Entering Dynamics:\s+iteration\s*=\s*(\d+)\s+time\s*=\s*([-+0-9.EeDd]+)\s*pico-seconds")


def pw_md_times_fs(text: str) -> list[float]:
    """MD times (fs) after each iteration of a pw.x ``calculation='md'`` output, in order (empty for other runs).

    Examples
    --------
    >>> pw_md_times_fs("  Entering Dynamics:    iteration =     1\\n       time      =   0.0005 pico-seconds\\n")
    [0.5]
    """
    times = {}
    for match in _PW_DYNAMICS.finditer(text):
        times[int(match[1])] = float(match[2].replace("D", "E").replace("d", "e")) * 1000.0
    return [times[k] for k in sorted(times)]


def _npz_frames(source: Path | bytes,
                name: str) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray, dict[str, Any]]]:
    import io

    try:
        with np.load(io.BytesIO(source) if isinstance(source, bytes) else source, allow_pickle=False) as data:
            positions = np.asarray(data[keys.POSITIONS], dtype=float)
            cell = np.asarray(data[keys.CELL], dtype=float)
            dt_fs = float(data["dt_fs"]) if "dt_fs" in data.files else None
            numbers = np.asarray(data[keys.NUMBERS]) if keys.NUMBERS in data.files else None
    except (KeyError, ValueError, OSError) as exc:
        raise FileFormatError(f"{name} is not an elfviz MD record (.npz with cell, positions, dt_fs): "
                              f"{exc}") from None
    if positions.ndim != 3 or positions.shape[-1] != 3:
        raise FileFormatError(f"{name}: positions must be (frames, atoms, 3), got {positions.shape}")
    if numbers is None:
        numbers = np.ones(positions.shape[1], dtype=np.int64)
    for k, pos in enumerate(positions):
        info: dict[str, Any] = {"md_step": k}
        if dt_fs is not None:
            info["md_time_fs"] = (k + 1) * dt_fs  # the dataset's convention: frame k is after step k + 1
        yield (cell[k] if cell.ndim == 3 else cell), pos, numbers, info


def on_one_grid(frames: Iterable[xr.Dataset], *, shape: Any = None, spacing: float = 0.12) -> list[xr.Dataset]:
    """Frames of :func:`read_trajectory` on one grid: ``shape``, else the one of ``spacing`` (Å) for the first
    frame's cell, for every frame (a cell that changes keeps its grid points, so the fields line up).

    Examples
    --------
    >>> frames = [grid.make_structure(np.eye(3) * 4, [[0, 0, 0], [d, 0, 0]], [1, 1]) for d in (0.7, 0.8)]
    >>> [grid.grid_shape(f) for f in on_one_grid(frames, spacing=0.2)]
    [(20, 20, 20), (20, 20, 20)]
    """
    out: list[xr.Dataset] = []
    for frame in frames:
        cell = frame[keys.CELL].values
        if shape is None:
            shape = grid.shape_for_spacing(cell, spacing)
        out.append(grid.make_dataset(cell, frame[keys.POSITIONS].values, frame[keys.NUMBERS].values, shape=shape,
                                     source=str(frame.attrs.get("source", "structure")),
                                     attrs=grid.structure_attrs(dict(frame.attrs)) | _frame_attrs(frame.attrs),
                                     check_overlap=False))
    return out


def _frame_attrs(attrs: Mapping[str, Any]) -> dict[str, Any]:
    return {key: attrs[key] for key in ("frame_index", "trajectory", "md_step", "md_time_fs") if key in attrs}
