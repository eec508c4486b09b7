"""elfviz.structures.eos: the pressure <-> rs table of solid hydrogen."""

from __future__ import annotations

import numpy as np
import pytest

from elfviz import structures
from elfviz.errors import StructureError
from elfviz.structures import eos


def test_table_reproduces_published_points_and_is_monotonic():
    for pressure, rs, _source in eos.EOS_POINTS:
        assert eos.rs_from_pressure(pressure) == pytest.approx(rs, rel=1e-9)
        assert eos.pressure_from_rs(rs) == pytest.approx(pressure, rel=1e-9)
    pressures = np.geomspace(5.4, 3500, 50)
    rs_values = [eos.rs_from_pressure(p) for p in pressures]
    assert np.all(np.diff(rs_values) < 0)
    assert eos.pressure_from_rs(eos.rs_from_pressure(123.0)) == pytest.approx(123.0, rel=1e-9)


def test_300_gpa_point_is_the_bundled_phase_iii_cell():
    """The table's 300 GPa point is the rs of the bundled C2c-12 cell, computed at that pressure."""
    phase = structures.get_phase("C2c-12")
    assert phase.pressure_gpa == 300.0
    point = next(pt for pt in eos.EOS_POINTS if pt[0] == 300.0)
    assert point[1] == pytest.approx(phase.rs_reference, rel=1e-6)
    assert "C2c-12" in point[2]


@pytest.mark.parametrize("pressure", [1.0, 5.0, 4000.0, float("nan")])
def test_pressures_outside_the_table_are_refused(pressure):
    with pytest.raises(StructureError, match="outside the range"):
        eos.rs_from_pressure(pressure)


@pytest.mark.parametrize("rs", [0.5, 2.5])
def test_rs_outside_the_table_is_refused(rs):
    with pytest.raises(StructureError, match="outside the range"):
        eos.pressure_from_rs(rs)
