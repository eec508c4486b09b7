"""The results table of a screening run: an append-only CSV that doubles as the journal for resuming.

Every finished item (success or failure) is appended as one CSV line with a single ``write`` on a file
opened with ``O_APPEND``, followed by ``fsync``: a killed process loses at most the items still being
computed, never a written row. On start the table is read back, an incomplete last line (a write cut by a
power loss) is dropped, and the keys already present are skipped. The file is locked (``flock``) while a
run writes to it, so two runs cannot append to the same table.

Each row records the run configuration (``model``, ``spacing_angstrom``, ``connectivity``); resuming into a
table written with another configuration is refused, because its rows would not be comparable.
"""

from __future__ import annotations

import csv
import io
import logging
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pandas as pd

from ..errors import FileFormatError, OutputExistsError

log = logging.getLogger(__name__)

COLUMNS = [
    "key",
    "source",
    "frame",
    "status",
    "error",
    "warnings",
    "phase",
    "pressure_gpa",
    "temperature_k",
    "split",
    "formula",
    "n_atoms",
    "volume_a3",
    "rs_bohr",
    "density_g_cm3",
    "phi",
    "phi_star",
    "t1",
    "t2",
    "t3",
    "tc_k",
    "tc_low_k",
    "tc_high_k",
    "tc_scatter_k",
    "tc_caveat",
    "tc_status",
    "tc_note",
    "grid_a",
    "grid_b",
    "grid_c",
    "spacing_angstrom",
    "connectivity",
    "model",
    "device",
    "worker",
    "t_setup_s",
    "t_predict_s",
    "t_topology_s",
    "t_total_s",
    "finished_utc",
    "content_hash",
]
"""Columns of the results table, in order."""

CONFIG_COLUMNS = ("model", "spacing_angstrom", "connectivity")
"""Columns that must agree between a run and the table it resumes."""

STRING_COLUMNS = (
    "key",
    "source",
    "frame",
    "status",
    "error",
    "warnings",
    "phase",
    "split",
    "formula",
    "tc_caveat",
    "tc_status",
    "tc_note",
    "model",
    "device",
    "worker",
    "finished_utc",
    "content_hash",
)


def format_row(row: Mapping[str, Any]) -> str:
    """One CSV line (with newline) for ``row``, columns in :data:`COLUMNS` order; None/NaN become empty.

    Examples
    --------
    >>> format_row({"key": "a.xyz#0@1", "status": "ok", "phi": 0.25}).split(",")[:4]
    ['a.xyz#0@1', '', '', 'ok']
    """
    unknown = set(row) - set(COLUMNS)
    if unknown:
        raise KeyError(f"unknown result columns {sorted(unknown)}")
    values = []
    for column in COLUMNS:
        value = row.get(column)
        if value is None or (isinstance(value, float) and math.isnan(value)):
            values.append("")
        elif isinstance(value, float):
            values.append(repr(value))  # shortest repr that round-trips exactly
        else:
            values.append(str(value))
    buffer = io.StringIO()
    csv.writer(buffer, lineterminator="\n").writerow(values)
    return buffer.getvalue()


def read_results(path: str | os.PathLike) -> pd.DataFrame:
    """Read a results table (last row per key wins; an incomplete last line is ignored).

    Raises
    ------
    FileFormatError
        If the file is not a results table of this version of elfviz.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8") if path.exists() else ""
    except UnicodeDecodeError:
        raise FileFormatError(f"{path} is not an elfviz screening table (binary content); give another -o "
                              "file, or --force to replace it") from None
    if text and not text.endswith("\n"):
        text = text[: text.rfind("\n") + 1]
    header = next(csv.reader(io.StringIO(text)), None)
    if header != COLUMNS:
        raise FileFormatError(
            f"{path} is not an elfviz screening table of this version (its columns are "
            f"{(header or [])[:6]}...; expected {COLUMNS[:6]}...); give another -o file, "
            "or --force to replace it"
        )
    table = pd.read_csv(
        io.StringIO(text),
        dtype={c: "string" for c in STRING_COLUMNS},
        keep_default_na=False,
        na_values={c: [""] for c in COLUMNS if c not in STRING_COLUMNS},
    )
    for column in STRING_COLUMNS:
        table[column] = table[column].astype(object).where(table[column] != "", None)
    return table.drop_duplicates("key", keep="last").reset_index(drop=True)


class ResultsJournal:
    """Append-only, fsync'ed, locked results CSV.

    Parameters
    ----------
    path : path-like
        The CSV file.
    config : mapping
        Values of :data:`CONFIG_COLUMNS` for this run.
    resume : bool
        Continue an existing table (its finished keys are skipped). If False, an existing file is refused
        unless ``force``.
    force : bool
        Replace an existing file (start over).

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "results.csv"
    >>> config = {"model": "demo", "spacing_angstrom": 0.3, "connectivity": 6}
    >>> with ResultsJournal(path, config) as journal:
    ...     journal.append({"key": "x#0@ab", "status": "ok", **config})
    >>> with ResultsJournal(path, config) as journal:
    ...     sorted(journal.finished_keys())
    ['x#0@ab']
    """

    def __init__(
        self, path: str | os.PathLike, config: Mapping[str, Any], *, resume: bool = True, force: bool = False
    ):
        self.path = Path(path)
        self.config = dict(config)
        self.resume = resume
        self.force = force
        self.previous = pd.DataFrame(columns=COLUMNS)
        self._fd: int | None = None

    # -- context
    def __enter__(self) -> ResultsJournal:
        self.open()
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def open(self) -> ResultsJournal:
        """Create or check the table, lock it, and load the rows already written."""
        if self.path.is_dir():
            raise OutputExistsError(f"{self.path} is a folder; give a .csv file name for the results")
        exists = self.path.exists() and self.path.stat().st_size > 0
        if exists and not self.force and not self.resume:
            raise OutputExistsError(
                f"{self.path} already exists; resume into it (the default), choose another "
                "name, or pass --force / force=True to start over"
            )
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if exists:
            self._open_locked()  # refuses a table another run is writing to, before reading or replacing it
            if not self.force:
                try:
                    # read (and so check) the table before changing a byte of it: a file that is not a
                    # results table must come through untouched
                    self.previous = read_results(self.path)
                    self._check_config(self.previous)
                    self._drop_incomplete_line()
                except BaseException:
                    self.close()
                    raise
                return self
            self.close()
        self._write_header()
        self._open_locked()
        return self

    def close(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # also releases the lock
            self._fd = None

    # -- state
    def finished_keys(self, *, include_errors: bool = True) -> set[str]:
        """Keys already in the table (successes, and failures unless ``include_errors`` is False)."""
        table = self.previous
        if not include_errors:
            table = table[table["status"] == "ok"]
        return set(table["key"].astype(str))

    # -- writing
    def append(self, row: Mapping[str, Any]) -> None:
        """Append one row durably (single ``write`` + ``fsync``)."""
        if self._fd is None:
            raise RuntimeError("the journal is not open")
        data = format_row(row).encode("utf-8")
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        os.fsync(self._fd)

    def compact(self) -> None:
        """Rewrite the table with one row per key (the last) if retries left duplicates; atomic rename."""
        from ..io.store import atomic_write

        table = pd.read_csv(self.path, dtype=str, keep_default_na=False)
        if not table["key"].duplicated().any():
            return
        table = table.drop_duplicates("key", keep="last")
        atomic_write(self.path, lambda tmp: table.to_csv(tmp, index=False, lineterminator="\n"))
        # the lock and descriptor point at the old inode: reopen on the new file
        self.close()
        self._open_locked()

    # -- helpers
    def _write_header(self) -> None:
        from ..io.store import atomic_write

        def write(tmp: Path) -> None:
            with open(tmp, "w", encoding="utf-8", newline="") as handle:
                csv.writer(handle, lineterminator="\n").writerow(COLUMNS)
                handle.flush()
                os.fsync(handle.fileno())

        atomic_write(self.path, write)

    def _drop_incomplete_line(self) -> None:
        with open(self.path, "rb+") as handle:
            data = handle.read()
            if data and not data.endswith(b"\n"):
                keep = data.rfind(b"\n") + 1
                log.warning(
                    "%s: dropping an incomplete last line (an interrupted write); that item is redone",
                    self.path,
                )
                handle.truncate(keep)

    def _check_config(self, table: pd.DataFrame) -> None:
        for column in CONFIG_COLUMNS:
            wanted = self.config.get(column)
            values = table[column].dropna().unique()
            for value in values:
                if not _same(value, wanted):
                    raise OutputExistsError(
                        f"{self.path} holds results of another run configuration ({column} = {value!r}, this "
                        f"run has {wanted!r}); resuming would mix incomparable rows. "
                        "Use another -o file, the "
                        f"same settings as before, or --force to start over"
                    )

    def _open_locked(self) -> None:
        self._fd = os.open(self.path, os.O_WRONLY | os.O_APPEND)
        try:
            import fcntl
        except ImportError:  # pragma: no cover - Windows
            return
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            self.close()
            raise OutputExistsError(
                f"another elfviz screen run is writing to {self.path}; wait for it to finish "
                "or choose another -o file"
            ) from None


def _same(a: Any, b: Any) -> bool:
    try:
        return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-12)
    except (TypeError, ValueError):
        return str(a) == str(b)
