"""Ingesting FOCUS exports: one delivery, all files or none, replacing what it restates.

A FOCUS export restates a whole billing period per billing account. So the files given to one
ingest are one delivery, and for every (source, billing account, billing period) they contain the
delivery replaces whatever the ledger held for it. Re-ingesting the same export therefore changes
nothing, and a corrected re-export replaces its period instead of adding to it.
"""

from __future__ import annotations

import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from comptroller.errors import IngestError, Problem
from comptroller.ingest.currency import (
    CurrencyConversion,
    converted_columns,
    converted_select,
    register_rates,
)
from comptroller.ingest.files import describe, detect_format
from comptroller.ingest.focus_checks import diagnostic_connection, failing_checks, locate
from comptroller.ingest.focus_mapping import FocusFile
from comptroller.ingest.focus_sources import FastPathUnavailable, PreparedFile, prepare
from comptroller.ingest.json_lookups import Lookups
from comptroller.ledger.store import Ledger

SCOPE_COLUMNS: tuple[str, ...] = ("x_Source", "BillingAccountId", "BillingPeriodStart")

CsvReader = Literal["duckdb", "arrow"]

ProgressWatch = Callable[[duckdb.DuckDBPyConnection, str], AbstractContextManager[object]]
"""Given the connection running a long statement and a label, shows its progress while open."""


@dataclass(frozen=True, slots=True)
class FileResult:
    path: str
    rows: int
    focus_version: str
    provider_columns: tuple[str, ...]
    reader: str
    """"arrow" (typed CSV fast path) or "duckdb"."""


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    delivery_id: str
    source: str
    files: tuple[FileResult, ...]
    rows: int
    replaced_rows: int
    seconds: float


def inspect_focus_files(paths: Sequence[Path], source: str = "focus") -> list[FocusFile]:
    """Read each file's header; reject the delivery if any file lacks a mandatory column."""
    con = diagnostic_connection()
    try:
        files = [FocusFile(p, detect_format(p), [], source) for p in paths]
        files = [FocusFile(f.path, f.fmt, describe(con, f.path, f.fmt), source) for f in files]
    finally:
        con.close()
    problems = [
        Problem(str(f.path), "missing the mandatory FOCUS column", column=name)
        for f in files
        for name in f.missing_mandatory()
    ]
    if problems:
        raise IngestError(problems)
    return files


def ingest_focus(
    ledger: Ledger,
    paths: Sequence[Path],
    *,
    source: str = "focus",
    watch: ProgressWatch | None = None,
    csv_reader: CsvReader = "duckdb",
    fx: CurrencyConversion | None = None,
    scope: tuple[str, ...] = SCOPE_COLUMNS,
) -> DeliveryResult:
    """Ingest one delivery. ``csv_reader="arrow"`` reads CSV with Arrow's parser; it peaks at
    about twice the memory (docs/benchmarks.md); files Arrow refuses fall back to DuckDB.

    With ``fx``, lines billed in another currency are converted to its reporting currency
    (``ingest.currency``); without it every line keeps the currency it was billed in. ``scope``
    names the columns whose value combinations the delivery restates (default: billing period)."""
    started = time.perf_counter()
    files = inspect_focus_files(paths, source)
    try:
        delivery_id, results, replaced = _deliver(
            ledger, files, watch, fast=csv_reader == "arrow", fx=fx, scope=scope
        )
    except FastPathUnavailable:
        delivery_id, results, replaced = _deliver(ledger, files, watch, fast=False, fx=fx, scope=scope)
    return DeliveryResult(
        delivery_id=delivery_id,
        source=source,
        files=tuple(results),
        rows=sum(r.rows for r in results),
        replaced_rows=replaced,
        seconds=time.perf_counter() - started,
    )


def _deliver(
    ledger: Ledger,
    files: list[FocusFile],
    watch: ProgressWatch | None,
    *,
    fast: bool,
    fx: CurrencyConversion | None = None,
    scope: tuple[str, ...] = SCOPE_COLUMNS,
) -> tuple[str, list[FileResult], int]:
    """One transaction: insert every file, check, replace the scopes the delivery restates."""
    delivery_id = uuid.uuid4().hex
    results: list[FileResult] = []
    prepared: list[PreparedFile] = []
    with ledger.delivery(delivery_id) as writer:
        writer.add_columns(sorted({c for f in files for c in f.extras.values()}))
        for i, file in enumerate(files):
            rates = fx.rates_for(file, writer.staging) if fx else None
            ready = prepare(file, writer.staging, fast=fast)
            prepared.append(ready)
            lookups = ready.lookups.bind(writer.staging, f"_lookup_{delivery_id[:12]}_{i}")
            columns = file.filled_columns(lookups)
            select = file.select_sql(delivery_id, lookups, source=ready.source, columns=columns)
            rates_table = None
            if fx is not None and rates is not None:
                rates_table = register_rates(writer.staging, rates)
                columns = converted_columns(columns)
                select = converted_select(select, columns, rates_table, fx.reporting_currency)
            progress = watch(writer.staging, file.path.name) if watch else nullcontext()
            try:
                with progress:
                    rows = writer.insert_cost_lines(select, columns)
            except duckdb.Error as exc:
                if ready.registered:
                    raise FastPathUnavailable(str(exc)) from exc
                problems = locate(file, [], ready.lookups)
                raise IngestError(problems or [Problem(str(file.path), str(exc).splitlines()[0])]) from exc
            finally:
                for name in (*ready.registered, *([rates_table] if rates_table else [])):
                    writer.staging.unregister(name)
                Lookups.release(writer.staging, lookups)
            reader = "arrow" if ready.registered else "duckdb"
            results.append(
                FileResult(str(file.path), rows, file.version, tuple(file.extras.values()), reader)
            )
        failing = failing_checks(writer.staging, writer.delivered_relation())
        if failing:
            raise IngestError([p for r in prepared for p in locate(r.file, failing, r.lookups)])
        replaced = writer.replace_scopes(scope)
    return delivery_id, results, replaced


def ingest_focus_rows(
    ledger: Ledger,
    rows: Sequence[dict[str, str | None]],
    *,
    source: str,
    name: str = "rows",
    fx: CurrencyConversion | None = None,
    scope: tuple[str, ...] = SCOPE_COLUMNS,
) -> DeliveryResult:
    """Ingest FOCUS rows a connector built (cells as text) through the same atomic, checked path
    as an export file: they are written to a temporary Parquet file and delivered from there."""
    columns = list(dict.fromkeys(key for row in rows for key in row))
    schema = pa.schema([(column, pa.string()) for column in columns])
    with tempfile.TemporaryDirectory(prefix=f"comptroller-{source}-") as tmp:
        path = Path(tmp) / f"{name}.parquet"
        pq.write_table(pa.Table.from_pylist(list(rows), schema=schema), path)
        return ingest_focus(ledger, [path], source=source, fx=fx, scope=scope)
