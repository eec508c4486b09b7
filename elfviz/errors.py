"""The one error family of elfviz.

Every error a user can cause (bad file, bad structure, bad grid, missing engine) is an
:class:`ElfvizError` subclass whose message says what is wrong and what to do about it.
The CLI prints the message without a traceback and exits non-zero.
"""

from __future__ import annotations


class ElfvizError(Exception):
    """Base class of all errors elfviz raises on purpose."""


class FileFormatError(ElfvizError):
    """A file is empty, unreadable, of an unknown format, or inconsistent with its header."""


class StructureError(ElfvizError):
    """A structure cannot be used: no cell, not periodic, NaN coordinates, overlapping atoms..."""


class GridError(ElfvizError):
    """A grid shape, spacing or field is invalid (wrong shape, NaN, ELF outside [0, 1], ...)."""


class SpeciesError(StructureError):
    """A structure holds species the requested operation cannot handle (e.g. non-hydrogen atoms)."""


class EngineError(ElfvizError):
    """A first-principles engine is missing, failed, or did not converge."""


class ModelError(ElfvizError):
    """The ELF model cannot be loaded or applied."""


class OutputError(ElfvizError):
    """An output cannot be written: its folder is not writable, or it names a folder."""


class OutputExistsError(OutputError):
    """Refusing to overwrite an existing file without ``force=True`` / ``--force``."""


class DataNotFoundError(ElfvizError):
    """The training/evaluation dataset (not shipped in the wheel) is not where elfviz looks for it."""


class ResourceError(ElfvizError):
    """A job would need more memory than allowed (checked before anything is allocated)."""
