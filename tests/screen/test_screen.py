"""Screening API and CLI: results against direct computation, failures, resume, outputs, embedded cluster."""

from __future__ import annotations

import math

import ase.io
import numpy as np
import pandas as pd
import pytest
from ase import Atoms
from test_screen_support import SPACING, h2_frames, write_trajectory

from elfviz import grid
from elfviz.cli import main
from elfviz.errors import ElfvizError, GridError, OutputExistsError
from elfviz.io.store import FrameCollection
from elfviz.reference.promolecular import promolecular_elf
from elfviz.screen import read_results_netcdf, results_to_dataset, screen
from elfviz.screen.journal import COLUMNS, read_results
from elfviz.topology import networking_analysis


def inline(inputs, **kwargs):
    kwargs.setdefault("model", promolecular_elf)
    kwargs.setdefault("spacing", SPACING)
    return screen(inputs, scheduler="inline", **kwargs)


def test_results_match_a_direct_computation(tmp_path):
    path = write_trajectory(tmp_path / "md.extxyz", 2)
    table = inline([path])
    assert table["status"].tolist() == ["ok", "ok"]
    for frame, (_, row) in zip(ase.io.read(path, ":"), table.iterrows(), strict=True):
        shape = grid.shape_for_spacing(frame.cell.array, SPACING)
        ds = promolecular_elf(grid.from_atoms(frame, shape=shape), shape=shape)
        expected = networking_analysis(ds)
        assert (row["grid_a"], row["grid_b"], row["grid_c"]) == shape
        assert row["phi"] == expected.phi == row["t3"]
        assert (row["t1"], row["t2"], row["phi_star"]) == (expected.t1, expected.t2, expected.phi_star)
        assert row["t1"] >= row["t2"] >= row["t3"]
        verdict = expected.tc_verdict({})  # H2 molecules with no phase: molecular, so withheld
        assert verdict.status == row["tc_status"] == "withheld" and row["tc_note"] == verdict.reason
        assert np.isnan(row["tc_k"]) and np.isnan(row["tc_scatter_k"]) and pd.isna(row["tc_caveat"])
        assert row["rs_bohr"] == pytest.approx(grid.rs_bohr(frame.cell.array, 2))
        assert row["density_g_cm3"] == pytest.approx(grid.mass_density_g_cm3(frame.cell.array, [1, 1]))
        assert row["n_atoms"] == 2 and row["formula"] == "H2"
        assert row["pressure_gpa"] == frame.info["pressure_gpa"]
        assert row["model"] == "elfviz.reference.promolecular.promolecular_elf"
        assert row["t_predict_s"] > 0 and row["t_topology_s"] > 0 and row["t_total_s"] >= row["t_predict_s"]
    assert table.attrs["n_computed"] == 2 and table.attrs["n_skipped"] == 0


def test_failing_items_are_recorded_and_the_batch_goes_on(tmp_path):
    bad = tmp_path / "bad.xyz"
    bad.write_text("not a structure\n")
    molecule = tmp_path / "molecule.xyz"  # no cell: refused by the structure check on the worker
    ase.io.write(molecule, Atoms("H2", [[0, 0, 0], [0.74, 0, 0]]))
    overlap = tmp_path / "overlap.extxyz"
    ase.io.write(overlap, Atoms("H2", [[0, 0, 0], [0.1, 0, 0]], cell=[3, 3, 3], pbc=True))
    helium = tmp_path / "helium.extxyz"  # not hydrogen: the model refuses it
    ase.io.write(helium, Atoms("He", [[0, 0, 0]], cell=[3, 3, 3], pbc=True))
    good = write_trajectory(tmp_path / "good.extxyz", 1)
    table = inline([bad, molecule, overlap, helium, good], out_csv=tmp_path / "r.csv")
    assert table["status"].tolist() == ["error", "error", "error", "error", "ok"]
    errors = table["error"].tolist()
    assert errors[0].startswith("read:") and "bad.xyz" in errors[0]
    assert errors[1].startswith("structure:") and "periodic" in errors[1]
    assert errors[2].startswith("structure:") and "apart" in errors[2]
    assert errors[3].startswith("predict:") and "hydrogen" in errors[3].lower()
    assert table.attrs["n_failed"] == 4
    written = read_results(tmp_path / "r.csv")
    assert written["status"].tolist() == table["status"].tolist()
    # failed items are skipped on a re-run, unless retried
    again = inline([bad, molecule, overlap, helium, good], out_csv=tmp_path / "r.csv")
    assert again.attrs["n_computed"] == 0 and again["error"].tolist() == errors
    retried = inline([bad, molecule, overlap, helium, good], out_csv=tmp_path / "r.csv", retry_errors=True)
    assert retried.attrs["n_computed"] == 4 and retried.attrs["n_skipped"] == 1
    assert len(read_results(tmp_path / "r.csv")) == 5
    assert len((tmp_path / "r.csv").read_text().splitlines()) == 6  # compacted: one row per key


def test_resume_skips_finished_items_and_keeps_their_rows(tmp_path):
    path = write_trajectory(tmp_path / "md.extxyz", 4)
    out = tmp_path / "r.csv"
    first = inline([path], out_csv=out)
    frames = h2_frames(6)
    ase.io.write(path, frames, format="extxyz")  # the trajectory grew by two frames
    second = inline([path], out_csv=out)
    assert second.attrs["n_skipped"] == 4 and second.attrs["n_computed"] == 2
    pd.testing.assert_frame_equal(second.iloc[:4].reset_index(drop=True), first, check_dtype=False)
    assert read_results(out)["key"].tolist() == second["key"].tolist()
    with pytest.raises(OutputExistsError, match="another run configuration"):
        inline([path], out_csv=out, spacing=0.25)
    with pytest.raises(OutputExistsError, match="already exists"):
        inline([path], out_csv=out, resume=False)


def test_netcdf_view_and_fields(tmp_path):
    path = write_trajectory(tmp_path / "md.extxyz", 2)
    table = inline([path], out_netcdf=tmp_path / "r.nc", fields_dir=tmp_path / "fields")
    ds = read_results_netcdf(tmp_path / "r.nc")
    assert ds.sizes["item"] == 2
    np.testing.assert_array_equal(ds["phi"].values, table["phi"].to_numpy(dtype=float))
    assert ds["rs_bohr"].attrs["units"] == "bohr"
    # H2 molecules without a phase: the Tc correlation is withheld, and each row says why
    assert ds["tc_status"].values.tolist() == ["withheld"] * 2 and "molecular" in str(ds["tc_note"].values[0])
    assert ds["key"].values.tolist() == table["key"].tolist()
    assert ds.groupby("pressure_gpa").mean()["phi"].size == 2
    collection = FrameCollection(tmp_path / "fields")
    assert len(collection) == 2 and set(collection.index["screen_key"]) == set(table["key"])
    field = collection.read(collection.frame_ids()[0])
    assert networking_analysis(field).phi == pytest.approx(table.loc[0, "phi"], abs=2e-5)  # uint16 storage
    with pytest.raises(OutputExistsError, match="already exists"):
        inline([path], out_netcdf=tmp_path / "r.nc")


def test_results_dataset_keeps_strings_and_missing_values():
    table = pd.DataFrame(
        [
            {"key": "a", "status": "error", "error": "boom"},
            {"key": "b", "status": "ok", "phi": 0.4, "phase": "liquid"},
        ],
        columns=COLUMNS,
    )
    ds = results_to_dataset(table)
    assert ds["status"].values.tolist() == ["error", "ok"] and ds["phase"].values.tolist() == ["", "liquid"]
    assert math.isnan(ds["phi"].values[0]) and ds["phi"].values[1] == 0.4


def test_bad_arguments_are_refused_before_work(tmp_path):
    path = write_trajectory(tmp_path / "md.extxyz", 1)
    with pytest.raises(GridError, match="spacing"):
        inline([path], spacing=0)
    with pytest.raises(ElfvizError, match="workers"):
        inline([path], workers=0)
    with pytest.raises(ElfvizError, match="does not exist"):
        inline([tmp_path / "missing.extxyz"])
    assert not (tmp_path / "r.csv").exists()


def test_default_model_is_the_bundled_predictor(tmp_path):
    path = write_trajectory(tmp_path / "md.extxyz", 1)
    try:
        from elfviz.model import Predictor

        version = Predictor(device="cpu").version
    except Exception as exc:  # weights not bundled yet: the run must say so before any work
        with pytest.raises(ElfvizError):
            screen([path], scheduler="inline", spacing=SPACING, out_csv=tmp_path / "r.csv")
        assert not (tmp_path / "r.csv").exists()
        pytest.skip(f"bundled model not available here ({exc})")
    table = screen([path], scheduler="inline", spacing=SPACING)
    assert table.loc[0, "status"] == "ok" and table.loc[0, "model"] == f"model:{version}"


def test_cli_inline_run_and_resume(tmp_path, capsys):
    path = write_trajectory(tmp_path / "md.extxyz", 2)
    out = tmp_path / "r.csv"
    argv = [
        "screen",
        path,
        "-o",
        str(out),
        "--scheduler",
        "inline",
        "--model",
        "promolecular",
        "--spacing",
        str(SPACING),
        "--netcdf",
        str(tmp_path / "r.nc"),
    ]
    assert main(argv) == 0
    text = capsys.readouterr().out
    assert "2 item(s): 2 ok, 0 failed; computed 2, skipped 0" in text and "Belli" in text
    assert main(argv) == 2  # the netCDF exists: refused without --force
    assert "already exists" in capsys.readouterr().err
    assert main(argv + ["--force"]) == 0
    assert main(argv[:-2]) == 0
    assert "computed 0, skipped 2" in capsys.readouterr().out
    bad = tmp_path / "bad.xyz"
    bad.write_text("garbage\n")
    assert main(["screen", path, str(bad)] + argv[2:-2]) == 1  # some item failed
    assert "error" in capsys.readouterr().out


def test_cli_rejects_bad_options(tmp_path, capsys):
    path = write_trajectory(tmp_path / "md.extxyz", 1)
    with pytest.raises(SystemExit):
        main(["screen", path, "-o", str(tmp_path / "r.csv"), "--spacing", "-1"])
    assert "positive" in capsys.readouterr().err
    assert main(["screen", path, "-o", str(tmp_path / "r.csv"), "--model", "nosuchmodule:predict"]) == 2
    assert "cannot import the model function" in capsys.readouterr().err


def test_non_periodic_structure_with_a_cell_is_refused(tmp_path):
    path = tmp_path / "slab.extxyz"
    ase.io.write(path, Atoms("H2", [[0, 0, 0], [0.74, 0, 0]], cell=[3, 3, 3], pbc=[True, True, False]))
    table = inline([path])
    assert table.loc[0, "status"] == "error" and "periodic only along" in table.loc[0, "error"]
