"""Atom-pair midpoints of periodic structures (periodic images, distance window, atom order)."""

import numpy as np
import pytest

from elfviz.grid.pairs import pair_midpoints


def test_one_atom_simple_cubic_has_three_distinct_image_pairs():
    distances, mids = pair_midpoints(np.array([[0.1, 0.2, 0.3]]), np.eye(3) * 1.0, 0.9, 1.1)
    assert distances == pytest.approx([1.0, 1.0, 1.0])
    offsets = (mids - np.array([0.1, 0.2, 0.3]) + 0.5) % 1.0 - 0.5
    assert sorted(map(tuple, np.round(np.abs(offsets), 6))) == [(0, 0, 0.5), (0, 0.5, 0), (0.5, 0, 0)]


def test_molecule_pair_window_and_atom_order():
    cell = np.eye(3) * 6.0
    positions = np.array([[5.8, 1.0, 1.0], [0.54, 1.0, 1.0], [3.0, 3.0, 3.0]])  # bond across the boundary
    distances, mids = pair_midpoints(positions, cell, 0.7, 0.8)
    assert distances == pytest.approx([0.74])
    assert mids[0] == pytest.approx([0.17 / 6.0, 1 / 6.0, 1 / 6.0])
    assert len(pair_midpoints(positions, cell, 0.8, 1.0)[0]) == 0
    swapped = pair_midpoints(positions[::-1], cell, 0.7, 0.8)
    assert swapped[0] == pytest.approx(distances) and swapped[1] == pytest.approx(mids)
    with pytest.raises(ValueError, match="d_min <= d_max"):
        pair_midpoints(positions, cell, 1.0, 0.5)
