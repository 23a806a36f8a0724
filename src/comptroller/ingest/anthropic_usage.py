"""Anthropic Admin API usage report pages (``/v1/organizations/usage_report/messages``) as events.

Like the OpenAI reader, each result of a time bucket becomes one aggregate usage event with an id
derived from the bucket and its grouping, so re-ingesting a saved page adds nothing. Anthropic
already reports input *without* cached tokens, so nothing is subtracted: cache reads and the
cache-creation parts are their own kinds. The 5-minute and 1-hour cache writes are summed into
``cache_write`` (the ledger has one kind for both) and kept apart in ``tags`` so they can be
re-priced separately later; so are server-tool requests, which are billed per request, not token.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pyarrow as pa

from comptroller.ingest.openai_usage import ExportParser, event_id, iter_results, load_pages

SOURCE = "anthropic_usage"
ANTHROPIC_DIMENSIONS = (
    "model",
    "workspace_id",
    "api_key_id",
    "service_tier",
    "context_window",
    "account_id",
    "service_account_id",
    "inference_geo",
    "speed",
)
"""Everything a result can be grouped by: two results of one bucket differ in at least one."""
CACHE_WRITE_PARTS = ("ephemeral_5m_input_tokens", "ephemeral_1h_input_tokens")


def rfc3339(parser: ExportParser, bucket: Mapping[str, Any], key: str, row: int) -> datetime | None:
    """A bucket bound as naive UTC, the ledger's convention for event timestamps."""
    value = bucket.get(key)
    try:
        if not isinstance(value, str):
            raise TypeError
        parsed = datetime.fromisoformat(value)
    except (TypeError, ValueError):
        parser.problem(f"bucket {key} {value!r} is not an RFC 3339 time", row, key)
        return None
    if parsed.tzinfo is not None:
        parsed = parsed.astimezone(UTC).replace(tzinfo=None)
    return parsed


def _cache_writes(parser: ExportParser, result: Mapping[str, Any], row: int) -> dict[str, int]:
    creation = result.get("cache_creation")
    if creation is None:
        return dict.fromkeys(CACHE_WRITE_PARTS, 0)
    if not isinstance(creation, dict):
        parser.problem(f"{creation!r} is not an object", row, "cache_creation")
        return dict.fromkeys(CACHE_WRITE_PARTS, 0)
    return {part: parser.count(creation, part, row, parent="cache_creation") for part in CACHE_WRITE_PARTS}


def _web_searches(parser: ExportParser, result: Mapping[str, Any], row: int) -> int:
    tools = result.get("server_tool_use")
    if tools is None:
        return 0
    if not isinstance(tools, dict):
        parser.problem(f"{tools!r} is not an object", row, "server_tool_use")
        return 0
    return parser.count(tools, "web_search_requests", row, parent="server_tool_use")


def read_anthropic_usage(path: Path) -> pa.Table:
    """Usage events from one saved file of Admin API messages usage report pages."""
    return anthropic_usage_events(load_pages(path), str(path))


def anthropic_usage_events(pages: list[Any], origin: str) -> pa.Table:
    """Usage events from already-parsed usage report pages (a saved file or a live pull)."""
    parser = ExportParser(origin)
    for row, bucket, result in iter_results(parser, pages):
        start = rfc3339(parser, bucket, "starting_at", row)
        uncached = parser.count(result, "uncached_input_tokens", row, required=True)
        cache_read = parser.count(result, "cache_read_input_tokens", row)
        output = parser.count(result, "output_tokens", row, required=True)
        writes = _cache_writes(parser, result, row)
        web_searches = _web_searches(parser, result, row)
        model = parser.model(result, row)
        for name in ANTHROPIC_DIMENSIONS[1:]:
            parser.text(result, name, row)
        if start is None or model is None or parser.problems:
            continue
        dims = {d: result.get(d) for d in ANTHROPIC_DIMENSIONS}
        tags: dict[str, Any] = {
            "cache_write_5m_tokens": writes["ephemeral_5m_input_tokens"],
            "cache_write_1h_tokens": writes["ephemeral_1h_input_tokens"],
        }
        if web_searches:
            tags["web_search_requests"] = web_searches
        if result.get("context_window"):
            tags["context_window"] = result["context_window"]
        parser.rows.append(
            {
                "event_id": event_id(SOURCE, start, bucket.get("ending_at"), dims),
                "timestamp": start,
                "source": SOURCE,
                "provider": "anthropic",
                "model": model,
                "operation": "chat",
                "billing_account_id": None,
                "project_id": result.get("workspace_id"),
                "api_key_id": result.get("api_key_id"),
                "uncached_input_tokens": uncached,
                "cache_read_tokens": cache_read,
                "cache_write_tokens": sum(writes.values()),
                "output_tokens": output,
                "reasoning_tokens": 0,
                "service_tier": result.get("service_tier"),
                "tags": json.dumps(tags, sort_keys=True),
            }
        )
    return parser.table()
