"""ELF at bond midpoints: pair search with periodic images, interpolation, reference against prediction."""

import numpy as np
import pytest

from elfviz import grid
from elfviz.cli.programs.bond_midpoints import main
from elfviz.errors import StructureError
from elfviz.model.training.bond_midpoints import bond_midpoint_values, summarize


def _frame(elf):
    cell = np.eye(3) * 4.0
    positions = [[0.5, 0.5, 0.5], [1.67, 0.5, 0.5], [3.0, 3.0, 3.0]]
    return grid.make_dataset(cell, positions, [1, 1, 1], elf)


def test_bond_midpoint_values_errors_of_an_offset_prediction():
    rng = np.random.default_rng(0)
    ref_field = 0.4 + 0.1 * rng.random((16, 16, 16))
    reference, prediction = _frame(ref_field), _frame(ref_field + 0.05)
    values = bond_midpoint_values(reference, prediction, 1.1, 1.2)
    assert values["distance"].values == pytest.approx([1.17])
    assert values["error"].values == pytest.approx([0.05])
    stats = summarize(values)
    assert stats["pairs"] == 1 and stats["bias"] == pytest.approx(0.05) and stats["mae"] == pytest.approx(0.05)
    assert summarize(bond_midpoint_values(reference, prediction, 0.2, 0.3))["pairs"] == 0
    moved = prediction.copy(deep=True)
    moved["positions"].values[0] += 0.3
    with pytest.raises(StructureError):
        bond_midpoint_values(reference, moved, 1.1, 1.2)


def test_main_on_the_bundled_crystal_and_an_unknown_pattern(capsys):
    assert main(["--group", "I41amd-rs1.45", "--d-min", "1.1", "--d-max", "1.25"]) == 0
    out = capsys.readouterr().out
    row = next(line for line in out.splitlines() if line.startswith("I41amd-rs1.45"))
    frames, pairs = row.split()[1:3]
    assert (frames, pairs) == ("1", "4")  # 2 atoms per primitive cell, 4 neighbours each at 1.17 Å
    assert main(["--group", "no-such-frame*"]) == 1
    assert "no frame id matches" in capsys.readouterr().err


def test_main_compares_two_field_files(tmp_path, capsys):
    from elfviz import io

    rng = np.random.default_rng(1)
    ref_field = 0.4 + 0.1 * rng.random((16, 16, 16))
    io.write(_frame(ref_field), tmp_path / "ref.nc")
    io.write(_frame(ref_field - 0.02), tmp_path / "other.nc")
    assert main(["--files", str(tmp_path / "ref.nc"), str(tmp_path / "other.nc"), "--d-min", "1.1",
                 "--d-max", "1.2"]) == 0
    fields = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("files")).split()
    assert fields[1:3] == ["1", "1"] and float(fields[4]) == pytest.approx(-0.02) and float(fields[5]) == 0.02
    moved = _frame(ref_field)
    moved["positions"].values[0] += 0.3
    io.write(moved, tmp_path / "moved.nc")
    assert main(["--files", str(tmp_path / "ref.nc"), str(tmp_path / "moved.nc")]) == 2
    assert "error:" in capsys.readouterr().err
    with pytest.raises(SystemExit):  # a group or two files, not both
        main(["--group", "x", "--files", "a", "b"])
