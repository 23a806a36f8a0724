"""Recognising a file's container format and reading it with DuckDB."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

import duckdb

from comptroller.errors import IngestError, Problem
from comptroller.ledger.sqltypes import literal

NULL_MARKERS = ("", "NULL", "null")
"""Real exports write literal NULL for empty cells."""


class FileFormat(StrEnum):
    CSV = "csv"
    PARQUET = "parquet"
    JSON = "json"


def detect_format(path: Path) -> FileFormat:
    name = path.name.lower()
    for suffix, fmt in (
        (".parquet", FileFormat.PARQUET),
        (".pq", FileFormat.PARQUET),
        (".csv", FileFormat.CSV),
        (".csv.gz", FileFormat.CSV),
        (".tsv", FileFormat.CSV),
        (".json", FileFormat.JSON),
        (".jsonl", FileFormat.JSON),
        (".ndjson", FileFormat.JSON),
    ):
        if name.endswith(suffix):
            return fmt
    with path.open("rb") as fh:
        head = fh.read(4)
    if head == b"PAR1":
        return FileFormat.PARQUET
    if head[:2] == b"\x1f\x8b":
        return FileFormat.CSV
    if head[:1] in (b"{", b"["):
        return FileFormat.JSON
    return FileFormat.CSV


def reader_sql(path: Path, fmt: FileFormat, *, row_numbers: bool = False) -> str:
    """A DuckDB table function reading the file with every CSV cell as text, so that
    decimals keep all their places and a bad cell is ours to report, not the sniffer's."""
    quoted = literal(str(path))
    if fmt is FileFormat.PARQUET:
        return f"read_parquet({quoted}, file_row_number={'true' if row_numbers else 'false'})"
    if fmt is FileFormat.CSV:
        nulls = ", ".join(literal(m) for m in NULL_MARKERS)
        return (
            f"read_csv({quoted}, all_varchar=true, header=true, nullstr=[{nulls}], "
            "strict_mode=true, null_padding=false)"
        )
    raise IngestError([Problem(str(path), "JSON files are not a FOCUS format; use CSV, CSV.gz or Parquet")])


def describe(con: duckdb.DuckDBPyConnection, path: Path, fmt: FileFormat) -> list[tuple[str, str]]:
    """Column names and DuckDB types of a file, or an IngestError that names the file."""
    if not path.exists():
        raise IngestError([Problem(str(path), "no such file")])
    try:
        rows = con.execute(f"DESCRIBE SELECT * FROM {reader_sql(path, fmt)}").fetchall()
    except duckdb.Error as exc:
        raise IngestError([Problem(str(path), f"cannot be read as {fmt.value}: {_first_line(exc)}")]) from exc
    return [(str(r[0]), str(r[1])) for r in rows]


def _first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
