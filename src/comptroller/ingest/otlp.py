"""OTLP/HTTP traces in, per-call usage events out.

Most AI applications already emit OpenTelemetry ``gen_ai`` spans, so accepting OTLP directly means
no new SDK in the caller's code. Each model-call span becomes one usage event whose id is the
span's own (trace id + span id), which makes exporter retries harmless: the ledger keeps the first
copy. Token counts are converted to the ledger's disjoint kinds here, at the edge, because the
conventions count cached tokens inside input and reasoning inside output. Spans in the OpenInference
and OpenLLMetry dialects are read too (``otlp_conventions``); agent, workflow and tool spans become
the calls' agent runs, workflow runs and tool-call counts (``otlp_runs``).
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
from opentelemetry.proto.trace.v1.trace_pb2 import Status

from comptroller.errors import IngestError, Problem
from comptroller.ingest import otlp_conventions as conventions
from comptroller.ingest.otlp_conventions import Attributes, SpanRole
from comptroller.ingest.otlp_runs import TraceRuns, TraceSpan

__all__ = [
    "JSON",
    "PROTOBUF",
    "ExportTraceServiceResponse",
    "decode_body",
    "parse_request",
    "spans_to_events",
]

ORIGIN = "otlp"
PROTOBUF = "application/x-protobuf"
JSON = "application/json"
DIMENSIONS = ("team", "product", "feature", "workflow", "agent", "customer", "owner")
ID_FIELDS = ("traceId", "spanId", "parentSpanId")
ENVIRONMENT_KEYS = ("deployment.environment.name", "deployment.environment")


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


SCALAR_KINDS = frozenset(("string_value", "int_value", "double_value", "bool_value"))
DIMENSION_KEYS = tuple((d, f"comptroller.{d}") for d in DIMENSIONS)


def _attributes(pairs: Iterable[KeyValue]) -> Attributes:
    """Flatten scalar attribute values; arrays and maps are not needed for cost."""
    out: Attributes = {}
    for kv in pairs:
        value = kv.value
        kind = value.WhichOneof("value")
        if kind in SCALAR_KINDS:
            out[kv.key] = getattr(value, kind)
    return out


def spans_to_events(request: ExportTraceServiceRequest) -> pa.Table:
    """One usage-event row per model-call span; agent, workflow and tool spans are folded into
    the calls they enclose or follow (``otlp_runs``); every other span is ignored."""
    spans: list[TraceSpan] = []
    resource_dims: list[dict[str, Any]] = []  # per span, shared by the spans of one resource
    for resource_spans in request.resource_spans:
        resource = _attributes(resource_spans.resource.attributes)
        dims = _resource_dimensions(resource)
        for scope_spans in resource_spans.scope_spans:
            spans += [TraceSpan(span, _attributes(span.attributes), resource) for span in scope_spans.spans]
            resource_dims += [dims] * len(scope_spans.spans)
    runs = TraceRuns(spans)
    return _table(
        [
            _event(s, runs, dims)
            for s, dims in zip(spans, resource_dims, strict=True)
            if s.role is SpanRole.MODEL
        ]
    )


def _resource_dimensions(resource: Attributes) -> dict[str, Any]:
    """The dimensions a resource gives all its spans, worked out once per resource, not per span."""
    dims = {d: resource.get(key) for d, key in DIMENSION_KEYS}
    dims["product"] = dims["product"] or resource.get("service.name")
    return dims


def _event(s: TraceSpan, runs: TraceRuns, resource_dims: dict[str, Any]) -> dict[str, Any]:
    span, attrs, resource = s.span, s.attrs, s.resource
    trace_hex, span_hex = span.trace_id.hex(), span.span_id.hex()
    name = f"{trace_hex}/{span_hex}"
    if len(span.trace_id) != 16 or len(span.span_id) != 8:
        raise _problem("trace id must be 16 bytes and span id 8 bytes", name)
    provider = conventions.provider(attrs)
    model = conventions.model(attrs)
    if not provider:
        raise _problem("gen_ai.provider.name (or gen_ai.system, llm.provider) is missing", name)
    if not model:
        raise _problem("gen_ai.response.model (or gen_ai.request.model, llm.model_name) is missing", name)
    start, end = span.start_time_unix_nano, span.end_time_unix_nano
    if not start:
        raise _problem("start time is missing", name)
    error = span.status.code == Status.STATUS_CODE_ERROR
    context = runs.context(s)
    row: dict[str, Any] = {
        "event_id": trace_hex + span_hex,
        "start_us": start // 1000,
        "source": ORIGIN,
        "provider": provider,
        "model": model,
        "operation": conventions.operation(attrs),
        "request_id": _text(attrs.get("gen_ai.response.id")),
        "trace_id": trace_hex,
        "agent_run_id": context.agent_run_id,
        "workflow_run_id": context.workflow_run_id,
        "latency_ms": None if end < start or not end else (end - start) / 1e6,
        "status": "error" if error else "ok",
        "error_type": _text(attrs.get("error.type")) if error else None,
        "tool_calls": runs.tool_calls.get(s.key, 0),
        **conventions.token_kinds(attrs, name),
    }
    dims = dict(resource_dims)
    dims["agent"] = dims["agent"] or context.agent
    dims["workflow"] = dims["workflow"] or context.workflow or attrs.get("traceloop.workflow.name")
    for d, key in DIMENSION_KEYS:
        if (v := attrs.get(key)) is not None:
            dims[d] = v
    for d, v in dims.items():
        row[d] = _text(v)
    row["environment"] = _text(_environment(attrs, resource))
    return row


def _environment(attrs: Attributes, resource: Attributes) -> Any:
    """The span's own environment before its resource's, the current key before the old one."""
    for key in ENVIRONMENT_KEYS:
        for source in (attrs, resource):
            if value := source.get(key):
                return value
    return None


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


STRING_COLUMNS = (
    "event_id",
    "source",
    "provider",
    "model",
    "operation",
    "request_id",
    "trace_id",
    "agent_run_id",
    "workflow_run_id",
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
    "tool_calls",
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
