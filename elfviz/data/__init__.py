"""Where elfviz's frames live: a small example set inside the package, the full dataset beside it.

===================  ===============================================================================
:func:`examples_path`  Bundled in the package (and the wheel): 4 held-out liquid frames per density and
                       the crystal frames, each with its DFT reference ELF (``examples/``, a FrameCollection),
                       and a 24-frame MD trajectory (:func:`example_trajectory_path`).
:func:`dataset_path`   The full training/evaluation dataset (~112 MB, 455 frames, MD trajectories), kept
                       in the repository's top-level ``data/dataset`` and not shipped in the wheel.
                       Looked up in ``$ELFVIZ_DATASET``, then in the source checkout elfviz runs from.
:func:`frames_path`    The full dataset when present, else the examples: what the dashboard, notebooks
                       and ``@dataset`` screening inputs use.
===================  ===============================================================================

Examples
--------
>>> from elfviz.io.store import FrameCollection
>>> examples = FrameCollection(examples_path())
>>> sorted(set(examples.index["phase"]))
['C2c-12', 'C2c-24', 'Cmca-12', 'Cmca-4', 'I41amd', 'liquid']
"""

from __future__ import annotations

import os
from pathlib import Path

from ..errors import DataNotFoundError

DATA_DIR = Path(__file__).resolve().parent

DATASET_ENV = "ELFVIZ_DATASET"
"""Environment variable naming the full dataset folder (the one holding ``index.csv``)."""

CHECKOUT_DATASET = DATA_DIR.parents[1] / "data" / "dataset"
"""Where a source checkout keeps the full dataset (``<repository>/data/dataset``)."""


def examples_path() -> Path:
    """Folder of the bundled example frames (``index.csv``, ``frames/``; see ``examples/README.md``)."""
    return DATA_DIR / "examples"


def example_trajectory_path() -> Path:
    """The bundled MD trajectory: 24 frames, 2.5 fs apart, of the held-out 1500 K run at rs 1.47 bohr (extxyz)."""
    return examples_path() / "trajectory-rs1.47.xyz"


def dataset_path() -> Path:
    """Folder of the full dataset (``index.csv``, ``frames/``, ``md/``; see ``data/DATASHEET.md``).

    Raises
    ------
    DataNotFoundError
        When neither ``$ELFVIZ_DATASET`` nor the source checkout holds it (e.g. elfviz installed from a
        wheel); the message says how to get it.
    """
    named = os.environ.get(DATASET_ENV)
    if named:
        path = Path(named).expanduser()
        if not (path / "index.csv").is_file():
            raise DataNotFoundError(f"${DATASET_ENV} = {named} holds no dataset (no index.csv there); point it at "
                                    "the folder with index.csv and frames/, e.g. <repository>/data/dataset")
        return path
    if (CHECKOUT_DATASET / "index.csv").is_file():
        return CHECKOUT_DATASET
    raise DataNotFoundError(
        "the training/evaluation dataset is not installed with elfviz (the wheel ships only the examples, "
        f"elfviz.data.examples_path()); clone the repository (it is in data/dataset), set {DATASET_ENV} to "
        "its folder, give the path explicitly (e.g. --data), or build one with `elfviz dataset build`")


def has_dataset() -> bool:
    """True when :func:`dataset_path` finds the full dataset."""
    try:
        dataset_path()
    except DataNotFoundError:
        return False
    return True


def frames_path() -> Path:
    """The full dataset when it is there, else the bundled examples."""
    return dataset_path() if has_dataset() else examples_path()
