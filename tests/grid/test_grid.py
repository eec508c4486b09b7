"""elfviz.grid: schema, coordinates, densities (checked by hand), validation, ASE conversion, attrs."""

from __future__ import annotations

import math

import numpy as np
import pytest

from elfviz import grid
from elfviz.errors import GridError, StructureError

CELL = np.array([[3.0, 0.0, 0.0], [1.0, 2.5, 0.0], [0.5, 0.4, 3.2]])


def make(shape=(6, 7, 8), **kwargs):
    return grid.make_dataset(CELL, [[0.1, 0.2, 0.3], [1.5, 1.0, 1.6]], [1, 1], shape=shape, **kwargs)


def test_schema():
    ds = make()
    assert dict(ds.sizes) == {"vector": 3, "xyz": 3, "atom": 2, "a": 6, "b": 7, "c": 8}
    assert ds["cell"].dims == ("vector", "xyz")
    assert ds["positions"].dims == ("atom", "xyz")
    assert ds["numbers"].dims == ("atom",) and ds["numbers"].dtype == np.int64
    np.testing.assert_allclose(ds["b"].values, np.arange(7) / 7)  # periodic, no end point
    assert ds.attrs["n_atoms"] == 2 and ds.attrs["source"] == "unknown"


def test_elf_field_is_float32_and_checked():
    elf = np.linspace(0, 1, 6 * 7 * 8).reshape(6, 7, 8)
    ds = grid.make_dataset(CELL, [[0, 0, 0]], [1], elf=elf)
    assert ds["elf"].dtype == np.float32 and grid.field_names(ds) == ["elf"]
    with pytest.raises(GridError, match="outside \\[0, 1\\]"):
        grid.make_dataset(CELL, [[0, 0, 0]], [1], elf=elf * 2)
    bad = elf.copy()
    bad[0, 0, 0] = np.nan
    with pytest.raises(GridError, match="NaN"):
        grid.make_dataset(CELL, [[0, 0, 0]], [1], elf=bad)
    with pytest.raises(GridError, match="3-D"):
        grid.make_dataset(CELL, [[0, 0, 0]], [1], elf=np.zeros((4, 4)))
    other = grid.make_dataset(
        CELL, [[0, 0, 0]], [1], fields={"density": elf * 5}
    )  # not ELF: any finite value
    assert float(other["density"].max()) == pytest.approx(5.0)


def test_frac_cart_round_trip_and_reciprocal_cell():
    frac = np.random.default_rng(1).random((5, 3))
    cart = grid.frac_to_cart(frac, CELL)
    np.testing.assert_allclose(cart, frac @ CELL)
    np.testing.assert_allclose(grid.cart_to_frac(cart, CELL), frac, atol=1e-12)
    np.testing.assert_allclose(grid.reciprocal_cell(CELL) @ CELL.T, 2 * np.pi * np.eye(3), atol=1e-12)


def test_grid_points_cartesian():
    points = grid.grid_points_cartesian(CELL, (2, 3, 4))
    assert points.shape == (2, 3, 4, 3)
    np.testing.assert_allclose(points[1, 2, 3], [1 / 2, 2 / 3, 3 / 4] @ CELL)
    np.testing.assert_allclose(points[0, 0, 0], 0.0)


def test_rs_and_density_by_hand():
    # 2 H atoms in 10 Å^3: 5 Å^3 = 33.742 bohr^3 per electron, rs = (3 * 33.742 / 4 pi)^(1/3) = 2.0046 bohr
    cell = np.eye(3) * 10 ** (1 / 3)
    volume_bohr3 = 10.0 / 0.529177210903**3
    rs = (3 * volume_bohr3 / 2 / (4 * math.pi)) ** (1 / 3)
    assert grid.rs_bohr(cell, 2) == pytest.approx(rs, rel=1e-12)
    assert rs == pytest.approx(2.0046, abs=1e-4)
    mass_g = 2 * 1.008 * 1.66053906660e-24
    assert grid.mass_density_g_cm3(cell, [1, 1]) == pytest.approx(mass_g / 10e-24, rel=1e-3)
    # cell_for_rs is the inverse of rs_bohr
    assert grid.rs_bohr(grid.cell_for_rs(1.38, 24), 24) == pytest.approx(1.38, rel=1e-12)
    assert grid.valence_electrons([1, 2, 3, 8]) == 1 + 2 + 1 + 6
    with pytest.raises(StructureError):
        grid.rs_bohr(cell, 0)


def test_shape_for_spacing():
    assert grid.shape_for_spacing(np.eye(3) * 4.8, 0.12) == (40, 40, 40)
    shape = grid.shape_for_spacing(CELL, 0.2)
    lengths = np.linalg.norm(CELL, axis=1)
    assert all(length / n <= 0.2 + 1e-12 for length, n in zip(lengths, shape, strict=True))
    assert all(grid.is_fft_friendly(n) for n in shape)
    for bad in (0, -0.1, float("nan"), float("inf"), "abc"):
        with pytest.raises(GridError, match="spacing"):
            grid.shape_for_spacing(CELL, bad)
    with pytest.raises(GridError, match="spacing"):
        make(shape=None, spacing=0.0)
    with pytest.raises(GridError, match="not both"):
        make(shape=(4, 4, 4), spacing=0.5)
    with pytest.raises(GridError, match="three integers"):
        make(shape=(4, 1, 4))


def test_is_fft_friendly_and_next_fft_size():
    friendly = [n for n in range(1, 31) if grid.is_fft_friendly(n)]
    assert friendly == [1, 2, 3, 4, 5, 6, 8, 9, 10, 12, 15, 16, 18, 20, 24, 25, 27, 30]
    assert not any(grid.is_fft_friendly(n) for n in (0, -8, 7, 14, 49, 2 * 3 * 5 * 11))
    assert [grid.next_fft_size(n) for n in (7, 11, 13, 31, 49)] == [8, 12, 15, 32, 50]


def test_structure_checks():
    with pytest.raises(StructureError, match="no cell"):
        grid.make_dataset(None, [[0, 0, 0]], [1], shape=(4, 4, 4))
    with pytest.raises(StructureError, match="zero volume"):
        grid.make_dataset(np.zeros((3, 3)), [[0, 0, 0]], [1], shape=(4, 4, 4))
    with pytest.raises(StructureError, match="NaN or infinite"):
        grid.make_dataset(CELL, [[0, np.inf, 0]], [1], shape=(4, 4, 4))
    with pytest.raises(StructureError, match="apart"):
        grid.make_dataset(CELL, [[0, 0, 0], [0.2, 0, 0]], [1, 1], shape=(4, 4, 4))
    with pytest.raises(StructureError, match="apart"):  # through the periodic boundary
        grid.make_dataset(np.eye(3) * 3, [[0.05, 0, 0], [2.9, 0, 0]], [1, 1], shape=(4, 4, 4))
    with pytest.raises(StructureError, match="must match"):
        grid.make_dataset(CELL, [[0, 0, 0]], [1, 1], shape=(4, 4, 4))
    with pytest.raises(StructureError, match="1..118"):
        grid.make_dataset(CELL, [[0, 0, 0]], [0], shape=(4, 4, 4))
    ds = grid.make_dataset(CELL, [[0, 0, 0], [1.5, 1.2, 1.6]], [1, 26], shape=(4, 4, 4))  # Fe is kept
    assert ds["numbers"].values.tolist() == [1, 26]


def test_minimum_image_distance():
    d, i, j = grid.minimum_image_distance(np.array([[0.1, 0, 0], [2.8, 0, 0]]), np.eye(3) * 3)
    assert d == pytest.approx(0.3) and {i, j} == {0, 1}


def test_validate_reports_problems():
    ds = make()
    assert grid.validate(ds) is ds
    with pytest.raises(StructureError, match="'cell'"):
        grid.validate(ds.drop_vars("cell"))
    shifted = ds.assign_coords(a=ds["a"].values + 0.01)
    with pytest.raises(GridError, match="i/n"):
        grid.validate(shifted)
    with pytest.raises(GridError, match="xarray.Dataset"):
        grid.validate({"not": "a dataset"})


def test_with_field_and_structure_only():
    ds = make()
    values = np.full((6, 7, 8), 0.3)
    with_elf = grid.with_field(ds, "elf", values)
    assert "elf" not in ds and with_elf["elf"].dtype == np.float32
    with pytest.raises(GridError, match="shape"):
        grid.with_field(ds, "elf", np.zeros((2, 2, 2)))
    with pytest.raises(GridError, match="outside"):
        grid.with_field(ds, "elf_ref", values + 1)
    stripped = grid.structure_only(grid.with_field(with_elf, "residual", values - 0.3))
    assert grid.field_names(stripped) == []


def test_structure_without_grid():
    from ase import Atoms

    pos = [[0.1, 0.2, 0.3], [1.5, 1.0, 1.6]]
    structure = grid.make_structure(CELL, pos, [1, 1], attrs={"phase": "liquid"})
    with_grid = make()
    assert not grid.has_grid(structure) and grid.has_grid(with_grid)
    assert set(structure.dims) == {"vector", "xyz", "atom"} and grid.field_names(structure) == []
    assert grid.validate_structure(structure) is structure and grid.validate_structure(with_grid) is with_grid
    for key in ("n_atoms", "rs_bohr", "density_g_cm3"):
        assert structure.attrs[key] == with_grid.attrs[key]
    assert structure.attrs["source"] == "structure" and structure.attrs["phase"] == "liquid"
    np.testing.assert_allclose(grid.to_atoms(structure).positions, pos)
    with pytest.raises(GridError, match="grid dimension"):
        grid.validate(structure)
    with pytest.raises(GridError, match="without a grid"):
        grid.grid_shape(structure)
    with pytest.raises(StructureError, match="closer than"):
        grid.make_structure(CELL, [[0, 0, 0], [0.1, 0, 0]], [1, 1])
    with pytest.raises(StructureError, match="must match"):
        grid.make_structure(CELL, pos, [1])
    with pytest.raises(StructureError, match="'positions'"):
        grid.validate_structure(structure.drop_vars("positions"))

    atoms = Atoms("H2", positions=pos, cell=CELL, pbc=True, info={"pressure_gpa": 250.0})
    from_atoms = grid.structure_from_atoms(atoms, source="file:x.xyz")
    assert not grid.has_grid(from_atoms) and from_atoms.attrs["pressure_gpa"] == 250.0
    assert from_atoms.attrs["source"] == "file:x.xyz"
    with pytest.raises(StructureError, match="periodic only along"):
        grid.structure_from_atoms(Atoms("H", positions=[[0, 0, 0]], cell=np.eye(3) * 3, pbc=[True, True, False]))
    with pytest.raises(StructureError, match="no cell"):
        grid.structure_from_atoms(Atoms("H", positions=[[0, 0, 0]]))


def test_to_and_from_ase_atoms():
    from ase import Atoms

    ds = make()
    atoms = grid.to_atoms(ds)
    assert all(atoms.pbc) and len(atoms) == 2
    np.testing.assert_allclose(atoms.cell.array, CELL)
    atoms.info["pressure_gpa"] = 250.0
    back = grid.from_atoms(atoms, shape=(6, 7, 8))
    np.testing.assert_allclose(back["positions"].values, ds["positions"].values)
    assert back.attrs["pressure_gpa"] == 250.0
    with pytest.raises(StructureError, match="no cell"):
        grid.from_atoms(Atoms("H", positions=[[0, 0, 0]]), shape=(4, 4, 4))
    slab = Atoms("H", positions=[[0, 0, 0]], cell=np.eye(3) * 3, pbc=[True, True, False])
    with pytest.raises(StructureError, match="periodic"):
        grid.from_atoms(slab, shape=(4, 4, 4))


def test_attrs_encoding_round_trip():
    attrs = {
        "provenance": {"code": "qe", "k": [2, 2, 2]},
        "flag": True,
        "np_flag": np.bool_(False),
        "nothing": None,
        "n": np.int64(3),
        "x": np.float32(0.5),
        "name": "C2c-24",
        "t": (1, 2),
    }
    encoded = grid.encode_attrs(attrs)
    assert all(isinstance(v, (str, int, float)) for v in encoded.values())
    decoded = grid.decode_attrs(encoded)
    assert decoded["provenance"] == {"code": "qe", "k": [2, 2, 2]}
    assert decoded["flag"] is True and decoded["np_flag"] is False and decoded["nothing"] is None
    assert (
        decoded["n"] == 3 and decoded["x"] == 0.5 and decoded["t"] == [1, 2] and decoded["name"] == "C2c-24"
    )


def test_interpolate_periodic_reproduces_grid_values_and_smooth_fields():
    shape = (32, 30, 28)
    frac = np.stack(np.meshgrid(*[np.arange(n) / n for n in shape], indexing="ij"), axis=-1)
    field = np.cos(2 * np.pi * frac[..., 0]) * np.sin(2 * np.pi * frac[..., 2])
    nodes = np.array([[3 / 32, 7 / 30, 11 / 28], [1.0 + 5 / 32, -2 / 30, 0.0]])
    assert grid.interpolate_periodic(field, nodes) == pytest.approx(
        np.cos(2 * np.pi * nodes[:, 0]) * np.sin(2 * np.pi * nodes[:, 2]), abs=1e-12
    )
    between = np.array([[0.123, 0.456, 0.789]])
    expected = np.cos(2 * np.pi * 0.123) * np.sin(2 * np.pi * 0.789)
    assert grid.interpolate_periodic(field, between)[0] == pytest.approx(expected, abs=1e-4)
    assert grid.interpolate_periodic(field, between[0]) == pytest.approx(expected, abs=1e-4)  # one point: a scalar
    assert grid.interpolate_periodic(field, between[0]).shape == ()
