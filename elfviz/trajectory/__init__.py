"""ELF along an MD trajectory: predict every frame, its networking value phi, phi*, components and H2 molecules.

Public API
----------
:func:`read_trajectory`
    The frames of an MD trajectory (extended XYZ, ASE .traj, XDATCAR, pw.x output, LAMMPS dump, elfviz MD
    ``.npz``) as structure-only Datasets, checked (hydrogen only, one atom count) and read lazily.
:func:`read_trajectory_bytes`
    The same for a trajectory held in memory (an upload), parsed without writing a file.
:func:`on_one_grid`
    Frames on one grid (for fields that line up frame by frame).
:func:`scan_trajectory`
    One checking pass: frame indices, cells and times of the selected frames (:class:`TrajectoryScan`).
:func:`analyse_trajectory`
    Predict and analyse every frame; a Dataset over ``frame`` (with a ``time`` coordinate in fs), written to a
    netCDF file resumably and streaming, or kept in memory.
:func:`analyse_frame`, :func:`frame_numbers`
    The same for one frame / one predicted field, without files.
:func:`molecular_fraction`, :func:`molecule_components`
    H2 molecules at an isovalue: two-atom components of ``{ELF >= t}`` that do not wrap around the cell.
:func:`frame_dataset`
    One frame of a trajectory Dataset (or file) back as an elfviz Dataset with its ``elf``.

Imports no torch: the predictor is passed in.
"""

from .analyse import DEFAULT_ISOVALUE, analyse_frame, analyse_trajectory
from .per_frame import FRAME_NUMBERS, frame_numbers, molecular_fraction, molecule_components
from .reading import (
                      TRAJECTORY_FORMATS,
                      TrajectoryScan,
                      on_one_grid,
                      read_trajectory,
                      read_trajectory_bytes,
                      scan_trajectory,
)
from .records import frame_dataset
from .run_folder import RunFolder

__all__ = [
    "DEFAULT_ISOVALUE",
    "FRAME_NUMBERS",
    "TRAJECTORY_FORMATS",
    "RunFolder",
    "TrajectoryScan",
    "analyse_frame",
    "analyse_trajectory",
    "frame_dataset",
    "frame_numbers",
    "molecular_fraction",
    "molecule_components",
    "on_one_grid",
    "read_trajectory",
    "read_trajectory_bytes",
    "scan_trajectory",
]
