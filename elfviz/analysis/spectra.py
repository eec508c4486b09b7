"""Radially averaged power spectra of residual fields, low-|G| variance fractions and correlation lengths.

Definitions (used everywhere in elfviz)
---------------------------------------
Power per mode
    ``P(G) = |F(G)|^2`` with ``F(G) = (1/N) sum_r f(r) exp(-i G.r)`` over the ``N`` grid points, for every
    wavevector ``G = m1 b1 + m2 b2 + m3 b3`` of the FFT grid (signed frequencies, any cell shape; see
    :mod:`elfviz.grid.fourier`). ``G = 0`` (the mean) is excluded, so by Parseval
    ``sum_{G != 0} P(G) = var(f)``, the population variance of the field over the grid.
Shells
    Shell ``j`` holds the modes with ``|G|`` in ``[(j - 1/2) w, (j + 1/2) w)`` and is centred on
    ``k_j = j w`` (Å^-1). The default width ``w`` is the *largest* reciprocal lattice vector length
    ``max_i |b_i|``: the modes ``m b_i`` along that vector sit exactly on the shell centres, so every shell
    up to that axis' Nyquist frequency holds at least one mode (no empty shells, no aliasing between
    shells), for skewed cells too. Beyond :func:`~elfviz.grid.fourier.nyquist_g` the shells are only
    partly filled (corners of the FFT box); the attribute ``k_isotropic`` records that limit.
Spectrum variables
    ``power(k)``: the summed power of the shell (sums to the variance over all shells; the quantity to
    compare between cells because it does not depend on how many modes a cell has per shell once divided
    by ``w``: ``power_density = power / w`` is in field^2 Å); ``mean_power(k)``: the average ``P`` per mode
    in the shell (flat for white noise); ``n_modes(k)``: the number of modes.
Low-|G| variance fraction
    ``sum_{0 < |G| < k_cut} P(G) / var(f)``, computed mode by mode (not from shells). Default cut
    :data:`K_BOND` ``= 2π / 0.74 Å``: wavelengths longer than the H-H bond.
Correlation length
    The e-folding length of the radially averaged autocorrelation: ``C(d) = mean_r f~(r) f~(r + d)`` for the
    mean-free field ``f~``, obtained exactly from the power spectrum (Wiener-Khinchin, one inverse FFT),
    averaged over grid displacements ``d`` in radial bins of one grid spacing (minimum-image distances,
    any cell shape), normalised to ``C(0) = 1``; the correlation length is the first ``|d|`` at which it
    drops below ``1/e`` (linear interpolation between bins). A field whose power spectrum is
    ``exp(-|G|^2 s^2)`` has ``C(d) = exp(-d^2 / 4 s^2)`` and correlation length ``2 s``. If the
    autocorrelation stays above ``1/e`` out to half the cell's smallest width, the length cannot be
    measured in that cell and NaN is returned (with a log message).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable

import numpy as np
import xarray as xr

from .. import grid
from ..errors import GridError
from ..grid import fourier, keys
from .autocorrelation import correlation_length

log = logging.getLogger(__name__)

H2_BOND_ANGSTROM = 0.74
"""H-H bond length of the H2 molecule, Å."""

K_BOND = 2.0 * math.pi / H2_BOND_ANGSTROM
"""|G| (Å^-1) of a wave whose wavelength is the H-H bond length; the default low-|G| cut (8.49 Å^-1)."""


# ----------------------------------------------------------------------------- inputs
def field_and_cell(ds_or_field, field: str = "residual", cell=None) -> tuple[np.ndarray, np.ndarray]:
    """The field values (float64) and cell (Å) of an elfviz Dataset, or of a bare array plus ``cell``."""
    if isinstance(ds_or_field, xr.Dataset):
        if field not in ds_or_field:
            fields = grid.field_names(ds_or_field)
            raise GridError(
                f"the Dataset has no field '{field}' (fields: {fields}); build residuals with "
                "elfviz.analysis.residual_dataset(ref, pred) or pass field=..."
            )
        values = ds_or_field[field].transpose(*grid.GRID_DIMS).values
        cell_arr = grid.as_cell(ds_or_field[keys.CELL].values if cell is None else cell)
    else:
        values = ds_or_field.values if isinstance(ds_or_field, xr.DataArray) else ds_or_field
        if cell is None:
            raise GridError(
                "a bare array has no cell: pass cell=(3x3 lattice vectors in Å) or an elfviz Dataset"
            )
        cell_arr = grid.as_cell(cell)
    values = np.asarray(values, dtype=np.float64)
    if values.ndim != 3:
        raise GridError(f"expected a 3-D field on the (a, b, c) grid, got shape {values.shape}")
    grid.check_shape(values.shape)
    if not np.all(np.isfinite(values)):
        raise GridError("the field contains NaN or infinite values; its spectrum is undefined")
    return values, cell_arr


def default_shell_width(cell) -> float:
    """Default shell width (Å^-1): the largest reciprocal lattice vector length ``max_i |b_i|``."""
    return float(np.linalg.norm(grid.reciprocal_cell(cell), axis=1).max())


def mode_power(values: np.ndarray, cell) -> tuple[np.ndarray, np.ndarray]:
    """``|G|`` (Å^-1) and the power ``P(G)`` of every ``rfftn`` coefficient, weighted by its multiplicity.

    ``P`` is zero at ``G = 0`` (the mean is not variance), so ``P.sum()`` equals the field's variance.
    """
    coeffs = fourier.fourier_coefficients(values)
    power = np.abs(coeffs) ** 2 * fourier.rfft_multiplicity(values.shape)
    power[0, 0, 0] = 0.0
    return fourier.rfft_gnorm(cell, values.shape), power


# ----------------------------------------------------------------------------- spectrum
def _shells(gnorm: np.ndarray, power: np.ndarray, shape, width: float) -> tuple[np.ndarray, np.ndarray]:
    """Summed power and mode count of the shells ``|G|`` in ``[(j - 1/2) w, (j + 1/2) w)``, ``j = 0, 1, ...``."""
    shell = np.rint(gnorm / width).astype(np.int64).ravel()
    n_shells = int(shell.max()) + 1
    weight = np.broadcast_to(fourier.rfft_multiplicity(shape), gnorm.shape).ravel().copy()
    weight[0] = 0.0  # G = 0 is not a mode of the variance
    shell_power = np.bincount(shell, weights=power.ravel(), minlength=n_shells)
    n_modes = np.bincount(shell, weights=weight, minlength=n_shells)
    return shell_power, n_modes


def rebin_shells(values: np.ndarray, width: float, common_width: float, n_common: int) -> np.ndarray:
    """Redistribute per-shell sums (power or mode counts) from shells of ``width`` onto ``common_width`` ones.

    The cumulative sum is known exactly at the frame's own shell edges ``(j + 1/2) width`` (and is 0 at
    ``|G| = 0``); it is interpolated linearly in between (a uniform density inside each own shell) and
    read at the common shell edges ``(j +- 1/2) common_width`` (the first clipped at 0). Differences of a
    cumulative sum telescope, so the common shells sum to the same total (Parseval is kept exactly) as long
    as the common shells reach past the frame's last own shell. Where the edges coincide
    (``width == common_width``) the shells are returned unchanged.

    Parameters
    ----------
    values : numpy.ndarray
        Sums over the frame's own shells, centred on ``j * width`` (Å^-1).
    width, common_width : float
        Own and common shell widths (Å^-1).
    n_common : int
        Number of common shells (centred on ``j * common_width``, ``j = 0 .. n_common - 1``).

    Returns
    -------
    numpy.ndarray
        Shape ``(n_common,)``.

    Examples
    --------
    >>> rebin_shells(np.array([0.0, 4.0, 2.0]), 2.0, 1.0, 6).tolist()  # own edges 1, 3, 5
    [0.0, 1.0, 2.0, 1.5, 1.0, 0.5]
    """
    values = np.asarray(values, dtype=float)
    if width == common_width and n_common >= len(values):  # same shells: no round-off from differencing
        return np.concatenate([values, np.zeros(n_common - len(values))])
    edges_own = np.concatenate([[0.0], (np.arange(len(values)) + 0.5) * width])
    cumulative = np.concatenate([[0.0], np.cumsum(values)])
    edges = np.clip((np.arange(n_common + 1) - 0.5) * common_width, 0.0, None)
    return np.diff(np.interp(edges, edges_own, cumulative))


def radial_power_spectrum(
    ds, field: str = "residual", shell_width: float | None = None, *, cell=None, k_max: float | None = None
) -> xr.Dataset:
    """Radially averaged power spectrum of a periodic field (see the module docstring for definitions).

    Parameters
    ----------
    ds : xarray.Dataset or array_like
        An elfviz Dataset holding ``field``, or a bare ``(na, nb, nc)`` array together with ``cell``.
    field : str
        Field to analyse (default ``"residual"``).
    shell_width : float, optional
        Shell width in Å^-1; default the largest reciprocal lattice vector length.
    cell : array_like, optional
        Lattice vectors (Å); only for bare arrays.
    k_max : float, optional
        Drop shells centred above this |G| (Å^-1); the variance attribute still covers all modes.

    Returns
    -------
    xarray.Dataset
        dim ``k`` (shell centre, Å^-1) with ``power``, ``power_density``, ``mean_power``, ``n_modes``;
        attrs ``shell_width``, ``variance``, ``mean``, ``k_isotropic`` (Å^-1), ``field``.

    Examples
    --------
    >>> cell = np.eye(3) * 4.0
    >>> x = np.arange(16) / 16
    >>> wave = np.cos(2 * np.pi * 3 * x)[:, None, None] * np.ones((16, 16, 16))
    >>> spec = radial_power_spectrum(wave, cell=cell)
    >>> float(spec.power.idxmax()) == 3 * 2 * np.pi / 4.0, round(float(spec.power.sum()), 6)
    (True, 0.5)
    """
    values, cell_arr = field_and_cell(ds, field, cell)
    width = default_shell_width(cell_arr) if shell_width is None else float(shell_width)
    if not (width > 0 and math.isfinite(width)):
        raise GridError(f"shell_width must be a positive number of Å^-1, got {shell_width}")
    gnorm, power = mode_power(values, cell_arr)
    shell_power, n_modes = _shells(gnorm, power, values.shape, width)
    n_shells = len(shell_power)
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_power = np.where(n_modes > 0, shell_power / np.maximum(n_modes, 1), np.nan)
    k = np.arange(n_shells) * width
    keep = slice(None) if k_max is None else (k <= k_max)
    variance = float(power.sum())
    out = xr.Dataset(
        {
            "power": (
                "k",
                shell_power[keep],
                {"units": "field^2", "long_name": "shell power (sums to variance)"},
            ),
            "power_density": (
                "k",
                shell_power[keep] / width,
                {"units": "field^2 angstrom", "long_name": "shell power per unit |G|"},
            ),
            "mean_power": ("k", mean_power[keep], {"units": "field^2", "long_name": "mean power per mode"}),
            "n_modes": ("k", n_modes[keep].astype(np.int64), {"long_name": "modes in the shell"}),
        },
        coords={"k": ("k", k[keep], {"units": "angstrom^-1", "long_name": "|G| at shell centre"})},
        attrs={
            "field": field,
            "shell_width": width,
            "variance": variance,
            "mean": float(values.mean()),
            "k_isotropic": fourier.nyquist_g(cell_arr, values.shape),
        },
    )
    if isinstance(ds, xr.Dataset):  # keep the frame's metadata, so one spectrum plots like many
        for key in ("frame_id", "pressure_gpa", "rs_bohr", "phase", "temperature_k"):
            if key in ds.attrs:
                out.attrs[key] = ds.attrs[key]
    return out


def lowk_variance_fraction(ds, k_cut: float = K_BOND, *, field: str = "residual", cell=None) -> float:
    """Fraction of a field's variance carried by modes with ``0 < |G| < k_cut`` (Å^-1).

    Parameters
    ----------
    ds : xarray.Dataset or array_like
        An elfviz Dataset with ``field`` (exact, mode by mode), a bare array with ``cell``, or a spectrum
        from :func:`radial_power_spectrum` (then shells with centre ``k < k_cut`` are summed, so the cut is
        only as sharp as the shell width).
    k_cut : float
        Cut in Å^-1; default :data:`K_BOND` (wavelengths longer than the H-H bond, 0.74 Å).

    Returns
    -------
    float
        In [0, 1]; NaN for a constant field (no variance).

    Examples
    --------
    >>> x = np.arange(16) / 16
    >>> f = np.cos(2 * np.pi * x)[:, None, None] + np.cos(2 * np.pi * 6 * x)[None, :, None]
    >>> round(lowk_variance_fraction(f * np.ones((16, 16, 16)), k_cut=5.0, cell=np.eye(3) * 4.0), 6)
    0.5
    """
    if isinstance(ds, xr.Dataset) and "power" in ds and "k" in ds.dims:
        total = float(ds["power"].sum())
        below = float(ds["power"].where(ds["k"] < k_cut, 0.0).sum())
        return below / total if total > 0 else float("nan")
    values, cell_arr = field_and_cell(ds, field, cell)
    return _lowk_fraction(*mode_power(values, cell_arr), k_cut)


def _lowk_fraction(gnorm: np.ndarray, power: np.ndarray, k_cut: float) -> float:
    total = float(power.sum())
    if total <= 0:
        return float("nan")
    return float(power[gnorm < k_cut].sum() / total)


def spectral_centroid(ds, *, field: str = "residual", cell=None) -> float:
    """Power-weighted mean ``|G|`` (Å^-1) of a field's fluctuations: ``sum |G| P(G) / sum P(G)``."""
    values, cell_arr = field_and_cell(ds, field, cell)
    return _centroid(*mode_power(values, cell_arr))


def _centroid(gnorm: np.ndarray, power: np.ndarray) -> float:
    total = float(power.sum())
    return float((gnorm * power).sum() / total) if total > 0 else float("nan")


def median_k(ds, *, field: str = "residual", cell=None) -> float:
    """``|G|`` (Å^-1) below which half of a field's variance lies (modes sorted by ``|G|``).

    ``2π / median_k`` is the "half-variance wavelength": half of the variance is in waves longer than it.

    Examples
    --------
    >>> x = np.arange(16) / 16
    >>> f = np.cos(2 * np.pi * x)[:, None, None] + 0.5 * np.cos(2 * np.pi * 6 * x)[None, :, None]
    >>> round(median_k(f * np.ones((16, 16, 16)), cell=np.eye(3) * 4.0), 4)  # the long wave has 80 %
    1.5708
    """
    values, cell_arr = field_and_cell(ds, field, cell)
    return _median_k(*mode_power(values, cell_arr))


def _median_k(gnorm: np.ndarray, power: np.ndarray) -> float:
    total = float(power.sum())
    if total <= 0:
        return float("nan")
    order = np.argsort(gnorm, axis=None, kind="stable")
    cumulative = np.cumsum(power.ravel()[order])
    return float(gnorm.ravel()[order][np.searchsorted(cumulative, 0.5 * total)])


# ----------------------------------------------------------------------------- over frames
FRAME_COORDS = ("pressure_gpa", "rs_bohr", "phase", "trajectory", "temperature_k", "split")

BINNINGS = {
    "own": "own shells per frame, redistributed linearly onto common shells (sums kept)",
    "modes": "every frame's modes binned directly on the common shells (empty shells have n_modes 0)",
}
"""``binning`` choices of :func:`spectra_over_frames` and the ``binning`` attribute each one records."""


def frame_coords(datasets: list[xr.Dataset], ids: list[str]) -> dict[str, tuple]:
    """Per-frame coordinates (``frame`` dim) from the frames' attrs: pressure, rs, phase, ..."""
    coords: dict[str, tuple] = {"frame": ("frame", ids)}
    for key in FRAME_COORDS:
        values = [ds.attrs.get(key) for ds in datasets]
        if all(v is None for v in values):
            continue
        if key in ("phase", "trajectory", "split"):
            coords[key] = ("frame", np.array(["" if v is None else str(v) for v in values], dtype=object))
        else:
            coords[key] = ("frame", np.array([np.nan if v is None else float(v) for v in values]))
    return coords


def frame_ids(datasets: list[xr.Dataset]) -> list[str]:
    """Frame labels: the ``frame_id`` attr where present, else the position in the list."""
    ids = [str(ds.attrs.get("frame_id", i)) for i, ds in enumerate(datasets)]
    if len(set(ids)) != len(ids):  # duplicated labels would break selection by frame
        ids = [f"{label}#{i}" for i, label in enumerate(ids)]
    return ids


def spectra_over_frames(
    datasets: Iterable[xr.Dataset],
    *,
    field: str = "residual",
    shell_width: float | None = None,
    k_cut: float = K_BOND,
    correlation: bool = True,
    binning: str = "own",
) -> xr.Dataset:
    """Residual spectra and scalar spectral measures of many frames on one common, fine ``k`` axis.

    Each frame is binned on its own shells (its default width, or ``shell_width`` if that is coarser, so
    none of its shells is empty) and its shell sums are redistributed onto the common shells through
    their cumulative sum (:func:`rebin_shells`): a small cell (e.g. the 2-atom I41amd cell, default width
    ~7 Å^-1) no longer sets the resolution of the 64-atom liquids (~1.5 Å^-1), and every frame's common
    shells still sum exactly to its variance (Parseval).

    Parameters
    ----------
    datasets : iterable of xarray.Dataset
        elfviz Datasets holding ``field`` (e.g. from :func:`~elfviz.analysis.residual_dataset`); their
        attrs ``pressure_gpa``, ``rs_bohr``, ``phase``, ``trajectory``, ``temperature_k``, ``split`` and
        ``frame_id`` become coordinates along ``frame``.
    field : str
        Field to analyse.
    shell_width : float, optional
        Common shell width (Å^-1); default the *smallest* of the frames' default widths (the finest
        resolution any frame supports without empty shells).
    k_cut : float
        Cut for ``lowk_fraction`` (Å^-1), default :data:`K_BOND`.
    correlation : bool
        Also compute ``correlation_length`` (one more FFT per frame).
    binning : {"own", "modes"}
        ``"own"`` (default): as above, each frame on its own shells, redistributed onto the common ones
        (no empty shells, but no finer than the frame's own width). ``"modes"``: every frame's Fourier modes
        are binned directly on the common shells of ``shell_width``, so a width finer than a cell's
        reciprocal lattice vectors resolves the cell's discrete ``|G|`` values instead of spreading one own
        shell's power uniformly; shells between them hold no modes (``n_modes`` 0, ``power`` 0,
        ``mean_power`` NaN). With ``shell_width = k_cut / (n + 1/2)`` the first ``n + 1`` shells hold exactly
        the modes below ``k_cut``, so they sum to ``lowk_fraction * variance``.

    Returns
    -------
    xarray.Dataset
        dims ``(frame, k)``: ``power`` (field^2, sums over ``k`` to ``variance``), ``power_density``
        (``power / shell_width``, field^2 Å), ``mean_power`` (mean power per mode, NaN where a frame has no
        modes), ``n_modes`` (modes per common shell, fractional where a frame's own shells are coarser);
        per frame: ``variance``, ``mean`` (the bias, for a residual), ``lowk_fraction``, ``k_centroid``,
        ``median_k``, ``k_isotropic``, ``k_max`` (largest ``|G|`` of the frame's grid) and
        ``frame_shell_width`` (its own resolution), all in Å^-1, and ``correlation_length`` (Å).
        ``ds.groupby("rs_bohr").mean()`` gives spectra per density. attrs ``shell_width`` (Å^-1),
        ``k_cut``, ``field``, ``binning``.

    Examples
    --------
    >>> from elfviz.grid import make_dataset
    >>> rng = np.random.default_rng(1)
    >>> def frame(p, a=3.0, n=8):
    ...     residual = rng.normal(size=(n, n, n))
    ...     return make_dataset(np.eye(3) * a, [[0, 0, 0]], [1], fields={"residual": residual},
    ...                         attrs={"pressure_gpa": p})
    >>> frames = [frame(100.0), frame(100.0), frame(200.0, a=6.0, n=16)]
    >>> spectra = spectra_over_frames(frames)
    >>> spectra.groupby("pressure_gpa").mean()["variance"].sizes["pressure_gpa"]
    2
    >>> round(spectra.attrs["shell_width"], 4), round(float(spectra["frame_shell_width"][0]), 4)
    (1.0472, 2.0944)
    >>> bool(np.allclose(spectra["power"].sum("k"), spectra["variance"]))
    True
    """
    datasets = list(datasets)
    if not datasets:
        raise GridError("no frames given to spectra_over_frames")
    if binning not in BINNINGS:
        raise GridError(f"binning must be one of {sorted(BINNINGS)}, got {binning!r}")
    fields = [field_and_cell(ds, field) for ds in datasets]
    defaults = [default_shell_width(cell) for _, cell in fields]
    width = min(defaults) if shell_width is None else float(shell_width)
    if not (width > 0 and math.isfinite(width)):
        raise GridError(f"shell_width must be a positive number of Å^-1, got {shell_width}")
    own = []  # (own width, shell power, shell modes) per frame
    scalars: dict[str, list[float]] = {name: [] for name in (
        "variance", "mean", "k_isotropic", "k_max", "frame_shell_width", "lowk_fraction", "k_centroid",
        "median_k")}
    for (values, cell), default in zip(fields, defaults, strict=True):
        gnorm, power = mode_power(values, cell)
        frame_width = max(default, width) if binning == "own" else width
        own.append((frame_width, *_shells(gnorm, power, values.shape, frame_width)))
        scalars["variance"].append(float(power.sum()))
        scalars["mean"].append(float(values.mean()))
        scalars["k_isotropic"].append(fourier.nyquist_g(cell, values.shape))
        scalars["k_max"].append(float(gnorm.max()))
        scalars["frame_shell_width"].append(frame_width)
        scalars["lowk_fraction"].append(_lowk_fraction(gnorm, power, k_cut))
        scalars["k_centroid"].append(_centroid(gnorm, power))
        scalars["median_k"].append(_median_k(gnorm, power))
    n_k = max(int(np.ceil((len(p) - 0.5) * w / width + 0.5)) for w, p, _ in own)
    power = np.stack([rebin_shells(p, w, width, n_k) for w, p, _ in own])
    n_modes = np.stack([rebin_shells(m, w, width, n_k) for w, _, m in own])
    with np.errstate(invalid="ignore", divide="ignore"):
        mean_power = np.where(n_modes > 0, power / np.where(n_modes > 0, n_modes, 1.0), np.nan)
    if correlation:
        scalars["correlation_length"] = [correlation_length(ds, field=field) for ds in datasets]
    units = {
        "variance": "field^2",
        "mean": "field",
        "k_isotropic": "angstrom^-1",
        "k_max": "angstrom^-1",
        "frame_shell_width": "angstrom^-1",
        "lowk_fraction": "1",
        "k_centroid": "angstrom^-1",
        "median_k": "angstrom^-1",
        "correlation_length": "angstrom",
    }
    data_vars = {
        "power": (("frame", "k"), power, {"units": "field^2", "long_name": "shell power (sums to variance)"}),
        "power_density": (("frame", "k"), power / width, {"units": "field^2 angstrom"}),
        "mean_power": (("frame", "k"), mean_power, {"units": "field^2"}),
        "n_modes": (("frame", "k"), n_modes, {"long_name": "modes in the shell (fractional when rebinned)"}),
    }
    for name, values in scalars.items():
        data_vars[name] = ("frame", np.asarray(values, dtype=float), {"units": units[name]})
    coords = frame_coords(datasets, frame_ids(datasets))
    coords["k"] = ("k", np.arange(n_k) * width, {"units": "angstrom^-1", "long_name": "|G| at shell centre"})
    return xr.Dataset(
        data_vars,
        coords=coords,
        attrs={
            "field": field,
            "shell_width": float(width),
            "k_cut": float(k_cut),
            "binning": BINNINGS[binning],
        },
    )
