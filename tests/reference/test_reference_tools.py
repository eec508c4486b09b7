"""Pure helpers of the convergence study and the datasheet (no DFT)."""

from __future__ import annotations

import numpy as np
import pytest

from elfviz import grid
from elfviz.reference import convergence, datasheet
from elfviz.reference.convergence import (
    bond_centre_elf,
    common_points,
    field_difference,
    markdown_table,
    network_values,
)
from elfviz.reference.datasheet import BEGIN_MARKER, END_MARKER, replace_generated_section, rms_displacement


def test_common_points_and_refined_comparison():
    rng = np.random.default_rng(0)
    coarse = rng.random((4, 6, 8))
    fine = np.zeros((8, 12, 16))
    fine[::2, ::2, ::2] = coarse
    fine[1::2] = 0.5  # points the coarse grid does not have do not count
    assert common_points((4, 6, 8), (8, 12, 16)) == (slice(None, None, 2),) * 3
    assert field_difference(coarse, fine)["mae"] == 0.0
    assert field_difference(fine, coarse)["max_abs"] == 0.0
    with pytest.raises(ValueError):
        common_points((4, 4, 4), (6, 6, 6))


def test_field_difference_values():
    a = np.linspace(0, 1, 27).reshape(3, 3, 3)
    diff = field_difference(a, a + 0.1)
    assert diff["mae"] == pytest.approx(0.1) and diff["max_abs"] == pytest.approx(0.1)
    assert diff["rmse"] == pytest.approx(0.1) and diff["pearson"] == pytest.approx(1.0)
    assert field_difference(a, 1 - a)["pearson"] == pytest.approx(-1.0)


def test_shared_grid_difference_uses_the_gcd_grid():
    field = np.random.default_rng(1).random((12, 12, 12))
    other = field[::3, ::3, ::3].repeat(2, 0).repeat(2, 1).repeat(2, 2)  # an 8^3 grid sharing the 4^3 points
    out = convergence._shared_grid_difference(field, other)
    assert out["shared_points"] == 64 and out["mae"] == 0.0


def test_bond_centre_elf_interpolates_at_the_minimum_image_midpoint():
    shape = (20, 20, 20)
    cell = np.eye(3) * 5.0
    points = grid.grid_points_cartesian(cell, shape)
    centre = np.array([0.1, 2.5, 2.5])  # the bond crosses the cell boundary along a
    d = points - centre
    d -= np.round(d / 5.0) * 5.0
    elf = np.exp(-np.sum(d**2, axis=-1))
    ds = grid.make_dataset(cell, [[4.73, 2.5, 2.5], [0.47, 2.5, 2.5]], [1, 1], elf)
    assert bond_centre_elf(ds) == pytest.approx(1.0, abs=2e-3)


def test_network_values_returns_phi():
    shape = (12, 12, 12)
    a = np.arange(12) / 12
    elf = 0.5 + 0.4 * np.cos(2 * np.pi * a)[:, None, None] * np.ones(shape)
    ds = grid.make_dataset(np.eye(3) * 3.0, [[0, 0, 0]], [1], elf)
    values = network_values(ds)
    # slabs perpendicular to a: connected along a (3-D percolation) only once the lowest plane is included
    assert values["phi"] == pytest.approx(float(elf.astype(np.float32).min()), abs=1e-6)


def test_markdown_table_formats():
    text = markdown_table(
        [
            {
                "system": "x",
                "variant": "2x2x2s",
                "grid": [40, 40, 40],
                "mae": 0.01234,
                "pressure_gpa": 612.3,
                "phi": None,
            }
        ],
        ["system", "variant", "grid", "mae", "pressure_gpa", "phi"],
    )
    assert "| x | 2x2x2s | 40x40x40 | 0.0123 | 612.3 |  |" in text


def test_rms_displacement_unwraps_periodic_jumps():
    cell = np.eye(3) * 4.0
    pos = np.zeros((5, 2, 3))
    pos[:, 0, 0] = [3.8, 3.9, 0.0, 0.1, 0.2]  # crosses the boundary: 0.1 Å per step
    pos[:, 1, 1] = [1.0, 1.0, 1.0, 1.0, 1.0]
    assert rms_displacement(pos, cell, 4) == pytest.approx(np.sqrt(0.4**2 / 2))
    assert np.isnan(rms_displacement(pos, cell, 5))


def test_replace_generated_section_is_idempotent():
    doc = f"# Title\n\n{BEGIN_MARKER}\nold\n{END_MARKER}\n\nafter\n"
    once = replace_generated_section(doc, "| a |")
    twice = replace_generated_section(once, "| a |")
    assert (
        once.split("_Snapshot")[0] == twice.split("_Snapshot")[0] and "| a |" in twice and "old" not in twice
    )
    assert twice.endswith("after\n") and twice.count(BEGIN_MARKER) == 1
    assert BEGIN_MARKER in replace_generated_section("no markers", "t")


def test_cached_run_is_reused_only_for_the_same_settings(tmp_path, monkeypatch):
    from elfviz.reference.settings import DFTSettings

    structure = grid.make_structure(np.eye(3) * 3.0, [[0, 0, 0], [0.74, 0, 0]], [1, 1])
    settings = DFTSettings(kmesh=(2, 2, 2))
    calls = []

    def fake_reference_elf(structure, *, engine, settings, shape, label, **kwargs):
        calls.append(settings.kmesh)
        return grid.make_dataset(
            structure["cell"].values,
            structure["positions"].values,
            [1, 1],
            np.full((6, 6, 6), 0.3),
            attrs={"settings": settings.to_dict(), "kmesh": list(settings.kmesh)},
        )

    monkeypatch.setattr("elfviz.reference.reference_elf", fake_reference_elf)
    monkeypatch.setattr(convergence, "CACHE_DIR", tmp_path)
    convergence._run(structure, settings, None, "case A")
    convergence._run(structure, settings, None, "case A")  # reused
    assert calls == [(2, 2, 2)] and (tmp_path / "case_A.nc").exists()
    convergence._run(structure, settings.replace(kmesh=(3, 3, 3)), None, "case A")  # other settings: rerun
    assert calls == [(2, 2, 2), (3, 3, 3)]


def test_paired_fraction_counts_bonds_across_the_cell_boundary_and_averages_frames():
    cell = np.eye(3) * 4.0
    molecule_across_boundary = [[0.1, 2.0, 2.0], [3.7, 2.0, 2.0], [2.0, 0.5, 0.5], [2.0, 3.5, 3.5]]  # 0.4 Å apart
    atomic = [[0.0, 0.0, 0.0], [2.0, 0.0, 0.0], [0.0, 2.0, 0.0], [0.0, 0.0, 2.0]]  # nearest 2 Å
    positions = np.array([molecule_across_boundary, atomic], dtype=float)
    # frame 1: the first two atoms pair through the boundary; the last two are 1.41 Å apart (through it): not
    assert datasheet.paired_fraction(positions[:1], cell) == pytest.approx(0.5)
    assert datasheet.paired_fraction(positions[1:], cell) == 0.0
    assert datasheet.paired_fraction(positions, cell) == pytest.approx(0.25)
    assert datasheet.paired_fraction(positions[1:], cell, cutoff=2.01) == 1.0
    assert np.isnan(datasheet.paired_fraction(np.empty((0, 4, 3)), cell))
