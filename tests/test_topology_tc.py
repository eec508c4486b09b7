"""tc_estimate: the Belli et al. (2021) pure-hydrogen correlation, always with scatter and caveat."""

from __future__ import annotations

import json

import pytest

from elfviz.errors import GridError
from elfviz.topology import tc_estimate


@pytest.mark.parametrize("phi,tc", [(0.5, 290.0), (0.6, 365.0), (0.2, 65.0), (1.0, 665.0)])
def test_linear_correlation(phi, tc):
    est = tc_estimate(phi)
    assert est.tc_k == pytest.approx(tc) and est.linear_k == pytest.approx(tc)
    assert est.scatter_k == 60.0
    assert est.low_k == pytest.approx(max(tc - 60.0, 0.0)) and est.high_k == pytest.approx(tc + 60.0)


def test_negative_fit_is_clipped_but_reported():
    est = tc_estimate(0.1)
    assert est.linear_k == pytest.approx(-10.0)
    assert est.tc_k == 0.0 and est.low_k == 0.0 and est.high_k == 60.0


def test_always_labelled_as_an_empirical_correlation():
    est = tc_estimate(0.45)
    assert est.kind == "empirical correlation"
    assert "Belli" in est.caveat and "60 K" in est.caveat and "not a prediction" in est.caveat
    assert "not a model prediction" in str(est)
    doc = json.loads(json.dumps(est.to_dict()))
    assert doc["caveat"] == est.caveat and doc["scatter_k"] == 60.0 and "750" in doc["formula"]


@pytest.mark.parametrize("phi", [-0.1, 1.2, float("nan"), float("inf"), "x", None])
def test_bad_phi(phi):
    with pytest.raises(GridError, match="phi"):
        tc_estimate(phi)
