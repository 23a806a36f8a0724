"""Server-sent-event streams: split into events, read usage and tool calls, forward as they come.

The gateway forwards each complete event as soon as it has arrived (no buffering beyond the
event boundary), so it can drop the one usage chunk it asked OpenAI for on the client's behalf.
A stream cut off before its usage arrives is billed from what was seen: the input estimate plus
about one token per four characters of generated text.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import orjson

from comptroller.pricing.usage import TokenUsage


class SseSplitter:
    """Cuts a byte stream into complete events (each ending in a blank line)."""

    __slots__ = ("_pending",)

    def __init__(self) -> None:
        self._pending = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        data = self._pending + chunk if self._pending else chunk
        if b"\r\n" in data:
            data = data.replace(b"\r\n", b"\n")
        end = data.rfind(b"\n\n")
        if end < 0:
            self._pending = data
            return []
        self._pending = data[end + 2 :]
        return [event + b"\n\n" for event in data[:end].split(b"\n\n") if event]

    def rest(self) -> bytes:
        pending, self._pending = self._pending, b""
        return pending


def event_data(event: bytes) -> bytes | None:
    """The ``data:`` payload of one event (lines joined), or None when it has none."""
    if event.startswith(b"data:") and event.find(b"\n") == len(event) - 2:
        return event[5:-2].lstrip()  # the usual one-line event, without splitting it into lines
    parts = [line[5:].lstrip() for line in event.split(b"\n") if line.startswith(b"data:")]
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else b"\n".join(parts)


class StreamTracker:
    """Reads usage and tool calls from a stream's events; subclasses know one dialect."""

    def __init__(self) -> None:
        self.usage: TokenUsage | None = None
        self.tool_calls = 0
        self.output_chars = 0

    def observe(self, payload: Mapping[str, Any]) -> bool:
        """Account for one event; return False to drop it from what the client sees."""
        raise NotImplementedError

    def feed(self, event: bytes) -> bool:
        data = event_data(event)
        if data is None or data == b"[DONE]":
            return True
        try:
            payload = orjson.loads(data)
        except orjson.JSONDecodeError:
            return True
        if not isinstance(payload, dict):
            return True
        return self.observe(payload)

    def billed_usage(self, estimated_input: int) -> TokenUsage:
        """Usage reported by the stream, or an estimate from what was seen when it was cut off."""
        if self.usage is not None:
            return self.usage
        return TokenUsage(uncached_input=estimated_input, output=(self.output_chars + 3) // 4)


class OpenAIChatStream(StreamTracker):
    """``chat.completion.chunk`` events; usage arrives in a final chunk with no choices."""

    def __init__(self, strip_usage_chunk: bool) -> None:
        super().__init__()
        self.strip_usage_chunk = strip_usage_chunk
        self._tool_ids: set[object] = set()

    def observe(self, payload: Mapping[str, Any]) -> bool:
        usage = payload.get("usage")
        choices = payload.get("choices") or ()
        for choice in choices:
            delta = choice.get("delta") or {}
            content = delta.get("content")
            if content:
                self.output_chars += len(content)
            for call in delta.get("tool_calls") or ():
                if call.get("id"):
                    self._tool_ids.add((choice.get("index"), call.get("id")))
        self.tool_calls = len(self._tool_ids)
        if isinstance(usage, Mapping):
            try:
                self.usage = TokenUsage.from_openai(usage)
            except (TypeError, ValueError):
                self.usage = None
            if self.strip_usage_chunk and not choices:
                return False
        return True


class ResponsesStream(StreamTracker):
    """Responses API events; ``response.completed`` carries the usage and the output items."""

    def observe(self, payload: Mapping[str, Any]) -> bool:
        kind = payload.get("type")
        if kind == "response.output_text.delta":
            self.output_chars += len(payload.get("delta") or "")
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            response = payload.get("response") or {}
            usage = response.get("usage")
            if isinstance(usage, Mapping):
                try:
                    self.usage = TokenUsage.from_openai(usage)
                except (TypeError, ValueError):
                    self.usage = None
            self.tool_calls = sum(
                1 for item in response.get("output") or () if item.get("type") == "function_call"
            )
        return True


class AnthropicStream(StreamTracker):
    """Messages events: input usage in ``message_start``, cumulative output in ``message_delta``."""

    def __init__(self) -> None:
        super().__init__()
        self._usage: dict[str, Any] = {}

    def observe(self, payload: Mapping[str, Any]) -> bool:
        kind = payload.get("type")
        if kind == "content_block_delta":
            delta = payload.get("delta") or {}
            self.output_chars += len(delta.get("text") or delta.get("partial_json") or "")
        elif kind == "content_block_start":
            if (payload.get("content_block") or {}).get("type") == "tool_use":
                self.tool_calls += 1
        elif kind == "message_start":
            self._merge((payload.get("message") or {}).get("usage"))
        elif kind == "message_delta":
            self._merge(payload.get("usage"))
        return True

    def _merge(self, usage: object) -> None:
        if not isinstance(usage, Mapping):
            return
        self._usage.update({k: v for k, v in usage.items() if v is not None})
        try:
            self.usage = TokenUsage.from_anthropic(self._usage)
        except (TypeError, ValueError):
            self.usage = None


def tracker_for(operation: str, strip_usage_chunk: bool = False) -> StreamTracker:
    if operation == "messages":
        return AnthropicStream()
    if operation == "responses":
        return ResponsesStream()
    return OpenAIChatStream(strip_usage_chunk)
