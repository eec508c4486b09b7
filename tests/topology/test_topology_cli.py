"""``elfviz percolate`` end to end on netCDF and cube files."""

from __future__ import annotations

import json

import numpy as np
import pytest

from elfviz import grid
from elfviz.cli import main
from elfviz.io.store import write_netcdf
from elfviz.topology import networking_analysis


def cosine_dataset(numbers=(1, 1), field="elf", scale=1.0):
    shape, amps = (12, 16, 10), (3.0, 2.0, 1.0)
    f = np.zeros(shape)
    for axis, (n, amp) in enumerate(zip(shape, amps, strict=True)):
        f = f + amp * np.cos(2 * np.pi * np.arange(n) / n).reshape([-1 if d == axis else 1 for d in range(3)])
    f = (1 + f / 6.0) / 2 * scale
    cell = np.diag([3.0, 4.0, 2.5])
    # two atoms on the ELF maximum line's neighbourhood: at the origin and half a cell along a
    positions = [[0.0, 0.0, 0.0], [1.5, 0.0, 0.0]]
    return grid.make_dataset(cell, positions, list(numbers), fields={field: f}), (5 / 6, 2 / 3, 1 / 2)


def run_cli(capsys, *args):
    code = main(["percolate", *map(str, args)])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_text_output_has_the_closed_form_thresholds(tmp_path, capsys):
    ds, (t1, t2, t3) = cosine_dataset()
    path = write_netcdf(ds, tmp_path / "cos.nc")
    code, out, _ = run_cli(capsys, path)
    assert code == 0
    assert f"t1 = {t1:.6f}" in out and f"t2 = {t2:.6f}" in out and f"t3 = {t3:.6f}" in out
    assert f"phi  = {t3:.6f}" in out
    assert "along [0 0 1]" in out and "sheets parallel to (1 0 0)" in out
    assert "phi* =" in out and "Tc ~" not in out and "withheld: no percolating bonding network" in out
    code, out, _ = run_cli(capsys, path, "--metallic")  # the user knows it is a metal: shown, flagged
    assert code == 0 and "Tc ~" in out and "empirical correlation" in out and "60 K" in out
    assert "flagged: this structure carries no crystal-phase provenance" in out


def test_json_output_and_thresholds(tmp_path, capsys):
    ds, (t1, t2, t3) = cosine_dataset()
    path = write_netcdf(ds, tmp_path / "cos.nc")
    code, out, _ = run_cli(capsys, path, "--json", "--threshold", 0.7, 0.2, "--connectivity", 26, "--metallic")
    assert code == 0
    doc = json.loads(out)
    res = networking_analysis(ds, connectivity=26)
    assert doc["analysis"] == json.loads(json.dumps(res.to_dict()))
    assert [doc["analysis"][k] for k in ("t1", "t2", "t3")] == pytest.approx([t1, t2, t3], abs=2e-7)
    assert doc["tc_estimate"]["tc_k"] == pytest.approx(750 * res.phi - 85) and doc["tc_status"] == "flagged"
    assert [c["dimension"] for c in doc["components"]] == [1, 3]
    assert doc["components"][0]["threshold"] == 0.7


def test_components_listing(tmp_path, capsys):
    ds, _ = cosine_dataset()
    path = write_netcdf(ds, tmp_path / "cos.nc")
    code, out, _ = run_cli(capsys, path, "-t", 0.95)
    assert code == 0
    assert "at elf >= 0.95: 1 component(s)" in out and "dimension 0" in out
    assert "atoms: 1 of 2 inside; 0 linked pair(s)" in out


def test_cube_file_through_elfviz_io(tmp_path, capsys):
    io = pytest.importorskip("elfviz.io")
    if not hasattr(io, "write"):
        pytest.skip("elfviz.io.write not available")
    ds, (t1, _, t3) = cosine_dataset()
    path = tmp_path / "cos.cube"
    io.write(ds, path)
    code, out, _ = run_cli(capsys, path, "--json")
    assert code == 0
    doc = json.loads(out)
    assert doc["analysis"]["t1"] == pytest.approx(t1, abs=1e-5)  # cube stores ~6 significant digits
    assert doc["analysis"]["phi"] == pytest.approx(t3, abs=1e-5)


def test_any_field_and_non_hydrogen(tmp_path, capsys):
    ds, (t1, _, _) = cosine_dataset(field="density", scale=10.0)
    path = write_netcdf(ds, tmp_path / "density.nc")
    code, _, err = run_cli(capsys, path, "--field", "density")
    assert code == 2 and "--any-field" in err and "Traceback" not in err
    code, out, _ = run_cli(capsys, path, "--field", "density", "--any-field")
    assert code == 0 and f"t1 = {10 * t1:.5f}" in out and "Tc estimate withheld: not given" in out
    li, _ = cosine_dataset(numbers=(3, 1))
    code, out, _ = run_cli(capsys, write_netcdf(li, tmp_path / "li.nc"))
    assert code == 0 and "pure hydrogen only" in out


def test_errors_exit_2_with_a_message(tmp_path, capsys):
    code, _, err = run_cli(capsys, tmp_path / "missing.nc")
    assert code == 2 and "missing.nc" in err
    ds, _ = cosine_dataset()
    path = write_netcdf(ds, tmp_path / "cos.nc")
    code, _, err = run_cli(capsys, path, "--field", "elf_ref")
    assert code == 2 and "no field 'elf_ref'" in err and "'elf'" in err


def test_a_liquid_frame_gets_no_tc_estimate_and_the_reason(tmp_path, capsys):
    ds, _ = cosine_dataset()
    ds.attrs.update(phase="liquid", temperature_k=1500.0)
    path = write_netcdf(ds, tmp_path / "liquid.nc")
    code, out, _ = run_cli(capsys, path)
    assert code == 0 and "Tc ~" not in out
    assert "not applicable: this is a fluid at 1500 K" in out
    code, out, _ = run_cli(capsys, path, "--json")
    doc = json.loads(out)
    assert doc["tc_estimate"] is None and "fluid" in doc["tc_note"]


def test_tc_domain_for_crystals(tmp_path, capsys):
    """Molecular C2/c-24 (DFT): withheld unless --metallic; atomic I4_1/amd: reported with the caveat."""
    from elfviz.data import examples_path

    frames = examples_path() / "frames"
    code, out, _ = run_cli(capsys, frames / "C2c-24-rs1.30.nc")
    assert code == 0 and "Tc ~" not in out and "molecular" in out and "--metallic" in out
    code, out, _ = run_cli(capsys, frames / "C2c-24-rs1.30.nc", "--metallic", "--json")
    doc = json.loads(out)
    assert doc["tc_status"] == "reported" and doc["tc_estimate"]["scatter_k"] == 60.0
    code, out, _ = run_cli(capsys, frames / "I41amd-rs1.30.nc")
    assert code == 0 and "Tc ~ 41" in out and "H_DOS" in out and "flagged" not in out
    code, out, _ = run_cli(capsys, frames / "I41amd-rs1.30.nc", "--insulator", "--json")
    doc = json.loads(out)
    assert doc["tc_estimate"] is None and doc["tc_status"] == "withheld" and "insulator" in doc["tc_note"]
    with pytest.raises(SystemExit) as exit_info:
        run_cli(capsys, frames / "I41amd-rs1.30.nc", "--insulator", "--metallic")
    assert exit_info.value.code == 2 and "not allowed with" in capsys.readouterr().err
