"""Dimensions from resources and spans when one export request carries several resources."""

from __future__ import annotations

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, ScopeSpans, Span

from comptroller.ingest.otlp import spans_to_events


def kv(key: str, value: str | int) -> KeyValue:
    any_value = AnyValue(int_value=value) if isinstance(value, int) else AnyValue(string_value=value)
    return KeyValue(key=key, value=any_value)


def chat(span_id: int, **extra: str | int) -> Span:
    attributes = {
        "gen_ai.operation.name": "chat",
        "gen_ai.provider.name": "openai",
        "gen_ai.request.model": "gpt-4o",
        "gen_ai.usage.input_tokens": 100,
        "gen_ai.usage.output_tokens": 10,
        **extra,
    }
    return Span(
        trace_id=bytes(15) + b"\x01",
        span_id=span_id.to_bytes(8, "big"),
        name="chat gpt-4o",
        start_time_unix_nano=1_764_000_000 * 10**9,
        end_time_unix_nano=1_764_000_001 * 10**9,
        attributes=[kv(k, v) for k, v in attributes.items()],
    )


def resource(spans: list[list[Span]], **attributes: str) -> ResourceSpans:
    return ResourceSpans(
        resource={"attributes": [kv(k, v) for k, v in attributes.items()]},
        scope_spans=[ScopeSpans(spans=s) for s in spans],
    )


def test_each_span_takes_its_own_resources_dimensions():
    request = ExportTraceServiceRequest(
        resource_spans=[
            resource(
                [[chat(1)], [chat(2, **{"comptroller.team": "growth", "deployment.environment": "staging"})]],
                **{
                    "service.name": "search-api",
                    "comptroller.team": "search",
                    "deployment.environment": "prod",
                },
            ),
            resource(
                [[chat(3), chat(4, **{"comptroller.product": "override"})]],
                **{
                    "service.name": "helpdesk",
                    "comptroller.product": "",
                    "deployment.environment.name": "dev",
                },
            ),
            resource([[]], **{"service.name": "idle"}),
            resource([[chat(5)]]),
        ]
    )
    events = {
        e["event_id"][-1]: (e["product"], e["team"], e["environment"])
        for e in spans_to_events(request).to_pylist()
    }
    assert events == {
        "1": ("search-api", "search", "prod"),
        "2": ("search-api", "growth", "staging"),  # the span's own attributes win
        "3": ("helpdesk", None, "dev"),  # an empty product falls back to the service name
        "4": ("override", None, "dev"),
        "5": (None, None, None),
    }
