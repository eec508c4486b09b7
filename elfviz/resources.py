"""Memory bounds: estimate what a job will allocate and refuse, before allocating, what would not fit.

The limit is ``--max-memory`` on the command line (or ``max_memory=`` in Python), else
``$ELFVIZ_MAX_MEMORY``, else 80 % of the memory available now (``MemAvailable`` on Linux).

Examples
--------
>>> parse_size("1.5G"), parse_size("512M"), parse_size(2048)
(1500000000, 512000000, 2048)
>>> check_fits(10**6, "a small job", max_memory="1G")
>>> check_fits(10**12, "predicting on a 5000x5000x5000 grid", max_memory="8G", advice="use a coarser grid")
Traceback (most recent call last):
...
elfviz.errors.ResourceError: predicting on a 5000x5000x5000 grid needs about 1.0 TB of memory, more than the ...
"""

from __future__ import annotations

import os
import re

from .errors import ResourceError

MAX_MEMORY_ENV = "ELFVIZ_MAX_MEMORY"
AVAILABLE_FRACTION = 0.8
_UNITS = {"": 1, "K": 10**3, "M": 10**6, "G": 10**9, "T": 10**12, "KI": 2**10, "MI": 2**20, "GI": 2**30,
          "TI": 2**40}


def parse_size(text: str | int | float) -> int:
    """Bytes from ``"16G"``, ``"512M"``, ``"2GiB"``, ``"1e9"`` or a number (decimal units; ``Gi`` binary).

    Raises
    ------
    ResourceError
        For anything else (the message gives examples).
    """
    if isinstance(text, (int, float)) and not isinstance(text, bool):
        value = float(text)
    else:
        match = re.fullmatch(r"\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*([kKmMgGtT]?[iI]?)[bB]?\s*", str(text))
        if not match:
            raise ResourceError(f"cannot read the memory size {text!r}; write e.g. 16G, 512M or 2GiB")
        value = float(match[1]) * _UNITS[match[2].upper()]
    if not value > 0 or value != value:
        raise ResourceError(f"the memory size must be positive, got {text!r}")
    return int(value)


def available_bytes() -> int | None:
    """Memory available to new allocations now (Linux ``MemAvailable``), or None where unknown."""
    try:
        with open("/proc/meminfo") as meminfo:
            for line in meminfo:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return int(os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE"))
    except (ValueError, OSError, AttributeError):
        return None


def memory_limit(max_memory: str | int | float | None = None) -> tuple[int | None, str]:
    """``(bytes, where the limit comes from)``; bytes None when nothing is known (no check then)."""
    if max_memory is not None:
        return parse_size(max_memory), "--max-memory"
    named = os.environ.get(MAX_MEMORY_ENV)
    if named:
        return parse_size(named), f"${MAX_MEMORY_ENV}"
    available = available_bytes()
    if available is None:
        return None, ""
    return int(AVAILABLE_FRACTION * available), "80 % of the memory available now; --max-memory"


def format_bytes(n: float) -> str:
    """``1.0 TB``, ``8.0 GB``, ``512 MB`` (decimal units).

    Examples
    --------
    >>> format_bytes(1.5e9), format_bytes(3e5)
    ('1.5 GB', '300.0 kB')
    """
    for unit, size in (("TB", 1e12), ("GB", 1e9), ("MB", 1e6)):
        if n >= size:
            return f"{n / size:.1f} {unit}"
    return f"{n / 1e3:.1f} kB"


def check_fits(nbytes: float, what: str, *, max_memory: str | int | float | None = None,
               advice: str = "use a coarser grid (larger --spacing or smaller --grid)") -> None:
    """Raise :class:`ResourceError` when ``nbytes`` (an estimate) exceeds the memory limit.

    Parameters
    ----------
    nbytes : float
        Estimated peak memory of the job, bytes.
    what : str
        The job, for the message (e.g. ``"predicting the ELF on a 512x512x512 grid"``).
    max_memory : str or number, optional
        The limit (see :func:`memory_limit`).
    advice : str
        What to do instead.
    """
    limit, source = memory_limit(max_memory)
    if limit is None or nbytes <= limit:
        return
    raise ResourceError(f"{what} needs about {format_bytes(nbytes)} of memory, more than the "
                        f"{format_bytes(limit)} allowed ({source}); {advice}, or raise --max-memory if this "
                        "machine has the memory")
