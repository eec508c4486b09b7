"""The screening results CSV: durable appends, resume, incomplete lines, configuration checks, locking."""

from __future__ import annotations

import math

import pytest

from elfviz.errors import FileFormatError, OutputExistsError
from elfviz.screen.journal import COLUMNS, ResultsJournal, format_row, read_results

CONFIG = {"model": "model:test@1", "spacing_angstrom": 0.3, "connectivity": 6}


def row(key, status="ok", **values):
    return {"key": key, "status": status, **CONFIG, **values}


def test_rows_round_trip_exactly(tmp_path):
    path = tmp_path / "r.csv"
    phi = 0.1 + 0.2  # not representable in few digits
    text = 'error with "quotes", commas\nand a newline'
    with ResultsJournal(path, CONFIG) as journal:
        journal.append(row("a#0@1", phi=phi, n_atoms=24, tc_caveat="x, y"))
        journal.append(row("b#0@2", status="error", error=text))
    table = read_results(path)
    assert list(table.columns) == COLUMNS
    assert table.loc[0, "phi"] == phi and table.loc[0, "n_atoms"] == 24
    assert table.loc[0, "tc_caveat"] == "x, y" and table.loc[0, "error"] is None
    assert table.loc[1, "error"] == text and math.isnan(table.loc[1, "phi"])


def test_resume_lists_finished_keys_and_appends(tmp_path):
    path = tmp_path / "r.csv"
    with ResultsJournal(path, CONFIG) as journal:
        journal.append(row("a"))
        journal.append(row("b", status="error", error="boom"))
    with ResultsJournal(path, CONFIG) as journal:
        assert journal.finished_keys() == {"a", "b"}
        assert journal.finished_keys(include_errors=False) == {"a"}
        journal.append(row("c"))
    assert read_results(path)["key"].tolist() == ["a", "b", "c"]


def test_incomplete_last_line_is_dropped(tmp_path):
    path = tmp_path / "r.csv"
    with ResultsJournal(path, CONFIG) as journal:
        journal.append(row("a"))
    with open(path, "a") as handle:
        handle.write(format_row(row("b"))[:25])  # a write cut short by a crash
    with ResultsJournal(path, CONFIG) as journal:
        assert journal.finished_keys() == {"a"}
        journal.append(row("b"))
    assert read_results(path)["key"].tolist() == ["a", "b"]
    assert path.read_text().count("\n") == 3


def test_other_configuration_is_refused(tmp_path):
    path = tmp_path / "r.csv"
    with ResultsJournal(path, CONFIG) as journal:
        journal.append(row("a"))
    for change in ({"spacing_angstrom": 0.12}, {"model": "model:other@2"}, {"connectivity": 26}):
        with pytest.raises(OutputExistsError, match="another run configuration"):
            ResultsJournal(path, {**CONFIG, **change}).open()
    # equal up to float formatting is the same configuration
    with ResultsJournal(path, {**CONFIG, "spacing_angstrom": 0.30000000000000004}) as journal:
        assert journal.finished_keys() == {"a"}


def test_no_resume_and_force(tmp_path):
    path = tmp_path / "r.csv"
    with ResultsJournal(path, CONFIG) as journal:
        journal.append(row("a"))
    with pytest.raises(OutputExistsError, match="already exists"):
        ResultsJournal(path, CONFIG, resume=False).open()
    with ResultsJournal(path, {**CONFIG, "spacing_angstrom": 0.5}, force=True) as journal:
        assert journal.finished_keys() == set()
    assert read_results(path).empty


def test_foreign_csv_is_refused(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text("name,value\nx,1\n")
    with pytest.raises(FileFormatError, match="not an elfviz screening table"):
        ResultsJournal(path, CONFIG).open()
    assert path.read_text() == "name,value\nx,1\n"


def test_second_writer_is_refused(tmp_path):
    path = tmp_path / "r.csv"
    with ResultsJournal(path, CONFIG):
        with pytest.raises(OutputExistsError, match="another elfviz screen run"):
            ResultsJournal(path, CONFIG).open()
    ResultsJournal(path, CONFIG).open().close()  # free again


def test_compact_keeps_the_last_row_per_key(tmp_path):
    path = tmp_path / "r.csv"
    with ResultsJournal(path, CONFIG) as journal:
        journal.append(row("a", status="error", error="transient"))
        journal.append(row("b"))
        journal.append(row("a", phi=0.5))
        journal.compact()
        journal.append(row("c"))
    lines = path.read_text().splitlines()
    assert len(lines) == 4 and lines[0].split(",") == COLUMNS
    table = read_results(path)
    assert table["key"].tolist() == ["b", "a", "c"] and table.loc[1, "status"] == "ok"


def test_unknown_column_is_a_bug_not_data():
    with pytest.raises(KeyError, match="unknown result columns"):
        format_row({"key": "a", "colour": "red"})
