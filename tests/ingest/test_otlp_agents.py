"""Agent telemetry over OTLP: agent runs, workflow runs and tool calls, in three attribute dialects.

Spans are made by the OpenTelemetry SDK and encoded by the OTLP exporter's own encoder, so the
request is byte for byte what an application's exporter would POST to ``/v1/traces``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Tracer, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from comptroller.errors import IngestError
from comptroller.ingest.otlp import parse_request, spans_to_events
from comptroller.ingest.usage_events import ingest_usage_events
from comptroller.pricing import Pricer


@pytest.fixture
def traced() -> Iterator[Callable[[Callable[[Tracer], None]], ExportTraceServiceRequest]]:
    """Run a function with a tracer; return the OTLP request its finished spans would be sent as."""

    def run(body: Callable[[Tracer], None]) -> ExportTraceServiceRequest:
        exporter = InMemorySpanExporter()
        provider = TracerProvider(resource=Resource.create({"service.name": "helpdesk"}))
        provider.add_span_processor(SimpleSpanProcessor(exporter))
        body(provider.get_tracer("agents"))
        provider.shutdown()
        wire = encode_spans(exporter.get_finished_spans()).SerializeToString()
        return parse_request(wire, "application/x-protobuf")

    yield run


def chat(tracer: Tracer, model: str = "gpt-4o-mini", **usage: int) -> None:
    with tracer.start_as_current_span(f"chat {model}") as span:
        span.set_attributes(
            {
                "gen_ai.operation.name": "chat",
                "gen_ai.provider.name": "openai",
                "gen_ai.request.model": model,
                "gen_ai.usage.input_tokens": usage.get("input", 100),
                "gen_ai.usage.output_tokens": usage.get("output", 20),
            }
        )


def tool(tracer: Tracer, name: str) -> None:
    with tracer.start_as_current_span(f"execute_tool {name}") as span:
        span.set_attributes({"gen_ai.operation.name": "execute_tool", "gen_ai.tool.name": name})


def test_gen_ai_agent_loop_counts_tools_on_the_call_that_asked(traced):
    def body(tracer: Tracer) -> None:
        with tracer.start_as_current_span("invoke_workflow triage-ticket") as wf:
            wf.set_attributes(
                {"gen_ai.operation.name": "invoke_workflow", "gen_ai.workflow.name": "triage-ticket"}
            )
            with tracer.start_as_current_span("invoke_agent classifier") as agent:
                agent.set_attributes(
                    {"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "classifier"}
                )
                chat(tracer, input=1000)  # asks for two tools
                tool(tracer, "lookup_customer")
                tool(tracer, "search_kb")
                chat(tracer, input=1500)  # asks for one more
                tool(tracer, "create_ticket")
                chat(tracer, input=1800)  # final answer
            chat(tracer, "gpt-4o", input=50)  # in the workflow, outside the agent

    events = spans_to_events(traced(body)).to_pylist()
    by_input = {e["uncached_input_tokens"]: e for e in events}
    assert [by_input[n]["tool_calls"] for n in (1000, 1500, 1800, 50)] == [2, 1, 0, 0]
    loop = [by_input[n] for n in (1000, 1500, 1800)]
    assert {e["agent"] for e in loop} == {"classifier"}
    assert len({e["agent_run_id"] for e in loop}) == 1 and loop[0]["agent_run_id"]
    assert {e["workflow"] for e in events} == {"triage-ticket"}
    assert len({e["workflow_run_id"] for e in events}) == 1
    assert by_input[50]["agent"] is None and by_input[50]["agent_run_id"] is None


def test_two_runs_of_one_agent_are_two_runs(traced):
    def body(tracer: Tracer) -> None:
        for _ in range(2):
            with tracer.start_as_current_span("invoke_agent writer") as agent:
                agent.set_attributes({"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "writer"})
                chat(tracer)
                with tracer.start_as_current_span("execute_tool spell_check") as nested:
                    nested.set_attributes({"gen_ai.operation.name": "execute_tool"})

    events = spans_to_events(traced(body)).to_pylist()
    assert [e["tool_calls"] for e in events] == [1, 1]
    assert len({e["agent_run_id"] for e in events}) == 2


def test_openinference_spans(traced):
    def body(tracer: Tracer) -> None:
        with tracer.start_as_current_span("research-agent") as agent:
            agent.set_attributes({"openinference.span.kind": "AGENT", "agent.name": "researcher"})
            with tracer.start_as_current_span("ChatCompletion") as llm:
                llm.set_attributes(
                    {
                        "openinference.span.kind": "LLM",
                        "llm.provider": "anthropic",
                        "llm.model_name": "claude-sonnet-4-20250514",
                        "llm.token_count.prompt": 5000,
                        "llm.token_count.prompt_details.cache_read": 3000,
                        "llm.token_count.prompt_details.cache_write": 1000,
                        "llm.token_count.completion": 400,
                        "llm.token_count.total": 5400,
                    }
                )
            with tracer.start_as_current_span("web_search") as t:
                t.set_attributes({"openinference.span.kind": "TOOL", "tool.name": "web_search"})
            with tracer.start_as_current_span("embed") as e:
                e.set_attributes(
                    {
                        "openinference.span.kind": "EMBEDDING",
                        "llm.provider": "openai",
                        "embedding.model_name": "text-embedding-3-small",
                        "llm.model_name": "text-embedding-3-small",
                        "llm.token_count.prompt": 800,
                    }
                )
            with tracer.start_as_current_span("retrieve") as r:
                r.set_attributes({"openinference.span.kind": "RETRIEVER"})

    llm, embed = spans_to_events(traced(body)).to_pylist()
    assert (llm["provider"], llm["model"], llm["operation"], llm["agent"]) == (
        "anthropic",
        "claude-sonnet-4-20250514",
        "chat",
        "researcher",
    )
    tokens = [
        llm[k] for k in ("uncached_input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens")
    ]
    assert tokens == [1000, 3000, 1000, 400]
    assert llm["tool_calls"] == 1
    assert (embed["operation"], embed["uncached_input_tokens"], embed["tool_calls"]) == ("embeddings", 800, 0)


def test_openllmetry_spans(traced):
    def body(tracer: Tracer) -> None:
        with tracer.start_as_current_span("support_flow.workflow") as wf:
            wf.set_attributes({"traceloop.span.kind": "workflow", "traceloop.entity.name": "support_flow"})
            with tracer.start_as_current_span("triager.agent") as agent:
                agent.set_attributes({"traceloop.span.kind": "agent", "traceloop.entity.name": "triager"})
                with tracer.start_as_current_span("anthropic.chat") as llm:
                    llm.set_attributes(
                        {
                            "llm.request.type": "chat",
                            "gen_ai.system": "Anthropic",
                            "gen_ai.request.model": "claude-3-5-haiku-20241022",
                            "gen_ai.usage.prompt_tokens": 300,
                            "gen_ai.usage.cache_read_input_tokens": 1200,
                            "gen_ai.usage.cache_creation_input_tokens": 200,
                            "gen_ai.usage.completion_tokens": 90,
                            "llm.usage.total_tokens": 390,
                            "traceloop.workflow.name": "support_flow",
                        }
                    )
                with tracer.start_as_current_span("get_order.tool") as t:
                    t.set_attributes({"traceloop.span.kind": "tool", "traceloop.entity.name": "get_order"})

    (event,) = spans_to_events(traced(body)).to_pylist()
    assert (event["provider"], event["agent"], event["workflow"], event["tool_calls"]) == (
        "anthropic",
        "triager",
        "support_flow",
        1,
    )
    # Anthropic style: prompt tokens exclude the cache, so nothing is subtracted from them.
    tokens = [
        event[k]
        for k in ("uncached_input_tokens", "cache_read_tokens", "cache_write_tokens", "output_tokens")
    ]
    assert tokens == [300, 1200, 200, 90]
    assert event["workflow_run_id"] and event["agent_run_id"]


def test_output_from_total_and_a_bad_count_is_named(traced):
    def body(tracer: Tracer) -> None:
        with tracer.start_as_current_span("openai.chat") as llm:
            llm.set_attributes(
                {
                    "llm.request.type": "chat",
                    "gen_ai.system": "OpenAI",
                    "gen_ai.request.model": "gpt-4o",
                    "gen_ai.usage.prompt_tokens": 700,
                    "llm.usage.total_tokens": 760,
                }
            )

    (event,) = spans_to_events(traced(body)).to_pylist()
    assert (event["provider"], event["uncached_input_tokens"], event["output_tokens"]) == ("openai", 700, 60)

    def bad(tracer: Tracer) -> None:
        with tracer.start_as_current_span("LLM") as llm:
            llm.set_attributes(
                {
                    "openinference.span.kind": "LLM",
                    "llm.provider": "openai",
                    "llm.model_name": "gpt-4o",
                    "llm.token_count.prompt": -5,
                }
            )

    with pytest.raises(IngestError, match=r"llm\.token_count\.prompt = -5 is not a non-negative integer"):
        spans_to_events(traced(bad))


def test_runs_and_tool_calls_are_stored(ledger, traced):
    def body(tracer: Tracer) -> None:
        with tracer.start_as_current_span("invoke_agent planner") as agent:
            agent.set_attributes({"gen_ai.operation.name": "invoke_agent", "gen_ai.agent.name": "planner"})
            chat(tracer)
            tool(tracer, "calendar")

    ingest_usage_events(ledger, spans_to_events(traced(body)), Pricer(), origin="otlp")
    rows = ledger.execute("SELECT agent, tool_calls, agent_run_id IS NOT NULL FROM usage_events")
    assert rows == [("planner", 1, True)]
    (agent,) = ledger.execute('SELECT DISTINCT "x_Agent" FROM cost_lines')
    assert agent == ("planner",)
