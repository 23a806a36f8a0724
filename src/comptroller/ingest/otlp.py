"""OTLP/HTTP traces in, per-call usage events out.

Most AI applications already emit OpenTelemetry ``gen_ai`` spans, so accepting OTLP directly means
no new SDK in the caller's code. Each model-call span becomes one usage event whose id is the
span's own (trace id + span id), which makes exporter retries harmless: the ledger keeps the first
copy. Token counts are converted to the ledger's disjoint kinds here, at the edge, because the
conventions count cached tokens inside input and reasoning inside output.
"""

from __future__ import annotations

import base64
import gzip
import json
import zlib
from collections.abc import Iterable
from typing import Any

import pyarrow as pa
from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span, Status

from comptroller.errors import IngestError, Problem

__all__ = [
    "JSON",
    "MODEL_OPERATIONS",
    "PROTOBUF",
    "ExportTraceServiceResponse",
    "decode_body",
    "parse_request",
    "spans_to_events",
]

ORIGIN = "otlp"
PROTOBUF = "application/x-protobuf"
JSON = "application/json"
MODEL_OPERATIONS = frozenset({"chat", "text_completion", "generate_content", "embeddings"})
DIMENSIONS = ("team", "product", "feature", "workflow", "agent", "customer", "owner")
ID_FIELDS = ("traceId", "spanId", "parentSpanId")
CACHE_WRITE_KEYS = ("gen_ai.usage.cache_write.input_tokens", "gen_ai.usage.cache_creation.input_tokens")
ENVIRONMENT_KEYS = ("deployment.environment.name", "deployment.environment")

Attributes = dict[str, Any]


def _problem(message: str, span: str | None = None) -> IngestError:
    where = f"{ORIGIN} span {span}" if span else ORIGIN
    return IngestError([Problem(where, message)])


def decode_body(body: bytes, content_encoding: str | None) -> bytes:
    """Undo ``Content-Encoding: gzip``; exporters compress by default in several SDKs."""
    encoding = (content_encoding or "identity").strip().lower()
    if encoding in ("", "identity"):
        return body
    if encoding != "gzip":
        raise _problem(f"Content-Encoding {encoding!r} is not supported (use gzip or none)")
    try:
        return gzip.decompress(body)
    except (OSError, EOFError, zlib.error) as exc:
        raise _problem(f"body is not valid gzip: {exc}") from exc


def parse_request(body: bytes, content_type: str) -> ExportTraceServiceRequest:
    """Parse an ExportTraceServiceRequest from protobuf or OTLP/JSON (already decompressed)."""
    media = content_type.split(";")[0].strip().lower()
    request = ExportTraceServiceRequest()
    if media == PROTOBUF:
        try:
            request.ParseFromString(body)
        except DecodeError as exc:
            raise _problem(f"body is not a valid ExportTraceServiceRequest protobuf: {exc}") from exc
        return request
    if media == JSON:
        try:
            document = json.loads(body)
            if not isinstance(document, dict):
                raise ValueError("the top level is not an object")
            _hex_ids_to_base64(document)
            json_format.ParseDict(document, request, ignore_unknown_fields=True)
        except (ValueError, TypeError, AttributeError, json_format.ParseError) as exc:
            raise _problem(f"body is not a valid OTLP/JSON traces request: {exc}") from exc
        return request
    raise ValueError(f"unsupported content type {content_type!r}")


def _hex_ids_to_base64(document: dict[str, Any]) -> None:
    """OTLP/JSON spells ids in hex, but protobuf's JSON mapping reads bytes as base64 and would
    accept most hex strings silently as the wrong bytes; convert them first."""
    for resource_spans in document.get("resourceSpans") or []:
        for scope_spans in resource_spans.get("scopeSpans") or []:
            for span in scope_spans.get("spans") or []:
                _convert_ids(span)
                for link in span.get("links") or []:
                    _convert_ids(link)


def _convert_ids(item: dict[str, Any]) -> None:
    for key in ID_FIELDS:
        value = item.get(key)
        if not value:
            continue
        try:
            item[key] = base64.b64encode(bytes.fromhex(value)).decode("ascii")
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{key} {value!r} is not hex") from exc


def _attributes(pairs: Iterable[KeyValue]) -> Attributes:
    """Flatten scalar attribute values; arrays and maps are not needed for cost."""
    out: Attributes = {}
    for kv in pairs:
        kind = kv.value.WhichOneof("value")
        if kind in ("string_value", "int_value", "double_value", "bool_value"):
            out[kv.key] = getattr(kv.value, kind)
    return out


def _tokens(attrs: Attributes, key: str, span: str) -> int:
    """A token count; reject anything that is not a non-negative whole number rather than guess."""
    value = attrs.get(key)
    if value is None:
        return 0
    if isinstance(value, bool):
        raise _problem(f"{key} = {value!r} is not an integer", span)
    if (isinstance(value, float) and value.is_integer()) or (
        isinstance(value, str) and value.strip().isdigit()
    ):
        value = int(value)
    if not isinstance(value, int) or value < 0:
        raise _problem(f"{key} = {value!r} is not a non-negative integer", span)
    return value


def _token_kinds(attrs: Attributes, span: str) -> dict[str, int]:
    """Disjoint token kinds from the gen_ai usage attributes.

    The conventions count cache reads and writes inside input_tokens. Some emitters (Anthropic
    style) report input without them; that shows as cache exceeding input, and then the whole
    input is uncached, so cache tokens are neither dropped nor counted twice."""
    total_in = _tokens(attrs, "gen_ai.usage.input_tokens", span)
    cache_read = _tokens(attrs, "gen_ai.usage.cache_read.input_tokens", span)
    write_key = next((k for k in CACHE_WRITE_KEYS if k in attrs), CACHE_WRITE_KEYS[0])
    cache_write = _tokens(attrs, write_key, span)
    uncached = total_in - cache_read - cache_write
    if uncached < 0:
        uncached = total_in
    total_out = _tokens(attrs, "gen_ai.usage.output_tokens", span)
    reasoning = _tokens(attrs, "gen_ai.usage.reasoning.output_tokens", span)
    return {
        "uncached_input_tokens": uncached,
        "cache_read_tokens": cache_read,
        "cache_write_tokens": cache_write,
        "output_tokens": max(total_out - reasoning, 0),
        "reasoning_tokens": reasoning,
    }


def _agent_names(spans: list[tuple[Span, Attributes]]) -> dict[bytes, str]:
    """Map (trace id + span id) of every span to the nearest enclosing agent's name.

    Only spans in the same request are visible, so an agent span exported in a later batch
    cannot name its children; explicit ``comptroller.agent`` attributes work regardless."""
    by_key = {s.trace_id + s.span_id: (s, a) for s, a in spans}
    found: dict[bytes, str | None] = {}

    def resolve(key: bytes, depth: int = 0) -> str | None:
        if key in found:
            return found[key]
        entry = by_key.get(key)
        name: str | None = None
        if entry is not None and depth < 256:
            span, attrs = entry
            if attrs.get("gen_ai.operation.name") == "invoke_agent" and attrs.get("gen_ai.agent.name"):
                name = str(attrs["gen_ai.agent.name"])
            elif span.parent_span_id:
                name = resolve(span.trace_id + span.parent_span_id, depth + 1)
        found[key] = name
        return name

    return {k: n for k in by_key if (n := resolve(k)) is not None}


def spans_to_events(request: ExportTraceServiceRequest) -> pa.Table:
    """One usage-event row per model-call span; every other span is ignored."""
    spans: list[tuple[Span, Attributes, Attributes]] = []
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                spans.append((span, _attributes(span.attributes), resource))
    agents = _agent_names([(s, a) for s, a, _ in spans])
    rows: list[dict[str, Any]] = []
    for span, attrs, resource in spans:
        operation = attrs.get("gen_ai.operation.name")
        if operation not in MODEL_OPERATIONS:
            continue
        rows.append(_event(span, attrs, resource, agents.get(span.trace_id + span.span_id)))
    return _table(rows)


def _event(span: Span, attrs: Attributes, resource: Attributes, agent: str | None) -> dict[str, Any]:
    trace_hex, span_hex = span.trace_id.hex(), span.span_id.hex()
    name = f"{trace_hex}/{span_hex}"
    if len(span.trace_id) != 16 or len(span.span_id) != 8:
        raise _problem("trace id must be 16 bytes and span id 8 bytes", name)
    provider = attrs.get("gen_ai.provider.name") or attrs.get("gen_ai.system")
    model = attrs.get("gen_ai.response.model") or attrs.get("gen_ai.request.model")
    if not provider:
        raise _problem("gen_ai.provider.name (or gen_ai.system) is missing", name)
    if not model:
        raise _problem("gen_ai.response.model (or gen_ai.request.model) is missing", name)
    if not span.start_time_unix_nano:
        raise _problem("start time is missing", name)
    error = span.status.code == Status.STATUS_CODE_ERROR
    row: dict[str, Any] = {
        "event_id": trace_hex + span_hex,
        "start_us": span.start_time_unix_nano // 1000,
        "source": ORIGIN,
        "provider": str(provider),
        "model": str(model),
        "operation": str(attrs["gen_ai.operation.name"]),
        "request_id": _text(attrs.get("gen_ai.response.id")),
        "trace_id": trace_hex,
        "latency_ms": _latency(span),
        "status": "error" if error else "ok",
        "error_type": _text(attrs.get("error.type")) if error else None,
        **_token_kinds(attrs, name),
    }
    dims = {d: resource.get(f"comptroller.{d}") for d in DIMENSIONS}
    dims["product"] = dims["product"] or resource.get("service.name")
    dims["agent"] = dims["agent"] or agent
    dims.update({d: v for d in DIMENSIONS if (v := attrs.get(f"comptroller.{d}")) is not None})
    env = next((v for k in ENVIRONMENT_KEYS for v in (attrs.get(k), resource.get(k)) if v), None)
    row.update({d: _text(v) for d, v in dims.items()})
    row["environment"] = _text(env)
    return row


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _latency(span: Span) -> float | None:
    if span.end_time_unix_nano < span.start_time_unix_nano or not span.end_time_unix_nano:
        return None
    return (span.end_time_unix_nano - span.start_time_unix_nano) / 1e6


STRING_COLUMNS = (
    "event_id",
    "source",
    "provider",
    "model",
    "operation",
    "request_id",
    "trace_id",
    "status",
    "error_type",
    "environment",
    *DIMENSIONS,
)
INT_COLUMNS = (
    "uncached_input_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "output_tokens",
    "reasoning_tokens",
)


def _table(rows: list[dict[str, Any]]) -> pa.Table:
    """Column-wise build; ``ingest_usage_events`` fills the remaining columns with defaults."""
    columns: dict[str, pa.Array] = {
        "timestamp": pa.array([r["start_us"] for r in rows], pa.int64()).cast(pa.timestamp("us", tz="UTC"))
    }
    for name in STRING_COLUMNS:
        columns[name] = pa.array([r[name] for r in rows], pa.string())
    for name in INT_COLUMNS:
        columns[name] = pa.array([r[name] for r in rows], pa.int64())
    columns["latency_ms"] = pa.array([r["latency_ms"] for r in rows], pa.float64())
    return pa.table(columns)
