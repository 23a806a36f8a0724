"""Token usage as five disjoint kinds, converted once from each provider's own shape.

Providers overlap their counters differently: OpenAI counts cached tokens inside ``prompt_tokens``
and reasoning inside ``completion_tokens``, Anthropic reports cache reads and writes *beside*
``input_tokens``. Getting that wrong either double-counts or drops cached tokens, so the conversion
happens here, at the edge, and everything downstream adds disjoint numbers without remembering
which provider the call went to.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

TokenKind: TypeAlias = Literal["uncached_input", "cache_read", "cache_write", "output", "reasoning"]

TOKEN_KINDS: tuple[TokenKind, ...] = ("uncached_input", "cache_read", "cache_write", "output", "reasoning")
"""Same order as ``comptroller.ledger.schema.TOKEN_KINDS``; the ledger's per-kind columns follow it."""


@dataclass(frozen=True, slots=True)
class TokenUsage:
    """Tokens of one call by disjoint kind.

    total input = uncached_input + cache_read + cache_write; total output = output + reasoning.
    """

    uncached_input: int = 0
    cache_read: int = 0
    cache_write: int = 0
    output: int = 0
    reasoning: int = 0

    def __post_init__(self) -> None:
        # Counts come from telemetry we do not control; a negative or fractional count would turn
        # into a negative or nonsensical cost much later, far from the bad input.
        for kind in TOKEN_KINDS:
            value = getattr(self, kind)
            if isinstance(value, bool) or not isinstance(value, int):
                raise TypeError(f"TokenUsage.{kind} must be an int, got {type(value).__name__}")
            if value < 0:
                raise ValueError(f"TokenUsage.{kind} must be >= 0, got {value}")

    @property
    def total_input(self) -> int:
        return self.uncached_input + self.cache_read + self.cache_write

    @property
    def total_output(self) -> int:
        return self.output + self.reasoning

    @property
    def total(self) -> int:
        return self.total_input + self.total_output

    def items(self) -> Iterator[tuple[TokenKind, int]]:
        """(kind, tokens) in ledger column order, zeros included."""
        for kind in TOKEN_KINDS:
            yield kind, getattr(self, kind)

    def __add__(self, other: TokenUsage) -> TokenUsage:
        """Sum two usages, e.g. the ``message_start`` and ``message_delta`` parts of a stream."""
        if not isinstance(other, TokenUsage):
            return NotImplemented
        return TokenUsage(*(getattr(self, k) + getattr(other, k) for k in TOKEN_KINDS))

    @classmethod
    def from_openai(cls, usage: Mapping[str, Any]) -> TokenUsage:
        """Convert an OpenAI ``usage`` object (chat completions or Responses API shape).

        Cached (and, where reported, cache-write) tokens are *inside* the prompt total and reasoning
        tokens *inside* the completion total, so they are subtracted out rather than added.
        """
        data = _as_mapping(usage, "usage")
        if "prompt_tokens" in data or "completion_tokens" in data:
            prompt, completion = "prompt_tokens", "completion_tokens"
            prompt_details, completion_details = "prompt_tokens_details", "completion_tokens_details"
        else:
            prompt, completion = "input_tokens", "output_tokens"
            prompt_details, completion_details = "input_tokens_details", "output_tokens_details"
        total_in = _count(data, prompt)
        total_out = _count(data, completion)
        in_details = _as_mapping(data.get(prompt_details), prompt_details)
        out_details = _as_mapping(data.get(completion_details), completion_details)
        cache_read = _count(in_details, "cached_tokens", prompt_details)
        cache_write = _count(in_details, "cache_write_tokens", prompt_details)
        reasoning = _count(out_details, "reasoning_tokens", completion_details)
        _check_within(cache_read + cache_write, total_in, f"{prompt_details} cache tokens", prompt)
        _check_within(reasoning, total_out, f"{completion_details}.reasoning_tokens", completion)
        return cls(
            uncached_input=total_in - cache_read - cache_write,
            cache_read=cache_read,
            cache_write=cache_write,
            output=total_out - reasoning,
            reasoning=reasoning,
        )

    @classmethod
    def from_anthropic(cls, usage: Mapping[str, Any]) -> TokenUsage:
        """Convert an Anthropic Messages ``usage`` object.

        ``input_tokens`` already excludes cache reads and writes, so nothing is subtracted from it.
        Thinking tokens are billed as output; when ``output_tokens_details.thinking_tokens`` is
        reported it is split out of ``output_tokens`` (which includes it).
        """
        data = _as_mapping(usage, "usage")
        total_out = _count(data, "output_tokens")
        details = _as_mapping(data.get("output_tokens_details"), "output_tokens_details")
        thinking = _count(details, "thinking_tokens", "output_tokens_details")
        _check_within(thinking, total_out, "output_tokens_details.thinking_tokens", "output_tokens")
        return cls(
            uncached_input=_count(data, "input_tokens"),
            cache_read=_count(data, "cache_read_input_tokens"),
            cache_write=_count(data, "cache_creation_input_tokens"),
            output=total_out - thinking,
            reasoning=thinking,
        )


def _as_mapping(value: object, name: str) -> Mapping[str, Any]:
    """Accept plain dicts and SDK objects (pydantic models) alike; absent details mean zeros."""
    if value is None:
        return {}
    if isinstance(value, Mapping):
        return value
    dump = getattr(value, "model_dump", None)
    if callable(dump):
        dumped = dump()
        if isinstance(dumped, Mapping):
            return dumped
    raise TypeError(f"{name} must be a mapping, got {type(value).__name__}")


def _count(data: Mapping[str, Any], key: str, parent: str | None = None) -> int:
    name = f"{parent}.{key}" if parent else key
    value = data.get(key)
    if value is None:
        return 0
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # JSON decoders sometimes hand back 12.0
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"usage field {name} must be a whole number, got {value!r}")
    if value < 0:
        raise ValueError(f"usage field {name} must be >= 0, got {value}")
    return value


def _check_within(part: int, total: int, part_name: str, total_name: str) -> None:
    if part > total:
        raise ValueError(f"usage is inconsistent: {part_name} ({part}) exceeds {total_name} ({total})")
