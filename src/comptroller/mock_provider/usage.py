"""Deterministic token counts, so tests can predict exactly what the gateway must record.

Prompt tokens are one per four characters of request text (at least 8). A quarter of them are
reported as cache reads; for Anthropic an eighth more as cache writes. Reasoning models (names
starting ``o1``, ``o3``, ``o4`` or ``gpt-5``, or containing ``thinking``) report half of the
completion tokens as reasoning.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

REPLY = "Hello from the mock provider, a stand-in for a real model."
REPLY_WORDS = REPLY.split(" ")
_REASONING_PREFIXES = ("o1", "o3", "o4", "gpt-5")


@dataclass(frozen=True, slots=True)
class MockUsage:
    prompt: int
    cached: int
    cache_write: int
    completion: int
    reasoning: int


def text_length(value: Any) -> int:
    """Characters of text anywhere in a request's messages/input (strings and text parts)."""
    if isinstance(value, str):
        return len(value)
    if isinstance(value, list):
        return sum(text_length(v) for v in value)
    if isinstance(value, dict):
        return sum(text_length(v) for k, v in value.items() if k in ("content", "text", "input", "system"))
    return 0


def reasoning_model(model: str) -> bool:
    return model.startswith(_REASONING_PREFIXES) or "thinking" in model


def usage_for(body: dict[str, Any], anthropic: bool = False) -> MockUsage:
    chars = (
        text_length(body.get("messages")) + text_length(body.get("input")) + text_length(body.get("system"))
    )
    prompt = max(8, chars // 4)
    cap = body.get("max_tokens") or body.get("max_completion_tokens") or body.get("max_output_tokens")
    completion = len(REPLY_WORDS) * 2
    if isinstance(cap, int) and cap > 0:
        completion = min(completion, cap)
    model = str(body.get("model", ""))
    reasoning = completion // 2 if reasoning_model(model) else 0
    return MockUsage(
        prompt=prompt,
        cached=prompt // 4,
        cache_write=prompt // 8 if anthropic else 0,
        completion=completion,
        reasoning=reasoning,
    )
