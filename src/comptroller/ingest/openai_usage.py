"""OpenAI organisation Usage API pages (``/v1/organization/usage/completions``) as usage events.

An admin export is the only usage record for traffic that never went through the gateway, so it
is turned into the same per-call event shape the ledger already prices and rolls up. Each result
of a bucket becomes one aggregate event. Its id is derived from the bucket and the result's
grouping dimensions, so saving and ingesting the same page twice adds nothing.

OpenAI counts cached (and cache-write) tokens *inside* ``input_tokens``; they are subtracted out
here so the ledger's token kinds stay disjoint. The page-walking helpers below are shared with the
Anthropic reader: both exports are pages of time buckets holding results.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from comptroller.errors import IngestError, Problem
from comptroller.ledger.arrow_schema import USAGE_SCHEMA

SOURCE = "openai_usage"
EVENT_COLUMNS = (
    "event_id",
    "timestamp",
    "source",
    "provider",
    "model",
    "operation",
    "billing_account_id",
    "project_id",
    "api_key_id",
    "uncached_input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "output_tokens",
    "reasoning_tokens",
    "requests",
    "service_tier",
    "tags",
)
OPENAI_DIMENSIONS = ("model", "project_id", "user_id", "api_key_id", "batch", "service_tier")
"""Everything a result can be grouped by: two results of one bucket differ in at least one."""


@dataclass
class ExportParser:
    """Collects every problem of one file before anything is written, so a user fixes all at once."""

    origin: str
    problems: list[Problem] = field(default_factory=list)
    rows: list[dict[str, Any]] = field(default_factory=list)

    def problem(self, message: str, row: int | None = None, column: str | None = None) -> None:
        self.problems.append(Problem(self.origin, message, row, column))

    def count(
        self, record: Mapping[str, Any], key: str, row: int, *, required: bool = False, parent: str = ""
    ) -> int:
        """A token or request count: a whole, non-negative JSON number (absent means zero)."""
        value = record.get(key)
        key = f"{parent}.{key}" if parent else key
        if value is None:
            if required:
                self.problem("required field is missing", row, key)
            return 0
        if isinstance(value, float) and value.is_integer():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int):
            self.problem(f"{value!r} is not a whole number", row, key)
            return 0
        if value < 0:
            self.problem(f"count {value} is negative", row, key)
            return 0
        return value

    def text(self, record: Mapping[str, Any], key: str, row: int) -> str | None:
        value = record.get(key)
        if value is None or isinstance(value, str):
            return value
        self.problem(f"{value!r} is not a string", row, key)
        return None

    def model(self, record: Mapping[str, Any], row: int) -> str | None:
        """Without a model the usage cannot be priced; better refused than silently costed $0."""
        value = record.get("model")
        if isinstance(value, str) and value:
            return value
        if value in (None, ""):
            self.problem("model is empty: export with group_by=model so usage can be priced", row, "model")
        else:
            self.problem(f"{value!r} is not a string", row, "model")
        return None

    def table(self) -> pa.Table:
        """The events, or every problem found; nothing half-read reaches the ledger."""
        if self.problems:
            raise IngestError(self.problems)
        schema = pa.schema([USAGE_SCHEMA.field(name) for name in EVENT_COLUMNS])
        return pa.Table.from_pylist(self.rows, schema=schema)


def load_pages(path: Path) -> list[Any]:
    """A saved export: one page object, a JSON array of pages, or JSON lines with a page each."""
    origin = str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise IngestError([Problem(origin, "no such file")]) from exc
    except (OSError, UnicodeDecodeError) as exc:
        raise IngestError([Problem(origin, f"cannot be read: {exc}")]) from exc
    try:
        loaded = json.loads(text)
    except json.JSONDecodeError as exc:
        pages = _json_lines(text)
        if pages is None:
            message = f"is not valid JSON ({exc.msg} at line {exc.lineno}, column {exc.colno})"
            raise IngestError([Problem(origin, message)]) from exc
        return pages
    return loaded if isinstance(loaded, list) else [loaded]


def _json_lines(text: str) -> list[Any] | None:
    """Pages saved one per line, as a paging loop appending to a file writes them; else None."""
    lines = [line for line in text.splitlines() if line.strip()]
    if len(lines) < 2:
        return None
    try:
        return [json.loads(line) for line in lines]
    except json.JSONDecodeError:
        return None


def iter_results(
    parser: ExportParser, pages: list[Any]
) -> Iterator[tuple[int, dict[str, Any], dict[str, Any]]]:
    """(row, bucket, result) for every result; ``row`` counts results across the whole file from 1,
    which is how problems name the record."""
    row = 0
    for number, page in enumerate(pages, start=1):
        data = page.get("data") if isinstance(page, dict) else None
        if not isinstance(data, list):
            parser.problem(f"page {number} has no data list of buckets", column="data")
            continue
        for bucket in data:
            results = bucket.get("results") if isinstance(bucket, dict) else None
            if not isinstance(results, list):
                parser.problem(f"page {number} has a bucket without a results list", row + 1, "results")
                continue
            for result in results:
                row += 1
                if not isinstance(result, dict):
                    parser.problem("result is not an object", row)
                    continue
                yield row, bucket, result


def first_result_keys(path: Path) -> set[str]:
    """The fields of an export's first result: what tells one provider's export from another."""
    for page in load_pages(path):
        buckets = page.get("data") if isinstance(page, dict) else None
        for bucket in buckets if isinstance(buckets, list) else []:
            results = bucket.get("results") if isinstance(bucket, dict) else None
            for result in results if isinstance(results, list) else []:
                if isinstance(result, dict):
                    return set(result)
    return set()


def event_id(source: str, start: datetime, end: object, dimensions: Mapping[str, Any]) -> str:
    """Stable across re-exports of the same bucket and grouping, distinct between results."""
    identity = json.dumps([source, start.isoformat(), end, dimensions], sort_keys=True, default=str)
    return f"{source}:{hashlib.sha256(identity.encode()).hexdigest()[:32]}"


def unix_time(parser: ExportParser, bucket: Mapping[str, Any], key: str, row: int) -> datetime | None:
    value = bucket.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        parser.problem(f"bucket {key} {value!r} is not a Unix time in seconds", row, key)
        return None
    return datetime.fromtimestamp(value, UTC).replace(tzinfo=None)


def read_openai_usage(path: Path) -> pa.Table:
    """Usage events from one saved file of Usage API completions pages."""
    return openai_usage_events(load_pages(path), str(path))


def openai_usage_events(pages: list[Any], origin: str) -> pa.Table:
    """Usage events from already-parsed completions pages (a saved file or a live pull)."""
    parser = ExportParser(origin)
    for row, bucket, result in iter_results(parser, pages):
        start = unix_time(parser, bucket, "start_time", row)
        total_in = parser.count(result, "input_tokens", row, required=True)
        cached = parser.count(result, "input_cached_tokens", row)
        cache_write = parser.count(result, "input_cache_write_tokens", row)
        output = parser.count(result, "output_tokens", row, required=True)
        requests = parser.count(result, "num_model_requests", row)
        audio_in = parser.count(result, "input_audio_tokens", row)
        audio_out = parser.count(result, "output_audio_tokens", row)
        if cached + cache_write > total_in:
            parser.problem(
                f"cached tokens ({cached + cache_write}) exceed input_tokens ({total_in})",
                row,
                "input_cached_tokens",
            )
        model = parser.model(result, row)
        dims = {d: result.get(d) for d in OPENAI_DIMENSIONS}
        for name in ("project_id", "user_id", "api_key_id", "service_tier"):
            parser.text(result, name, row)
        batch = result.get("batch")
        if batch is not None and not isinstance(batch, bool):
            parser.problem(f"{batch!r} is not true, false or null", row, "batch")
        if start is None or model is None or parser.problems:
            continue
        tags = {"user_id": result.get("user_id")}
        tags |= {k: v for k, v in (("input_audio_tokens", audio_in), ("output_audio_tokens", audio_out)) if v}
        parser.rows.append(
            {
                "event_id": event_id(SOURCE, start, bucket.get("end_time"), dims),
                "timestamp": start,
                "source": SOURCE,
                "provider": "openai",
                "model": model,
                "operation": "chat",
                "billing_account_id": None,
                "project_id": result.get("project_id"),
                "api_key_id": result.get("api_key_id"),
                "uncached_input_tokens": total_in - cached - cache_write,
                "cache_read_tokens": cached,
                "cache_write_tokens": cache_write,
                "output_tokens": output,
                "reasoning_tokens": 0,
                "requests": max(requests, 1),
                "service_tier": "batch" if batch else result.get("service_tier"),
                "tags": json.dumps(tags, sort_keys=True),
            }
        )
    return parser.table()
