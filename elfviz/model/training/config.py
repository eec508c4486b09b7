"""Training settings: :class:`TrainConfig`, :class:`BondSampling` and the model's name."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from ... import grid
from ...grid import keys
from ...grid.pairs import pair_midpoints
from ..descriptors import DEFAULT_WIDTHS, DescriptorSpec

MODEL_NAME = "elfnet-fft"


BOND_WINDOW = (0.85, 1.8)
"""Default distances (Å) of the atom pairs near whose midpoints bond-sampled training points are drawn."""


BOND_SIGMA = 0.15
"""Default standard deviation (Å) of a bond-sampled point's Gaussian offset from the midpoint."""


@dataclass
class TrainConfig:
    """Hyper-parameters of a training run (all recorded in the model card)."""

    seed: int = 0
    epochs: int = 40
    points_per_frame: int = 14000
    val_points_per_frame: int = 12000
    bond_fraction: float = 0.0
    bond_window: tuple[float, float] = BOND_WINDOW
    bond_sigma: float = BOND_SIGMA
    batch_size: int = 2048
    learning_rate: float = 2e-3
    final_learning_rate: float = 5e-5
    weight_decay: float = 0.0
    hidden: tuple[int, ...] = (128, 128, 64)
    widths: tuple[float, ...] = DEFAULT_WIDTHS
    lmax: int = 3
    triple: bool = False
    transform: str = "sqrt"
    patience: int = 15
    max_frames: int | None = None
    members: int = 4
    version: str = "1.6"
    extra: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self):
        if not 0.0 <= float(self.bond_fraction) <= 1.0:
            raise ValueError(f"bond_fraction must lie in [0, 1], got {self.bond_fraction}")
        low, high = (float(v) for v in self.bond_window)
        if not 0.0 <= low <= high:
            raise ValueError(f"bond_window must be (d_min, d_max) with 0 <= d_min <= d_max (Å), got {self.bond_window}")
        if float(self.bond_sigma) <= 0.0:
            raise ValueError(f"bond_sigma must be positive (Å), got {self.bond_sigma}")
        self.bond_window = (low, high)
        self.spec()  # descriptor settings (widths, lmax, triple) are checked by DescriptorSpec

    def spec(self) -> DescriptorSpec:
        return DescriptorSpec(widths=tuple(self.widths), lmax=self.lmax, triple=self.triple)

    def bond_sampling(self) -> BondSampling:
        return BondSampling(float(self.bond_fraction), self.bond_window, float(self.bond_sigma))


@dataclass(frozen=True)
class BondSampling:
    """Where training points are drawn: ``fraction`` of them near midpoints of pairs ``window`` Å apart.

    Attributes
    ----------
    fraction : float
        Share of a frame's points drawn near pair midpoints (0 = all uniform over the grid).
    window : (float, float)
        Pair distances (Å) whose midpoints are used.
    sigma : float
        Standard deviation (Å) of the isotropic Gaussian offset from the midpoint.
    """

    fraction: float = 0.0
    window: tuple[float, float] = BOND_WINDOW
    sigma: float = BOND_SIGMA

    def bond_points(self, ds, n_points: int, rng: np.random.Generator) -> np.ndarray:
        """Flat grid indices of ``n_points`` points drawn near pair midpoints (with replacement); an empty
        array if the structure has no pair in the window."""
        if n_points <= 0:  # uniform sampling (the recipe): no neighbour list
            return np.zeros(0, dtype=np.int64)
        positions, cell = ds[keys.POSITIONS].values, ds[keys.CELL].values
        _, midpoints = pair_midpoints(positions, cell, *self.window)
        if len(midpoints) == 0:
            return np.zeros(0, dtype=np.int64)
        chosen = midpoints[rng.integers(0, len(midpoints), n_points)]
        cart = grid.frac_to_cart(chosen, cell) + rng.normal(0.0, self.sigma, (n_points, 3))
        return grid.nearest_grid_index(grid.cart_to_frac(cart, cell), ds[keys.ELF].shape)


def _config_record(config: TrainConfig) -> dict[str, Any]:
    """The hyper-parameters as stored in the model card (JSON types)."""
    cfg = asdict(config)
    cfg["hidden"], cfg["widths"] = list(config.hidden), list(config.widths)
    return cfg
