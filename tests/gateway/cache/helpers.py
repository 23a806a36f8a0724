"""Cached answers for cache tests: one non-streaming body and one SSE stream."""

from __future__ import annotations

from decimal import Decimal

from comptroller.gateway.cache import CachedResponse

USAGE = {"prompt_tokens": 12, "completion_tokens": 5, "total_tokens": 17}


def body_response(text: str = "Paris", cost: str = "0.000012") -> CachedResponse:
    body = (
        b'{"id":"chatcmpl-1","object":"chat.completion","choices":[{"index":0,"message":{"role":"assistant","content":"%s"},"finish_reason":"stop"}]}'
        % text.encode()
    )
    return CachedResponse(200, [("content-type", "application/json")], body, None, USAGE, Decimal(cost))


def stream_response() -> CachedResponse:
    chunks = [
        b'data: {"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]}\n\n',
        b'data: {"choices":[{"index":0,"delta":{"content":"Par"}}]}\n\n',
        b'data: {"choices":[{"index":0,"delta":{"content":"is"}}]}\n\n',
        b"data: [DONE]\n\n",
    ]
    return CachedResponse(
        200, [("content-type", "text/event-stream")], None, chunks, USAGE, Decimal("0.000012")
    )
