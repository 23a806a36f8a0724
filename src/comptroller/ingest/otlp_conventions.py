"""What a span is and what it used, in each attribute dialect AI instrumentation emits.

Three families of instrumentation are common in the wild and each spells usage its own way:

- OpenTelemetry ``gen_ai`` semantic conventions: ``gen_ai.operation.name`` (chat, embeddings,
  invoke_agent, execute_tool, invoke_workflow, ...), ``gen_ai.usage.input_tokens`` and friends;
- OpenLLMetry (Traceloop): ``llm.request.type``, ``gen_ai.usage.prompt_tokens`` /
  ``completion_tokens``, ``gen_ai.usage.cache_read_input_tokens``, ``llm.usage.total_tokens``,
  ``traceloop.span.kind`` (workflow, task, agent, tool) and ``traceloop.workflow.name``;
- OpenInference (Arize Phoenix): ``openinference.span.kind`` (LLM, EMBEDDING, AGENT, TOOL, CHAIN),
  ``llm.token_count.prompt`` / ``completion`` / ``prompt_details.cache_read``, ``llm.model_name``,
  ``llm.provider``.

Each question (is this a model call, which tokens, which agent) is answered by trying the dialects
in that order, so a span carrying two of them (some SDKs emit both) is read once, consistently.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Any

from comptroller.errors import IngestError, Problem

Attributes = dict[str, Any]
ORIGIN = "otlp"


class SpanRole(StrEnum):
    MODEL = "model"
    AGENT = "agent"
    TOOL = "tool"
    WORKFLOW = "workflow"
    OTHER = "other"


GEN_AI_ROLES = {
    "chat": SpanRole.MODEL,
    "text_completion": SpanRole.MODEL,
    "generate_content": SpanRole.MODEL,
    "embeddings": SpanRole.MODEL,
    "invoke_agent": SpanRole.AGENT,
    "execute_tool": SpanRole.TOOL,
    "invoke_workflow": SpanRole.WORKFLOW,
}
OPENINFERENCE_ROLES = {
    "LLM": SpanRole.MODEL,
    "EMBEDDING": SpanRole.MODEL,
    "AGENT": SpanRole.AGENT,
    "TOOL": SpanRole.TOOL,
}
TRACELOOP_ROLES = {"agent": SpanRole.AGENT, "tool": SpanRole.TOOL, "workflow": SpanRole.WORKFLOW}
OPENLLMETRY_OPERATIONS = {
    "chat": "chat",
    "completion": "text_completion",
    "embedding": "embeddings",
    "rerank": "rerank",
}

INPUT_KEYS = (
    "gen_ai.usage.input_tokens",
    "gen_ai.usage.prompt_tokens",
    "llm.usage.prompt_tokens",
    "llm.token_count.prompt",
)
OUTPUT_KEYS = (
    "gen_ai.usage.output_tokens",
    "gen_ai.usage.completion_tokens",
    "llm.usage.completion_tokens",
    "llm.token_count.completion",
)
CACHE_READ_KEYS = (
    "gen_ai.usage.cache_read.input_tokens",
    "gen_ai.usage.cache_read_input_tokens",
    "llm.token_count.prompt_details.cache_read",
)
CACHE_WRITE_KEYS = (
    "gen_ai.usage.cache_write.input_tokens",
    "gen_ai.usage.cache_creation.input_tokens",
    "gen_ai.usage.cache_creation_input_tokens",
    "llm.token_count.prompt_details.cache_write",
)
REASONING_KEYS = (
    "gen_ai.usage.reasoning.output_tokens",
    "gen_ai.usage.reasoning_tokens",
    "llm.token_count.completion_details.reasoning",
)
TOTAL_KEYS = ("llm.usage.total_tokens", "llm.token_count.total", "gen_ai.usage.total_tokens")
PROVIDER_KEYS = ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system")
MODEL_KEYS = ("gen_ai.response.model", "gen_ai.request.model", "llm.model_name")


def problem(message: str, span: str | None = None) -> IngestError:
    where = f"{ORIGIN} span {span}" if span else ORIGIN
    return IngestError([Problem(where, message)])


def role(attrs: Attributes) -> SpanRole:
    operation = attrs.get("gen_ai.operation.name")
    if operation in GEN_AI_ROLES:
        return GEN_AI_ROLES[operation]
    if operation is None and attrs.get("llm.request.type") in OPENLLMETRY_OPERATIONS:
        return SpanRole.MODEL
    kind = attrs.get("openinference.span.kind")
    if isinstance(kind, str) and kind.upper() in OPENINFERENCE_ROLES:
        return OPENINFERENCE_ROLES[kind.upper()]
    return TRACELOOP_ROLES.get(str(attrs.get("traceloop.span.kind", "")).lower(), SpanRole.OTHER)


def operation(attrs: Attributes) -> str:
    """The gen_ai operation name of a model-call span, whichever dialect said so."""
    named = attrs.get("gen_ai.operation.name")
    if named in GEN_AI_ROLES:
        return str(named)
    request_type = attrs.get("llm.request.type")
    if request_type in OPENLLMETRY_OPERATIONS:
        return OPENLLMETRY_OPERATIONS[request_type]
    return "embeddings" if str(attrs.get("openinference.span.kind", "")).upper() == "EMBEDDING" else "chat"


def first(attrs: Attributes, keys: tuple[str, ...]) -> Any:
    """The first non-empty value among ``keys``; a plain loop, as this runs several times a span."""
    for key in keys:
        value = attrs.get(key)
        if value is not None and value != "":
            return value
    return None


def provider(attrs: Attributes) -> str | None:
    """Lower-cased: OpenLLMetry reports ``gen_ai.system`` as "OpenAI" where the conventions say "openai"."""
    value = first(attrs, PROVIDER_KEYS)
    return None if value is None else str(value).lower()


def model(attrs: Attributes) -> str | None:
    value = first(attrs, MODEL_KEYS)
    return None if value is None else str(value)


def agent_name(span_name: str, attrs: Attributes) -> str | None:
    value = first(attrs, ("gen_ai.agent.name", "agent.name", "traceloop.entity.name"))
    if value is None and span_name:
        value = span_name.removeprefix("invoke_agent ").strip() or None
    return None if value is None else str(value)


def workflow_name(span_name: str, attrs: Attributes) -> str | None:
    value = first(attrs, ("gen_ai.workflow.name", "traceloop.workflow.name", "traceloop.entity.name"))
    if value is None and span_name:
        value = span_name.removeprefix("invoke_workflow ").strip() or None
    return None if value is None else str(value)


def count(attrs: Attributes, keys: tuple[str, ...], span: str) -> tuple[int, bool]:
    """(value, present) of the first key present; reject anything but a non-negative whole number."""
    for key in keys:
        value = attrs.get(key)
        if value is not None:
            break
    else:
        return 0, False
    if type(value) is int and value >= 0:  # OTLP int_value: the usual case, decided at once
        return value, True
    if isinstance(value, bool):
        raise problem(f"{key} = {value!r} is not an integer", span)
    if (isinstance(value, float) and value.is_integer()) or (
        isinstance(value, str) and value.strip().isdigit()
    ):
        value = int(value)
    if not isinstance(value, int) or value < 0:
        raise problem(f"{key} = {value!r} is not a non-negative integer", span)
    return value, True


def token_kinds(attrs: Attributes, span: str) -> dict[str, int]:
    """Disjoint token kinds from whichever usage attributes the span carries.

    Every dialect counts cache reads and writes inside input (OpenAI style). Some emitters
    (Anthropic style) report input without them; that shows as cache exceeding input, and then
    the whole input is uncached, so cache tokens are neither dropped nor counted twice. When only
    a total and the input are known, output is their difference."""
    total_in, _ = count(attrs, INPUT_KEYS, span)
    cache_read, _ = count(attrs, CACHE_READ_KEYS, span)
    cache_write, _ = count(attrs, CACHE_WRITE_KEYS, span)
    total_out, has_out = count(attrs, OUTPUT_KEYS, span)
    reasoning, _ = count(attrs, REASONING_KEYS, span)
    if not has_out:
        total, has_total = count(attrs, TOTAL_KEYS, span)
        if has_total:
            total_out = max(total - total_in, 0)
    uncached = total_in - cache_read - cache_write
    if uncached < 0:
        uncached = total_in
    return {
        "uncached_input_tokens": uncached,
        "cache_read_tokens": cache_read,
        "cache_write_tokens": cache_write,
        "output_tokens": max(total_out - reasoning, 0),
        "reasoning_tokens": reasoning,
    }
