"""How each FOCUS file is read for insertion: the relation to select from and its lookups.

Parquet is read by DuckDB itself (typed, parallel). CSV goes through Arrow's typed reader when the
file allows it, and through DuckDB's all-text reader otherwise; see ``arrow_csv`` for why.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from comptroller.errors import IngestError, Problem
from comptroller.ingest import arrow_csv
from comptroller.ingest.files import FileFormat
from comptroller.ingest.focus_mapping import FocusFile, Relation
from comptroller.ingest.json_lookups import Lookups

JSON_DIMENSION_SOURCES = ("Tags", "SkuPriceDetails")


class FastPathUnavailable(Exception):
    """The Arrow CSV reader refused the file; the delivery is retried on the DuckDB reader."""


@dataclass(frozen=True, slots=True)
class PreparedFile:
    file: FocusFile
    source: Relation
    lookups: Lookups
    registered: tuple[str, ...] = ()


def prepare(file: FocusFile, con: duckdb.DuckDBPyConnection, *, fast: bool) -> PreparedFile:
    seen = distinct_json_values(file, con)
    lookups = Lookups.build(seen["Tags"], seen["SkuPriceDetails"])
    if fast and file.fmt is FileFormat.CSV:
        return _arrow_csv_source(file, con, lookups)
    return PreparedFile(file, file.relation(), lookups)


def distinct_json_values(file: FocusFile, con: duckdb.DuckDBPyConnection) -> dict[str, set[str]]:
    """The distinct texts of Tags and SkuPriceDetails, as the ledger will store them.

    For CSV one Arrow pass over just those columns beats DuckDB, which would parse every
    column of the file once per query."""
    if file.fmt is FileFormat.CSV:
        names = [n for n, _ in file.source_columns]
        try:
            seen = arrow_csv.distinct_strings(file.path, names, list(JSON_DIMENSION_SOURCES))
        except pa.ArrowException:
            pass
        else:
            return {c: {v.strip() for v in values if v.strip()} for c, values in seen.items()}
    result: dict[str, set[str]] = {}
    for column in JSON_DIMENSION_SOURCES:
        if column not in file.source_types:
            result[column] = set()
            continue
        try:
            rows = con.execute(file.distinct_json_sql(column)).fetchall()
        except duckdb.Error as exc:
            raise IngestError(
                [Problem(str(file.path), str(exc).strip().splitlines()[0], column=column)]
            ) from exc
        result[column] = {r[0] for r in rows}
    return result


def _arrow_csv_source(file: FocusFile, con: duckdb.DuckDBPyConnection, lookups: Lookups) -> PreparedFile:
    names = [n for n, _ in file.source_columns]
    try:
        reader = arrow_csv.open_csv(file.path, names)
    except pa.ArrowException as exc:
        raise FastPathUnavailable(str(exc)) from exc
    if reader.schema.names != names:
        raise FastPathUnavailable("Arrow and DuckDB read different columns")
    name = f"_source_{uuid.uuid4().hex[:12]}"
    con.register(name, reader)
    return PreparedFile(file, Relation(name, dict(arrow_csv.duckdb_types(reader.schema))), lookups, (name,))
