"""``KEY=VALUE`` arguments, as the CLI and the API both take them (filters, assignments, prices)."""

from __future__ import annotations


def split_pair(text: str, shape: str = "KEY=VALUE") -> tuple[str, str]:
    """Split at the first ``=``; the message names the expected ``shape`` for the caller's error."""
    key, sep, value = text.partition("=")
    if not sep or not key:
        raise ValueError(f"{text!r} is not {shape}")
    return key, value
