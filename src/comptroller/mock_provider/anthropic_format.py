"""Anthropic Messages bodies and SSE events (message_start ... message_stop)."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Any

import orjson

from comptroller.mock_provider.usage import REPLY, REPLY_WORDS, MockUsage


def _usage(u: MockUsage, output: int) -> dict[str, Any]:
    return {
        "input_tokens": u.prompt - u.cached - u.cache_write,
        "cache_creation_input_tokens": u.cache_write,
        "cache_read_input_tokens": u.cached,
        "output_tokens": output,
        "service_tier": "standard",
    }


def _content(body: dict[str, Any]) -> list[dict[str, Any]]:
    tools = body.get("tools") or []
    if tools:
        return [
            {
                "type": "tool_use",
                "id": f"toolu_{uuid.uuid4().hex[:24]}",
                "name": tools[0].get("name", "tool"),
                "input": {},
            }
        ]
    return [{"type": "text", "text": REPLY}]


def _message(
    body: dict[str, Any], content: list[Any], stop: str | None, usage: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": f"msg_{uuid.uuid4().hex[:24]}",
        "type": "message",
        "role": "assistant",
        "model": body.get("model"),
        "content": content,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": usage,
    }


def message(body: dict[str, Any], u: MockUsage) -> bytes:
    content = _content(body)
    stop = "tool_use" if content[0]["type"] == "tool_use" else "end_turn"
    return orjson.dumps(_message(body, content, stop, _usage(u, u.completion)))


def message_events(body: dict[str, Any], u: MockUsage) -> Iterator[bytes]:
    def event(kind: str, payload: dict[str, Any]) -> bytes:
        return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps({"type": kind, **payload}) + b"\n\n"

    content = _content(body)
    yield event("message_start", {"message": _message(body, [], None, _usage(u, 1))})
    block = content[0]
    if block["type"] == "tool_use":
        yield event("content_block_start", {"index": 0, "content_block": {**block, "input": {}}})
        yield event(
            "content_block_delta", {"index": 0, "delta": {"type": "input_json_delta", "partial_json": "{}"}}
        )
        stop = "tool_use"
    else:
        yield event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
        yield event("ping", {})
        for i, word in enumerate(REPLY_WORDS):
            text = word if i == 0 else " " + word
            yield event("content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": text}})
        stop = "end_turn"
    yield event("content_block_stop", {"index": 0})
    yield event(
        "message_delta",
        {"delta": {"stop_reason": stop, "stop_sequence": None}, "usage": {"output_tokens": u.completion}},
    )
    yield event("message_stop", {})


def error(status: int, message: str) -> bytes:
    kind = {429: "rate_limit_error", 529: "overloaded_error"}.get(status, "api_error")
    return orjson.dumps({"type": "error", "error": {"type": kind, "message": message}})
