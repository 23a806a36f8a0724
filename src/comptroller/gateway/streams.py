"""Server-sent-event streams: split into events, read usage and tool calls, forward as they come.

The gateway forwards each complete event as soon as it has arrived (no buffering beyond the
event boundary), so it can drop the one usage chunk it asked OpenAI for on the client's behalf.
A stream cut off before its usage arrives is billed from what was seen: the input estimate plus
about one token per four characters of generated text.

Parsing every event as JSON was the largest per-event cost of a relayed stream, yet only a few
events carry usage or tool calls. Each tracker names the byte markers of those events and parses
only events holding one; text deltas are kept unparsed and counted only when the character
estimate is asked for (a stream that delivered its usage never is). A marker cannot occur inside
a JSON string, where every quote is escaped, so an event it misses carries nothing the tracker
reads.
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


def has_value(data: bytes, key: bytes) -> bool:
    """Whether the JSON text ``data`` holds the quoted ``key`` with a value other than null."""
    at = data.find(key)
    while at >= 0:
        after = data[at + len(key) : at + len(key) + 16].lstrip()
        if after.startswith(b":"):
            after = after[1:].lstrip()
        if not after.startswith(b"null"):
            return True
        at = data.find(key, at + len(key))
    return False


# Text deltas held unparsed before they are counted anyway, so a long stream's memory stays flat.
_DEFERRED_MAX = 256


class StreamTracker:
    """Reads usage and tool calls from a stream's events; subclasses know one dialect."""

    def __init__(self) -> None:
        self.usage: TokenUsage | None = None
        self.tool_calls = 0
        self._output_chars = 0
        self._deferred: list[bytes] = []
        self.finished = False  # the stream's closing event arrived; nothing but its end follows

    def observe(self, payload: Mapping[str, Any]) -> bool:
        """Account for one event; return False to drop it from what the client sees."""
        raise NotImplementedError

    def wanted(self, data: bytes) -> bool:
        """Whether an event's payload may carry usage, tool calls or a reason to drop it; the
        others only add to the output character count."""
        raise NotImplementedError

    def feed(self, event: bytes) -> bool:
        data = event_data(event)
        if data is None:
            return True
        if data == b"[DONE]":
            self.finished = True
            return True
        if not self.wanted(data):
            self._deferred.append(data)
            if len(self._deferred) >= _DEFERRED_MAX:
                self._count_deferred()
            return True
        return self._parse(data)

    def _parse(self, data: bytes) -> bool:
        try:
            payload = orjson.loads(data)
        except orjson.JSONDecodeError:
            return True
        if not isinstance(payload, dict):
            return True
        return self.observe(payload)

    def _count_deferred(self) -> None:
        deferred, self._deferred = self._deferred, []
        for data in deferred:
            self._parse(data)

    @property
    def output_chars(self) -> int:
        """Characters of generated text seen so far."""
        if self._deferred:
            self._count_deferred()
        return self._output_chars

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

    def wanted(self, data: bytes) -> bool:
        return b'"tool_calls"' in data or has_value(data, b'"usage"')

    def observe(self, payload: Mapping[str, Any]) -> bool:
        usage = payload.get("usage")
        choices = payload.get("choices") or ()
        for choice in choices:
            delta = choice.get("delta") or {}
            content = delta.get("content")
            if content:
                self._output_chars += len(content)
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

    def wanted(self, data: bytes) -> bool:
        return (
            b'"response.completed"' in data
            or b'"response.incomplete"' in data
            or b'"response.failed"' in data
        )

    def observe(self, payload: Mapping[str, Any]) -> bool:
        kind = payload.get("type")
        if kind == "response.output_text.delta":
            self._output_chars += len(payload.get("delta") or "")
        elif kind in ("response.completed", "response.incomplete", "response.failed"):
            self.finished = True
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

    def wanted(self, data: bytes) -> bool:
        return (
            b'"message_start"' in data
            or b'"message_delta"' in data
            or b'"content_block_start"' in data
            or b'"message_stop"' in data
        )

    def observe(self, payload: Mapping[str, Any]) -> bool:
        kind = payload.get("type")
        if kind == "content_block_delta":
            delta = payload.get("delta") or {}
            self._output_chars += len(delta.get("text") or delta.get("partial_json") or "")
        elif kind == "content_block_start":
            if (payload.get("content_block") or {}).get("type") == "tool_use":
                self.tool_calls += 1
        elif kind == "message_start":
            self._merge((payload.get("message") or {}).get("usage"))
        elif kind == "message_delta":
            self._merge(payload.get("usage"))
        elif kind == "message_stop":
            self.finished = True
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
