"""Radially averaged autocorrelation of a periodic field and the correlation length derived from it.

Definition (see also :mod:`elfviz.analysis.spectra`): ``C(d) = mean_r f~(r) f~(r + d)`` for the mean-free
field ``f~``, obtained exactly from the power spectrum by one inverse FFT (Wiener-Khinchin), averaged over
grid displacements in radial bins (minimum-image distances, any cell shape) and normalised to
``C(0) = 1``. The correlation length is the first distance at which it drops below ``1/e``.
"""

from __future__ import annotations

import logging
import math

import numpy as np
import xarray as xr

from .. import grid
from ..errors import GridError
from ..grid import fourier

log = logging.getLogger(__name__)


# ----------------------------------------------------------------------------- autocorrelation
def minimum_image_displacements(cell, shape) -> np.ndarray:
    """Length (Å) of the shortest periodic image of every grid displacement, shape ``(na, nb, nc)``."""
    cell_arr = grid.as_cell(cell)
    na, nb, nc = grid.check_shape(shape)
    ha, hb, hc = fourier.frequency_indices((na, nb, nc))
    fa, fb, fc = ha / na, hb / nb, hc / nc
    best = np.full((na, nb, nc), np.inf)
    for s1 in (-1, 0, 1):
        for s2 in (-1, 0, 1):
            for s3 in (-1, 0, 1):
                x = (
                    (fa + s1)[:, None, None, None] * cell_arr[0]
                    + (fb + s2)[None, :, None, None] * cell_arr[1]
                    + (fc + s3)[None, None, :, None] * cell_arr[2]
                )
                np.minimum(best, np.sqrt(np.einsum("...i,...i->...", x, x)), out=best)
    return best


def radial_autocorrelation(
    ds, *, field: str = "residual", cell=None, bin_width: float | None = None
) -> xr.Dataset:
    """Radially averaged, normalised autocorrelation ``C(d)/C(0)`` of the mean-free field.

    Parameters
    ----------
    bin_width : float, optional
        Radial bin width in Å; default the largest grid spacing along a lattice vector.

    Returns
    -------
    xarray.Dataset
        dim ``r`` (bin centre, Å) with ``correlation`` (1 at r = 0) and ``count``; only distances up to
        half the smallest cell width (beyond that, periodic images make the average ambiguous).
    """
    values, cell_arr = _field_and_cell(ds, field, cell)
    shape = values.shape
    coeffs = fourier.fourier_coefficients(values)
    coeffs[0, 0, 0] = 0.0
    autocov = fourier.from_fourier_coefficients(np.abs(coeffs) ** 2, shape)  # C(d) = sum_G P(G) e^{iG.d}
    if autocov[0, 0, 0] <= 0:
        raise GridError(
            f"field '{field}' is constant: its autocorrelation (and correlation length) is undefined"
        )
    distance = minimum_image_displacements(cell_arr, shape)
    spacing = np.linalg.norm(cell_arr, axis=1) / np.asarray(shape)
    width = float(spacing.max()) if bin_width is None else float(bin_width)
    volume = grid.cell_volume(cell_arr)
    r_limit = 0.5 * min(
        volume / np.linalg.norm(np.cross(cell_arr[(i + 1) % 3], cell_arr[(i + 2) % 3])) for i in range(3)
    )
    index = np.rint(distance / width).astype(np.int64).ravel()
    n_bins = int(math.floor(r_limit / width)) + 1
    inside = index < n_bins
    sums = np.bincount(index[inside], weights=autocov.ravel()[inside], minlength=n_bins)
    counts = np.bincount(index[inside], minlength=n_bins)
    with np.errstate(invalid="ignore", divide="ignore"):
        corr = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan) / autocov[0, 0, 0]
    corr[0] = 1.0  # the r = 0 bin holds d = 0 (and, on very anisotropic grids, displacements < width/2)
    r = np.arange(n_bins) * width
    valid = counts > 0
    valid[0] = True
    return xr.Dataset(
        {"correlation": ("r", corr[valid]), "count": ("r", counts[valid])},
        coords={"r": ("r", r[valid], {"units": "angstrom"})},
        attrs={"field": field, "bin_width": width, "r_limit": r_limit},
    )


def correlation_length(ds, *, field: str = "residual", cell=None, bin_width: float | None = None) -> float:
    """Correlation length (Å): first distance where the radial autocorrelation drops below ``1/e``.

    See the module docstring for the definition; NaN if it does not drop below ``1/e`` within half the
    cell's smallest width.

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> noise = rng.normal(size=(16, 16, 16))
    >>> correlation_length(noise, cell=np.eye(3) * 4.0) < 0.25  # white noise: below one grid spacing
    True
    """
    acf = radial_autocorrelation(ds, field=field, cell=cell, bin_width=bin_width)
    r = acf["r"].values
    c = acf["correlation"].values
    below = np.nonzero(c < 1.0 / math.e)[0]
    if len(below) == 0:
        log.info(
            "autocorrelation of '%s' stays above 1/e up to %.2f Å (half the cell width): correlation "
            "length not measurable in this cell",
            field,
            acf.attrs["r_limit"],
        )
        return float("nan")
    i = int(below[0])
    if i == 0:  # cannot happen (C(0) = 1) but keep the interpolation safe
        return 0.0
    r0, r1, c0, c1 = r[i - 1], r[i], c[i - 1], c[i]
    target = 1.0 / math.e
    return float(r0 + (c0 - target) * (r1 - r0) / (c0 - c1))


def _field_and_cell(ds, field, cell):
    from .spectra import field_and_cell

    return field_and_cell(ds, field, cell)
