"""Which connector reads a file: told by ``--source`` or recognised from the file's columns.

Provider usage exports are JSON pages whose top-level columns (``data``, ``has_more``) say nothing
about the provider, so those sources are recognised by the fields of the first result instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import duckdb
import pyarrow as pa

from comptroller.errors import IngestError, Problem
from comptroller.ingest.anthropic_usage import read_anthropic_usage
from comptroller.ingest.expenses import looks_like_expenses
from comptroller.ingest.files import FileFormat, describe, detect_format
from comptroller.ingest.focus_checks import diagnostic_connection
from comptroller.ingest.openai_usage import first_result_keys, read_openai_usage
from comptroller.ledger.sqltypes import literal


@dataclass(frozen=True, slots=True)
class SourceKind:
    name: str
    description: str
    recognises: Callable[[set[str]], bool]
    detect_by: Literal["columns", "page_result"] = "columns"
    """What ``recognises`` is shown: the file's columns, or the first result's fields of a page."""
    restates: bool = False
    """A provider's export restates its time buckets: a later save of a bucket replaces the
    earlier one (an hour still in progress grows), where per-call events are final."""


SOURCES: dict[str, SourceKind] = {
    s.name: s
    for s in (
        SourceKind(
            "focus",
            "FOCUS 1.0-1.3 cost and usage export (CSV, CSV.gz, Parquet)",
            lambda cols: {"BilledCost", "ChargePeriodStart"} <= cols,
        ),
        SourceKind(
            "aws_cur",
            "AWS Cost and Usage Report 2.0 (CSV, CSV.gz, Parquet), converted to FOCUS",
            lambda cols: {"line_item_line_item_type", "bill_payer_account_id"} <= cols,
        ),
        SourceKind(
            "usage",
            "per-call AI usage events (Parquet, CSV, JSON lines) in the ledger's event schema",
            lambda cols: {"event_id", "provider", "model"} <= cols,
        ),
        SourceKind(
            "expenses",
            "expense reports and card transactions (CSV); AI vendors become FOCUS purchase lines",
            looks_like_expenses,
        ),
        SourceKind(
            "openai_usage",
            "OpenAI organization Usage API completions pages (saved JSON)",
            lambda keys: bool({"input_cached_tokens", "num_model_requests"} & keys),
            "page_result",
            restates=True,
        ),
        SourceKind(
            "anthropic_usage",
            "Anthropic Admin API messages usage report pages (saved JSON)",
            lambda keys: bool({"uncached_input_tokens", "cache_read_input_tokens"} & keys),
            "page_result",
            restates=True,
        ),
        SourceKind(
            "openai_costs",
            "OpenAI organization Costs API pages (saved JSON): the bill, as FOCUS lines",
            lambda keys: {"amount", "object"} <= keys,
            "page_result",
        ),
        SourceKind(
            "anthropic_costs",
            "Anthropic Admin API cost report pages (saved JSON): the bill, as FOCUS lines",
            lambda keys: "amount" in keys and "object" not in keys,
            "page_result",
        ),
    )
}


def file_columns(con: duckdb.DuckDBPyConnection, path: Path) -> set[str]:
    fmt = detect_format(path)
    if fmt is FileFormat.JSON:
        if not path.exists():
            raise IngestError([Problem(str(path), "no such file")])
        try:
            rows = con.execute(f"DESCRIBE SELECT * FROM read_json_auto({literal(str(path))})").fetchall()
        except duckdb.Error as exc:
            raise IngestError([Problem(str(path), f"is not valid JSON: {str(exc).splitlines()[0]}")]) from exc
        return {r[0] for r in rows}
    return {name for name, _ in describe(con, path, fmt)}


def detect_source(path: Path) -> str:
    con = diagnostic_connection()
    try:
        columns = file_columns(con, path)
    finally:
        con.close()
    for source in SOURCES.values():
        if source.detect_by == "columns" and source.recognises(columns):
            return source.name
    if "data" in columns and detect_format(path) is FileFormat.JSON:
        keys = first_result_keys(path)
        for source in SOURCES.values():
            if source.detect_by == "page_result" and source.recognises(keys):
                return source.name
    raise IngestError([Problem(str(path), f"not a recognised source; pass --source ({', '.join(SOURCES)})")])


def group_by_source(paths: Sequence[Path], forced: str | None) -> dict[str, list[Path]]:
    if forced is not None and forced not in SOURCES:
        raise IngestError([Problem(forced, f"unknown source; choose one of {', '.join(SOURCES)}")])
    groups: dict[str, list[Path]] = {}
    for path in paths:
        groups.setdefault(forced or detect_source(path), []).append(path)
    return groups


def read_usage_file(path: Path) -> pa.Table:
    """Event files go through Arrow: they are small per batch and need Python-side pricing."""
    con = diagnostic_connection()
    try:
        fmt = detect_format(path)
        reader = (
            f"read_json_auto({literal(str(path))})"
            if fmt is FileFormat.JSON
            else f"read_{fmt.value}({literal(str(path))})"
        )
        try:
            return con.execute(f"SELECT * FROM {reader}").fetch_arrow_table()
        except duckdb.Error as exc:
            raise IngestError([Problem(str(path), str(exc).splitlines()[0])]) from exc
    finally:
        con.close()


USAGE_READERS: dict[str, Callable[[Path], pa.Table]] = {
    "usage": read_usage_file,
    "openai_usage": read_openai_usage,
    "anthropic_usage": read_anthropic_usage,
}
"""Every source but FOCUS and AWS CUR becomes usage events; this says how each one's files are read."""


def read_usage_export(path: Path, kind: str) -> pa.Table:
    """Usage events from a file of source ``kind``, ready for ``ingest_usage_events``."""
    reader = USAGE_READERS.get(kind)
    if reader is None:
        raise IngestError([Problem(str(path), f"source {kind!r} is not read as usage events")])
    return reader(path)
