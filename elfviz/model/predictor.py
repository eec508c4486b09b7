"""``Predictor``: ELF on a grid from atomic positions with the bundled (or a given) model."""

from __future__ import annotations

import copy
import logging
import math
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch
import xarray as xr

from ..errors import ModelError
from ..grid import grid_shape, keys, structure_attrs, validate
from ..grid.on_grid import require_hydrogen, structure_on_grid
from ..resources import check_fits
from .bundled import BUNDLED_WEIGHTS, WEIGHTS_DIR, is_bundled, resolve_weights  # noqa: F401 (re-exported)
from .descriptors import DescriptorSpec, compute_descriptors, descriptor_bytes
from .message_model import MessageEnsemble
from .network import ElfEnsemble, ElfNet, load_model

log = logging.getLogger(__name__)


RS_MARGIN = 0.02
"""How far (bohr) outside the training rs range a structure may be before a warning."""


class DensityRangeWarning(UserWarning):
    """The structure's density is outside the range the model was trained on."""


class UncertainPredictionWarning(UserWarning):
    """The ensemble's member networks disagree far more than on the held-out liquid (see ``check_spread``)."""


SPREAD_FACTOR = 2.0
"""A prediction is flagged when its mean member spread exceeds this multiple of the largest per-density mean
on the held-out liquid recorded in the model card."""


MEMBER_CACHE_VALUES = 2**25
"""Largest member-field array (values, float32: 128 MiB) that a predictor keeps from its last ensemble
evaluation, so that asking for the members' fields of the structure just predicted costs no second pass."""


DEFAULT_BATCH_POINTS = {"cpu": 2**14, "cuda": 2**21}
"""Grid points per network batch by device type: small on CPU so that activations stay in cache."""


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` -> CUDA when available, else CPU; an explicit ``"cuda"`` without a GPU is an error."""
    name = str(device)
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ModelError("device 'cuda' requested but torch sees no CUDA GPU; use --device cpu (or auto)")
    try:
        return torch.device(name)
    except RuntimeError:
        raise ModelError(f"unknown device {device!r}; use auto, cpu or cuda") from None


class Predictor:
    """Predict the ELF of a hydrogen structure on a grid.

    Parameters
    ----------
    weights : str or path, optional
        A shipped model's version (e.g. ``"elfnet-fft@1.6"``, see :func:`elfviz.model.bundled.bundled_models`)
        or a weights stem or ``.pt``/``.json`` path written by ``elfviz train``; default: the bundled model.
    device : {"auto", "cpu", "cuda"}
        Where to run; ``auto`` uses CUDA when available.
    batch_points : int, optional
        Grid points per network batch (bounds memory of the network part; the descriptors of the whole
        grid are computed at once by FFT). Default 2^14 on CPU (activations stay in cache: 2.7x faster
        than 2^17 on 2 cores, benchmarks/bench_model.py), 2^21 on CUDA.
    correction : callable, "bundled" or path, optional
        ``Dataset (with elf) -> Dataset`` applied after the network (e.g. a transferable Fourier
        correction from ``elfviz.analysis``); ``"bundled"`` loads the correction shipped for this model's
        version, a path a correction JSON fitted for it (see
        :func:`elfviz.model.correction.load_correction`).

    Examples
    --------
    >>> from elfviz.structures import build_phase          # doctest: +SKIP
    >>> ds = Predictor().predict(build_phase("Cmca-12", rs=1.3), spacing=0.15)  # doctest: +SKIP
    >>> ds.attrs["source"]                                  # doctest: +SKIP
    'model:elfnet-msg@2.1'
    """

    _last_members: tuple[bytes, torch.Tensor] | None = None
    """(structure-and-grid key, member fields) of the last ensemble evaluation, see :meth:`member_values`."""

    def __init__(
        self,
        weights: str | Path | None = None,
        device: str = "auto",
        batch_points: int | None = None,
        correction: Callable[[xr.Dataset], xr.Dataset] | str | Path | None = None,
    ):
        self.device_obj = resolve_device(device)
        self.weights_path = resolve_weights(weights)
        self.network, self.meta = load_model(self.weights_path, device=self.device_obj)
        self.spec = DescriptorSpec.from_dict(self.meta["descriptors"])
        if batch_points is not None and int(batch_points) < 1:
            raise ModelError(f"batch_points must be a positive integer, got {batch_points}")
        default_batch = DEFAULT_BATCH_POINTS.get(self.device_obj.type, DEFAULT_BATCH_POINTS["cpu"])
        self.batch_points = int(batch_points) if batch_points else default_batch
        if isinstance(correction, str | Path):
            correction = self.load_correction(correction)
        if correction is not None and not callable(correction):
            raise ModelError("correction must be a callable Dataset -> Dataset, 'bundled' or a correction file")
        self.correction = correction

    def load_correction(self, spec: str | Path):
        """The Fourier correction ``spec`` (``"bundled"`` or a JSON file) checked against these weights.

        Raises
        ------
        ModelError
            ``"bundled"`` with weights other than the bundled ones (the shipped correction removes the
            residuals of the bundled weights only), or a file fitted for another model version.
        """
        from .correction import load_correction

        if str(spec) == "bundled" and not is_bundled(self.weights_path):
            raise ModelError(
                f"the shipped Fourier correction was fitted on the bundled weights, not {self.weights_path}; fit "
                "one for these weights with `elfviz spectra --dataset DIR --fit-correction --save-correction FILE` "
                "(on predictions of these weights) and pass that file"
            )
        return load_correction(spec, self.version)

    # -- metadata
    @property
    def device(self) -> str:
        """``"cuda"`` or ``"cpu"``."""
        return self.device_obj.type

    @property
    def version(self) -> str:
        """Model name and version, e.g. ``"elfnet-msg@2.1"``."""
        return str(self.meta.get("version", "elfnet-fft@unversioned"))

    @property
    def card(self) -> dict[str, Any]:
        """The model card summary (training data, rs range, metrics) stored with the weights."""
        return dict(self.meta.get("card", {}))

    @property
    def training_rs_range(self) -> tuple[float, float] | None:
        rng = self.card.get("training_rs_bohr")
        return (float(rng[0]), float(rng[1])) if rng else None

    def __repr__(self) -> str:
        return f"Predictor({self.version!r}, device={self.device!r}, batch_points={self.batch_points})"

    # -- prediction
    def check_density(self, rs: float) -> bool:
        """Warn (log + ``DensityRangeWarning``) if ``rs`` (bohr) is outside the training range; True if inside."""
        return self._caution(self._density_message(rs), DensityRangeWarning)

    @staticmethod
    def _caution(message: str | None, category: type[Warning]) -> bool:
        """Log and warn ``message`` as ``category`` (pointing at the caller's caller); True if there is none."""
        if message is None:
            return True
        log.warning(message)
        warnings.warn(message, category, stacklevel=3)
        return False

    def _density_message(self, rs: float) -> str | None:
        rng = self.training_rs_range
        if rng is None or not math.isfinite(rs) or rng[0] - RS_MARGIN <= rs <= rng[1] + RS_MARGIN:
            return None
        return (
            f"rs = {rs:.3f} bohr is outside the model's training range {rng[0]:.2f}-{rng[1]:.2f} bohr "
            f"({self.version}); the prediction is an extrapolation, check it against a reference"
        )

    @property
    def liquid_spread(self) -> float | None:
        """Largest per-density mean member spread on the held-out liquid, from the model card (None if unknown)."""
        rows = (self.card.get("test") or {}).get("liquid_by_rs") or []
        values = [r["member_std_mean"] for r in rows if isinstance(r.get("member_std_mean"), int | float)]
        return max(values) if values else None

    def check_spread(self, mean_spread: float) -> bool:
        """Warn (log + ``UncertainPredictionWarning``) if the grid mean of the member spread is more than
        ``SPREAD_FACTOR`` times :attr:`liquid_spread`; True if it is not (or nothing to compare with)."""
        return self._caution(self._spread_message(mean_spread), UncertainPredictionWarning)

    def _spread_message(self, mean_spread: float) -> str | None:
        reference = self.liquid_spread
        if reference is None or not math.isfinite(mean_spread) or mean_spread <= SPREAD_FACTOR * reference:
            return None
        return (
            f"the {self.n_members} member networks of {self.version} disagree: mean spread {mean_spread:.4f}, "
            f"{mean_spread / reference:.1f}x the largest on the held-out liquid ({reference:.4f}); the structure is "
            "unlike the training data, so check the prediction against a reference (the model card's crystal "
            "table shows how spread and error go together)"
        )

    @property
    def n_members(self) -> int:
        """Number of member networks (1 for a single network)."""
        return self.network.n_members if isinstance(self.network, ElfEnsemble | MessageEnsemble) else 1

    @property
    def per_point(self) -> bool:
        """Whether the model is per-point networks on the fixed descriptors (1.x); the message-passing family
        (:mod:`.message_model`) reads the atoms too and has no descriptor-only entry points."""
        return not isinstance(self.network, MessageEnsemble)

    def member_predictors(self) -> list[Predictor]:
        """One predictor per member network of an ensemble (``[self]`` for a single network).

        Each shares this predictor's descriptors, device and batching but evaluates one member alone and has
        no correction; their spread shows how much of a prediction is settled by the training data and how
        much by the random initialisation (e.g. the networking value of a crystal far from the training data).
        """
        if self.n_members == 1:
            return [self]
        views = []
        for index, member in enumerate(self.network.members):
            view = copy.copy(self)
            view.network = member if self.per_point else self.network.member(index)
            view.correction = None
            view._last_members = None
            views.append(view)
        return views

    @torch.inference_mode()
    def estimate_bytes(self, cell, shape, *, member_spread: bool = False) -> int:
        """Peak memory (bytes) of :meth:`predict` on ``shape``: descriptors, member outputs, the result.

        Examples
        --------
        >>> p = Predictor()                    # elfnet-msg@2.1: measured rise of the peak 2.2 GB at 128³
        >>> 1.8e9 < p.estimate_bytes(np.eye(3) * 7.0, (128, 128, 128)) < 2.9e9
        True
        """
        points = math.prod(int(n) for n in shape)
        outputs = points * 4 * (2 * self.n_members + (3 if member_spread else 2))
        if not self.per_point:  # the message family: descriptors, densities, heads (its own account)
            return self.network.grid_bytes(cell, shape, batch=self.batch_points) + outputs
        batch = min(self.batch_points, points) * 4 * 4 * max(self.spec.n_features, 256)  # activations
        return descriptor_bytes(cell, shape, self.spec) + outputs + batch

    def predict_values(self, positions, cell, shape) -> np.ndarray:
        """ELF (float32, shape ``shape``) for positions (Å) in a cell (Å); no checks, no Dataset."""
        if not self.per_point:
            return self._member_outputs(positions, cell, shape).mean(dim=0).reshape(tuple(shape)).cpu().numpy()
        feats = compute_descriptors(positions, cell, shape, self.spec, device=self.device_obj)
        return self.evaluate_network(feats.reshape(feats.shape[0], -1)).reshape(tuple(shape)).cpu().numpy()

    @torch.inference_mode()
    def member_values(self, positions, cell, shape) -> np.ndarray:
        """Each member network's ELF, float32 ``(n_members, *shape)``, from one descriptor computation.

        For a single network this is its output with a leading axis of length 1. Unclipped, no correction,
        no checks (like :meth:`predict_values`): positions and cell in Å. Right after an ensemble prediction
        of the same positions, cell and grid (``predict(..., member_spread=True)``) the members' fields of that
        prediction are returned without evaluating anything again.
        """
        key = _structure_grid_key(positions, cell, shape)
        cached = self._last_members  # one read: another thread may replace it meanwhile
        if cached is not None and cached[0] == key:
            members = cached[1]
        else:
            members = self._member_outputs(positions, cell, shape)
        return members.reshape((members.shape[0], *tuple(shape))).cpu().numpy()

    def _member_outputs(self, positions, cell, shape) -> torch.Tensor:
        """Each member's ELF, ``(n_members, P)`` on the predictor's device (one row for a single network).

        An ensemble's result is kept (up to :data:`MEMBER_CACHE_VALUES` values) for :meth:`member_values`.
        """
        if not self.per_point:
            members = self.network.member_fields(positions, cell, shape, device=self.device_obj,
                                                 batch=self.batch_points)
            if self.n_members > 1 and members.numel() <= MEMBER_CACHE_VALUES:
                self._last_members = (_structure_grid_key(positions, cell, shape), members)
            return members
        feats = compute_descriptors(positions, cell, shape, self.spec, device=self.device_obj)
        flat = feats.reshape(feats.shape[0], -1)
        if not isinstance(self.network, ElfEnsemble):
            return self.evaluate_network(flat)[None]
        members = self.evaluate_members(flat)
        if members.numel() <= MEMBER_CACHE_VALUES:
            self._last_members = (_structure_grid_key(positions, cell, shape), members)
        return members

    @torch.inference_mode()
    def _mean_and_spread(self, positions, cell, shape) -> tuple[np.ndarray, np.ndarray]:
        """Mean and standard deviation (ddof 0) of the member networks' ELF, float32 arrays of ``shape``."""
        self._require_ensemble()
        members = self._member_outputs(positions, cell, shape)
        mean = members.mean(dim=0)
        std = members.std(dim=0, correction=0)
        return mean.reshape(tuple(shape)).cpu().numpy(), std.reshape(tuple(shape)).cpu().numpy()

    @torch.inference_mode()
    def evaluate_network(self, features: torch.Tensor, batch_points: int | None = None) -> torch.Tensor:
        """ELF (float32, ``(P,)``) from feature-major descriptors ``(n_features, P)``, in batches of
        ``batch_points`` grid points (default: the predictor's)."""
        self._require_per_point("evaluate_network")
        return self._in_batches(self.network, features, (), batch_points)

    def _in_batches(self, network, features: torch.Tensor, leading: tuple[int, ...], batch_points: int | None):
        """``network`` applied to ``(points, n_features)`` batches of ``features``; output ``(*leading, P)``."""
        batch = int(batch_points or self.batch_points)
        out = torch.empty((*leading, features.shape[1]), dtype=torch.float32, device=features.device)
        for start in range(0, features.shape[1], batch):
            stop = min(start + batch, features.shape[1])
            out[..., start:stop] = network(features[:, start:stop].T)
        return out

    @torch.inference_mode()
    def evaluate_members(self, features: torch.Tensor, batch_points: int | None = None) -> torch.Tensor:
        """Each member network's ELF, ``(n_members, P)``, from descriptors ``(n_features, P)``, in batches.

        Raises
        ------
        ModelError
            If the weights are a single network (there is no spread to measure).
        """
        self._require_per_point("evaluate_members")
        self._require_ensemble()
        return self._in_batches(self.network.member_outputs, features, (self.n_members,), batch_points)

    def _require_per_point(self, what: str) -> None:
        if not self.per_point:
            raise ModelError(f"{what} evaluates per-point networks on descriptors; {self.version} also reads the "
                             "atoms: use predict, predict_values or member_values")

    def _require_ensemble(self) -> None:
        if self.n_members < 2:
            how = ("train one with `elfviz train ... --members 4`, the default" if self.per_point else
                   "join the networks of several runs with `python -m elfviz.cli.programs.atom_ablation --from-run "
                   "DIR --join DIR2 ... --export STEM`")
            raise ModelError(f"{self.version} is a single network: a member spread needs an ensemble ({how})")

    def predict(
        self,
        structure: Any,
        *,
        shape: Any = None,
        spacing: float = 0.12,
        like: Any = None,
        member_spread: bool = False,
        max_memory: str | int | float | None = None,
    ) -> xr.Dataset:
        """Predicted ELF of a hydrogen structure.

        Parameters
        ----------
        structure : xarray.Dataset, ase.Atoms or path
            Periodic hydrogen structure (Å).
        shape : (int, int, int), optional
            Grid shape (wins over ``spacing``).
        spacing : float
            Largest grid spacing along each lattice vector, Å (default 0.12).
        like : xarray.Dataset or path, optional
            Predict on exactly the grid of this field (e.g. a DFT cube or ELFCAR of the same structure).
        member_spread : bool
            Also return ``elf_member_std``: the standard deviation (ddof 0) of the member networks' ELF at
            every grid point, a measure of how far the structure is from what the training settled (same cost:
            the ensemble evaluates every member anyway). Needs an ensemble; ``elf`` is their mean as always.
        max_memory : str or number, optional
            Memory limit (``"16G"``, bytes); default ``$ELFVIZ_MAX_MEMORY`` or 80 % of the available memory
            (:mod:`elfviz.resources`). The job's peak (:meth:`estimate_bytes`) is checked before anything
            grid-sized is allocated.

        Returns
        -------
        xarray.Dataset
            The structure with field ``elf`` (and ``elf_member_std`` on request); attrs
            ``source = "model:<version>"``, ``device``, ``predict_seconds``.

        Raises
        ------
        SpeciesError
            If the structure contains non-hydrogen atoms.
        ResourceError
            If the grid would need more memory than ``max_memory``.
        """
        target = structure_on_grid(structure, shape=shape, spacing=spacing, like=like)
        require_hydrogen(target[keys.NUMBERS].values, what=f"the ELF model {self.version}")
        grid_size = grid_shape(target)
        check_fits(self.estimate_bytes(target[keys.CELL].values, grid_size, member_spread=member_spread),
                   f"predicting the ELF on a {'x'.join(map(str, grid_size))} grid ({math.prod(grid_size):,} points)",
                   max_memory=max_memory,
                   advice="use a coarser grid (a larger spacing, e.g. the default 0.12 Å, or a smaller shape)")
        # cautions are warned and also kept in the attrs, so that a cached prediction still carries them
        cautions = [self._density_message(float(target.attrs.get("rs_bohr", float("nan"))))]
        self._caution(cautions[0], DensityRangeWarning)
        t0 = time.perf_counter()
        spread = None
        if member_spread:
            elf, spread = self._mean_and_spread(target[keys.POSITIONS].values, target[keys.CELL].values,
                                                grid_shape(target))
        else:
            elf = self.predict_values(target[keys.POSITIONS].values, target[keys.CELL].values, grid_shape(target))
        seconds = time.perf_counter() - t0
        out = target.copy()
        out.attrs = structure_attrs(target.attrs)  # a reference's DFT provenance does not describe this field
        out[keys.ELF] = (("a", "b", "c"), np.clip(elf, 0.0, 1.0), {"units": "1", "long_name": "predicted ELF"})
        if spread is not None:
            mean_spread = float(spread.mean())
            out.attrs["member_std_mean"] = round(mean_spread, 6)
            cautions.append(self._spread_message(mean_spread))
            self._caution(cautions[-1], UncertainPredictionWarning)
            out[keys.ELF_MEMBER_STD] = (
                ("a", "b", "c"),
                spread,
                {
                    "units": "1",
                    "long_name": f"standard deviation of the ELF over the {self.n_members} member networks",
                    "note": "of the network output, before any correction",
                },
            )
        out.attrs.update(
            {
                "source": f"model:{self.version}",
                "device": self.device,
                "model_version": self.version,
                "predict_seconds": round(seconds, 4),
                "reference_convention": self.card.get("reference_convention", ""),
            }
        )
        if any(cautions):
            out.attrs["cautions"] = " | ".join(c for c in cautions if c)
        log.info(
            "predicted ELF on %s grid (%d atoms) in %.3f s on %s",
            grid_shape(target),
            target.sizes["atom"],
            seconds,
            self.device,
        )
        if self.correction is not None:
            out = self.correction(out)
            if not isinstance(out, xr.Dataset) or keys.ELF not in out:
                raise ModelError("the correction must return a Dataset with field 'elf'")
        return validate(out)


def _structure_grid_key(positions, cell, shape) -> bytes:
    """Digest of positions (Å), cell (Å) and grid shape: equal exactly when all three are."""
    import hashlib

    digest = hashlib.blake2b(digest_size=20)
    for array in (positions, cell):
        array = np.ascontiguousarray(np.asarray(array, dtype=np.float64))
        digest.update(repr(array.shape).encode())
        digest.update(array.tobytes())
    digest.update(repr(tuple(int(n) for n in shape)).encode())
    return digest.digest()


def load_network(weights: str | Path | None = None, device: str = "cpu") -> tuple[ElfNet | ElfEnsemble, dict]:
    """The network and metadata of the given (default: bundled) weights."""
    return load_model(resolve_weights(weights), device=resolve_device(device))
