"""Example catalogue, example loading, uploads and cache keys (no widgets)."""

from __future__ import annotations

import numpy as np
import pytest

from elfviz import grid, structures
from elfviz.dashboard import sources
from elfviz.errors import FileFormatError

from .frames import XYZ


def test_catalog_has_one_liquid_frame_per_density_test_first_then_crystals(collection):
    examples = sources.example_catalog(collection)
    frames = [ex for ex in examples if ex.kind == "frame"]
    assert [ex.name for ex in frames] == ["liq-0-test", "liq-1-test"]  # rs ascending, test split preferred
    assert "rs=" in frames[0].label and "250 GPa" in frames[0].label
    phases = [ex.name for ex in examples if ex.kind == "phase"]
    assert phases and set(phases) <= set(structures.PHASES)
    assert len({ex.key for ex in examples}) == len(examples)


def test_catalog_without_a_dataset_offers_the_buildable_phases():
    examples = sources.example_catalog(None)
    assert examples and all(ex.kind == "phase" for ex in examples)


def test_loading_examples(collection):
    examples = {ex.key: ex for ex in sources.example_catalog(collection)}
    frame = sources.load_example(examples["frame:liq-1-test"], collection)
    assert sources.has_field(frame, "elf") and frame.attrs["pressure_gpa"] == 120.0
    phase_key = next(k for k in examples if k.startswith("phase:"))
    crystal = sources.load_example(examples[phase_key], collection)
    assert not sources.has_field(crystal) and crystal.sizes["atom"] > 0
    assert max(np.linalg.norm(crystal["cell"].values, axis=1) / np.array(grid.grid_shape(crystal))) <= 0.12
    with pytest.raises(FileFormatError, match="not installed"):
        sources.load_example(examples["frame:liq-1-test"], None)


def test_upload_of_a_structure_parses_from_memory():
    ds = sources.read_upload(XYZ, "h2.xyz")
    assert ds.sizes["atom"] == 2 and ds.attrs["label"] == "upload: h2.xyz"


@pytest.mark.parametrize("data, name, message", [
    (b"", "empty.cube", "empty"),
    (b"x" * 2000, "big.xyz", "upload limit"),
    (b"this is not a cube file at all\n", "bad.cube", "bad.cube"),
    (b"\x89PNG\r\n\x1a\n" + bytes(64), "picture.png", "picture.png"),
])
def test_bad_uploads_raise_file_format_errors(data, name, message):
    with pytest.raises(FileFormatError, match=message):
        sources.read_upload(data, name, max_bytes=1000)


def test_structure_key_ignores_fields_but_not_atoms_or_grid(collection):
    ds = collection.read("liq-0-test")
    assert sources.structure_key(ds) == sources.structure_key(grid.structure_only(ds))
    moved = ds.copy()
    moved["positions"] = moved["positions"] + 0.01
    assert sources.structure_key(moved) != sources.structure_key(ds)
    coarser = grid.make_dataset(ds["cell"].values, ds["positions"].values, ds["numbers"].values, shape=(10, 10, 10))
    assert sources.structure_key(coarser) != sources.structure_key(ds)
