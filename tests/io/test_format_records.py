"""One record per format (elfviz.io.formats.RECORDS): every record recognises a file elfviz wrote in its format."""

from __future__ import annotations

import numpy as np
import pytest

from elfviz import grid, io
from elfviz.io.formats import ASE_FORMATS, FIELD_FORMATS, FORMATS, RECORDS, format_from_content, format_from_name


def test_the_tables_are_derived_from_the_records():
    assert list(FORMATS) == [r.name for r in RECORDS]
    assert set(FIELD_FORMATS) == {"netcdf", "cube", "xsf", "vasp"} and set(ASE_FORMATS) == {
        "cif", "extxyz", "espresso-in", "castep-cell"}
    extensions = [e for r in RECORDS for e in r.extensions]
    assert len(extensions) == len(set(extensions)), "an extension names two formats"


@pytest.mark.parametrize("record", RECORDS, ids=lambda r: r.name)
def test_each_record_recognises_its_own_files(record, tmp_path):
    ds = grid.make_dataset(np.eye(3) * 3.0, [[0, 0, 0], [0.74, 0, 0]], [1, 1], elf=np.full((6, 6, 6), 0.5))
    path = tmp_path / f"sample{record.extensions[0]}"
    io.write(ds, path, format=record.name)
    head = path.read_bytes()[:8192]
    assert format_from_content(head) == record.name
    if record.name != "espresso-in":  # .in is shared with other programs: the content decides
        assert format_from_name(path.name) == record.name
    assert io.read(path).sizes["atom"] == 2
