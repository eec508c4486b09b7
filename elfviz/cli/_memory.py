"""The ``--max-memory`` option shared by the commands that allocate grids (see :mod:`elfviz.resources`)."""

from __future__ import annotations

import argparse
import math

from ..resources import check_fits

DFT_BYTES_PER_POINT = 600
"""Rough peak of pw.x + pp.x per point of the dense FFT grid (about 35 complex work arrays), bytes."""

ANALYSIS_BYTES_PER_POINT = 48
"""Peak of the percolation sweep per grid point (field, order, labels, union-find), bytes."""


def add_max_memory(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--max-memory", default=None, metavar="SIZE",
                        help="refuse jobs estimated to need more memory than SIZE (e.g. 16G; default "
                             "$ELFVIZ_MAX_MEMORY or 80%% of the memory available now)")


def check_grid(shape, bytes_per_point: float, what: str, max_memory, advice: str | None = None) -> None:
    """Refuse ``what`` on ``shape`` when ``bytes_per_point`` times its points exceed the limit."""
    points = math.prod(int(n) for n in shape)
    check_fits(points * bytes_per_point, f"{what} on a {'x'.join(map(str, shape))} grid ({points:,} points)",
               max_memory=max_memory,
               **({"advice": advice} if advice else {}))
