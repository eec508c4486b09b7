"""Data shipped with elfviz: the dense-hydrogen ELF dataset (a FrameCollection) and its build config."""

from __future__ import annotations

from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent


def dataset_path() -> Path:
    """Folder of the bundled dataset (``index.csv``, ``frames/``, ``md/``; see ``DATASHEET.md``)."""
    return DATA_DIR / "dataset"


def dataset_config_path() -> Path:
    """The TOML config the bundled dataset was built from (``elfviz dataset build``)."""
    return DATA_DIR / "dataset.toml"
