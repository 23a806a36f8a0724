"""The four API families the gateway serves, and what it reads from their bodies.

Reading is limited to what enforcement and costing need (model, stream flag, output cap,
usage, tool calls); everything else passes through untouched.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from comptroller.pricing.usage import TokenUsage


@dataclass(frozen=True, slots=True)
class Endpoint:
    path: str
    upstream_path: str  # appended to a deployment's base_url (which ends in /v1)
    operation: str  # the SpendEvent's operation
    family: str  # "openai" | "anthropic": the dialect of requests, responses and errors
    output_fields: tuple[str, ...]  # body fields that cap output tokens, first found wins
    produces_output: bool = True


ENDPOINTS: dict[str, Endpoint] = {
    e.path: e
    for e in (
        Endpoint(
            "/v1/chat/completions",
            "/chat/completions",
            "chat",
            "openai",
            ("max_completion_tokens", "max_tokens"),
        ),
        Endpoint("/v1/responses", "/responses", "responses", "openai", ("max_output_tokens",)),
        Endpoint("/v1/embeddings", "/embeddings", "embeddings", "openai", (), produces_output=False),
        Endpoint("/v1/messages", "/messages", "messages", "anthropic", ("max_tokens",)),
    )
}


def requested_output_cap(endpoint: Endpoint, body: Mapping[str, Any]) -> int | None:
    for name in endpoint.output_fields:
        value = body.get(name)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None


def usage_from_response(endpoint: Endpoint, body: Mapping[str, Any]) -> TokenUsage | None:
    """Usage of a non-streamed response, converted to disjoint token kinds; None if absent."""
    usage = body.get("usage")
    if not isinstance(usage, Mapping):
        return None
    try:
        if endpoint.family == "anthropic":
            return TokenUsage.from_anthropic(usage)
        return TokenUsage.from_openai(usage)
    except (TypeError, ValueError):
        return None


def tool_calls_in_response(endpoint: Endpoint, body: Mapping[str, Any]) -> int:
    if endpoint.operation == "chat":
        calls = 0
        for choice in body.get("choices") or ():
            message = choice.get("message") if isinstance(choice, Mapping) else None
            if isinstance(message, Mapping):
                calls += len(message.get("tool_calls") or ())
        return calls
    if endpoint.operation == "responses":
        return sum(
            1
            for item in body.get("output") or ()
            if isinstance(item, Mapping) and item.get("type") == "function_call"
        )
    if endpoint.operation == "messages":
        return sum(
            1
            for block in body.get("content") or ()
            if isinstance(block, Mapping) and block.get("type") == "tool_use"
        )
    return 0
