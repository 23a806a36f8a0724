"""What is sent: one channel-neutral message that each channel renders in its own format."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class NotificationKind(StrEnum):
    """Channels subscribe to kinds, so a team can route digests and alerts apart."""

    ALERT = "alert"
    DIGEST = "digest"
    APPROVAL = "approval"
    ROLLBACK = "rollback"
    TEST = "test"


@dataclass(frozen=True, slots=True)
class Section:
    """A titled block of lines: a digest has several (top budgets, alerts, approvals)."""

    title: str
    lines: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Notification:
    """``payload`` carries the machine-readable facts (budget id, spend, ...) for webhooks."""

    kind: NotificationKind
    subject: str
    summary: str
    sections: tuple[Section, ...] = ()
    payload: dict[str, Any] = field(default_factory=dict)

    def as_text(self) -> str:
        """Plain text for email bodies and chat fallbacks."""
        parts = [self.summary]
        for section in self.sections:
            parts.append("")
            parts.append(section.title)
            parts.extend(f"  - {line}" for line in section.lines or ("none",))
        return "\n".join(parts)

    def as_json(self) -> dict[str, Any]:
        return {
            "kind": self.kind.value,
            "subject": self.subject,
            "summary": self.summary,
            "sections": [{"title": s.title, "lines": list(s.lines)} for s in self.sections],
            "payload": self.payload,
        }
