"""The module paths and names that moved in elfviz 0.2, kept working for one release with a warning.

Each old module path is a file of two lines that calls :func:`alias`; :func:`attribute` serves the names a
package re-exported from a module that moved (its ``__getattr__``). Both find the new home by name, so nothing
here imports the moved code until an old path is used.
"""

from __future__ import annotations

import importlib
import sys
import warnings
from typing import Any


def alias(name: str, old: str, new: str, *, program: str | None = None) -> None:
    """Make the module ``old`` (whose ``__name__`` is ``name``) the module ``new``, with a DeprecationWarning.

    Run as a program (``python -m old``, ``name == "__main__"``), it says where the program went and runs
    ``program``'s ``main()`` instead.
    """
    warnings.warn(f"{old} moved to {new}; import it from there", DeprecationWarning, stacklevel=3)
    module = importlib.import_module(new)
    if name == "__main__" and program is not None:
        print(f"note: `python -m {old}` is now `python -m {program}`", file=sys.stderr)
        sys.exit(importlib.import_module(program).main())
    sys.modules[name] = module


def attribute(old_module: str, name: str, new_module: str) -> Any:
    """``new_module.name``, with a DeprecationWarning that ``old_module.name`` moved there."""
    warnings.warn(f"{old_module}.{name} moved to {new_module}.{name}; import it from there", DeprecationWarning,
                  stacklevel=3)
    return getattr(importlib.import_module(new_module), name)
