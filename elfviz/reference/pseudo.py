"""Locate the norm-conserving hydrogen pseudopotential ``H_HSCV_PBE-1.0.UPF``.

The reference convention uses the Hamann-Schlüter-Chiang-Vanderbilt norm-conserving PBE potential
(PSGen, rc = 0.5 bohr). The PAW file ``H.pbe-kjpaw.UPF`` that Debian installs in
``/usr/share/espresso/pseudo`` gives a different ELF within 0.5 bohr of the protons and is not used.

Search order: the ``ELFVIZ_PSEUDO_DIR`` environment variable, ``$CONDA_PREFIX/share/espresso/pseudo``,
``/usr/share/espresso/pseudo``, then Debian's gzipped copy in the quantum-espresso documentation examples,
which is decompressed once into ``~/.cache/elfviz/pseudo``.
"""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path

from ..errors import EngineError

PSEUDO_NAME = "H_HSCV_PBE-1.0.UPF"

_DEBIAN_GZ = Path("/usr/share/doc/quantum-espresso/examples/CPV/EXX-wf-example/H_HSCV_PBE-1.0.UPF.gz")


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "elfviz" / "pseudo"


def find_pseudopotential(explicit: str | os.PathLike | None = None) -> Path:
    """Path of the hydrogen pseudopotential file.

    Parameters
    ----------
    explicit : path-like, optional
        A UPF file given by the user; must exist.

    Raises
    ------
    EngineError
        If no copy is found, with the ways to get one.
    """
    if explicit is not None:
        path = Path(explicit)
        if not path.is_file():
            raise EngineError(f"pseudopotential {path} does not exist")
        return path
    candidates = []
    if os.environ.get("ELFVIZ_PSEUDO_DIR"):
        candidates.append(Path(os.environ["ELFVIZ_PSEUDO_DIR"]) / PSEUDO_NAME)
    if os.environ.get("CONDA_PREFIX"):
        candidates.append(Path(os.environ["CONDA_PREFIX"]) / "share" / "espresso" / "pseudo" / PSEUDO_NAME)
    candidates += [Path("/usr/share/espresso/pseudo") / PSEUDO_NAME, cache_dir() / PSEUDO_NAME]
    for path in candidates:
        if path.is_file():
            return path
    if _DEBIAN_GZ.is_file():
        target = cache_dir() / PSEUDO_NAME
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = target.with_suffix(".part")
        with gzip.open(_DEBIAN_GZ, "rb") as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst)
        os.replace(tmp, target)
        return target
    raise EngineError(
        f"the norm-conserving hydrogen pseudopotential {PSEUDO_NAME} was not found. On Debian/Ubuntu run "
        "`apt-get install quantum-espresso-data` (it ships the file gzipped under "
        "/usr/share/doc/quantum-espresso/examples); otherwise download it from the Quantum ESPRESSO "
        "pseudopotential library and set ELFVIZ_PSEUDO_DIR to its folder")
