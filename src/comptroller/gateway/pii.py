"""Redact personal data from prompt text before it leaves for an upstream.

Each message text first goes through a cheap screen (an ``@``, or a run of digits long enough
to be a phone, card or id number); only text that passes it meets the full detectors. A request
with nothing replaced is forwarded byte for byte, never re-serialised.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from comptroller.gateway.config import PiiDetector

_PATTERNS: dict[PiiDetector, str] = {
    PiiDetector.EMAIL: r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}",
    PiiDetector.CARD: r"(?<!\d)(?:\d[ -]?){12,18}\d(?!\d)",
    PiiDetector.US_SSN: r"(?<!\d)(?!000|666|9\d\d)\d{3}-(?!00)\d{2}-(?!0000)\d{4}(?!\d)",
    PiiDetector.UK_NINO: r"(?<![A-Za-z])(?!BG|GB|NK|KN|TN|NT|ZZ)[A-CEGHJ-PR-TW-Z][A-CEGHJ-NPR-TW-Z]"
    r" ?\d{2} ?\d{2} ?\d{2} ?[A-D](?![A-Za-z])",
    PiiDetector.PHONE: r"(?<![\w+])(?:\+?\d{1,3}[ .-]?)?\(?\d{2,4}\)?[ .-]?\d{3,4}[ .-]?\d{3,4}(?!\d)",
}
# Every digit-based detector needs at least six digits in a short run of digits and separators.
_DIGIT_RUN = re.compile(r"\d[\d ().-]{4,}\d")
# Most specific first, so a card number is not also taken for a phone number.
_ORDER = (PiiDetector.EMAIL, PiiDetector.CARD, PiiDetector.US_SSN, PiiDetector.UK_NINO, PiiDetector.PHONE)


def luhn_valid(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = ord(ch) - 48
        if i % 2:
            n = n * 2 - 9 if n > 4 else n * 2
        total += n
    return total % 10 == 0


class Redactor:
    """Replaces each detected value by ``[REDACTED_<KIND>]``; counts what it replaced."""

    def __init__(self, detectors: Iterable[PiiDetector]) -> None:
        chosen = [d for d in _ORDER if d in set(detectors)]
        self.enabled = bool(chosen)
        self._pattern = (
            re.compile("|".join(f"(?P<{d.value}>{_PATTERNS[d]})" for d in chosen)) if chosen else None
        )
        self._email = PiiDetector.EMAIL in chosen
        self._digits = any(d is not PiiDetector.EMAIL for d in chosen)

    def _worth_checking(self, text: str) -> bool:
        return (self._email and "@" in text) or (self._digits and _DIGIT_RUN.search(text) is not None)

    def redact_text(self, text: str) -> tuple[str, int]:
        if self._pattern is None or not self._worth_checking(text):
            return text, 0
        found = 0

        def replace(match: re.Match[str]) -> str:
            nonlocal found
            kind = match.lastgroup or "pii"
            if kind == PiiDetector.CARD.value:
                digits = re.sub(r"\D", "", match.group())
                if not luhn_valid(digits):
                    return match.group()
            found += 1
            return f"[REDACTED_{kind.upper()}]"

        return self._pattern.sub(replace, text), found

    def redact_request(self, operation: str, body: dict[str, Any]) -> int:
        """Redact message text in place; returns how many values were replaced."""
        count = 0

        def fix(text: str) -> str:
            nonlocal count
            redacted, n = self.redact_text(text)
            count += n
            return redacted

        if operation == "chat" or operation == "messages":
            if operation == "messages" and "system" in body:
                body["system"] = _map_content(body["system"], fix)
            for message in body.get("messages") or ():
                if isinstance(message, dict) and "content" in message:
                    message["content"] = _map_content(message["content"], fix)
        elif operation == "responses":
            if "instructions" in body and isinstance(body["instructions"], str):
                body["instructions"] = fix(body["instructions"])
            body["input"] = _map_responses_input(body.get("input"), fix)
        elif operation == "embeddings":
            body["input"] = _map_content(body.get("input"), fix)
        return count


def _map_content(content: Any, fix: Callable[[str], str]) -> Any:
    if isinstance(content, str):
        return fix(content)
    if isinstance(content, list):
        out = []
        for part in content:
            if isinstance(part, str):
                out.append(fix(part))
            elif isinstance(part, dict) and isinstance(part.get("text"), str):
                out.append({**part, "text": fix(part["text"])})
            else:
                out.append(part)
        return out
    return content


def _map_responses_input(value: Any, fix: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return fix(value)
    if isinstance(value, list):
        out = []
        for item in value:
            if isinstance(item, dict) and "content" in item:
                out.append({**item, "content": _map_content(item["content"], fix)})
            else:
                out.append(item)
        return out
    return value
