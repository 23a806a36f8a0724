"""Rules are small named objects in one registry, so reports, docs and tests enumerate the same set.

A rule declares the columns it needs; when one is absent the rule is skipped, because absence is
the presence rules' business and reporting it twice would bury the real cause.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field

import pyarrow as pa
import pyarrow.compute as pc

from comptroller.focus_validation.dataset import Dataset
from comptroller.focus_validation.report import Severity, Violation

RULE_ID = re.compile(r"^FOCUS-1\.[23]/[A-Za-z]+/[A-Za-z0-9][A-Za-z0-9-]*[A-Za-z0-9]$")


@dataclass(frozen=True, kw_only=True)
class Rule:
    """Base of every rule. ``spec`` quotes the requirement text; ``ref`` names it in the 1.2 model."""

    rule_id: str
    column: str
    spec: str
    ref: str = ""
    severity: Severity = Severity.ERROR
    requires: tuple[str, ...] = ()
    versions: frozenset[str] = field(default_factory=lambda: frozenset({"1.2", "1.3"}))

    def __post_init__(self) -> None:
        # Each instance documents the sentence it enforces; the class docstring says why it matters.
        ref = f"\n\nRequirement model: {self.ref}" if self.ref else ""
        object.__setattr__(self, "__doc__", f"{self.spec}{ref}\n\n{type(self).__doc__ or ''}".strip())

    def applies(self, data: Dataset) -> bool:
        return data.version in self.versions and data.has(*self.requires)

    def check(self, data: Dataset) -> list[Violation]:
        raise NotImplementedError

    # -- helpers for subclasses -------------------------------------------------------------
    def from_mask(self, mask: pa.ChunkedArray, message: str, column: str | None = None) -> list[Violation]:
        """One violation summarising every offending row: first row number and total count."""
        count = pc.sum(mask).as_py() or 0
        if not count:
            return []
        first = pc.index(mask, True).as_py()
        return [self.violation(message, row=first + 1, count=count, column=column)]

    def violation(
        self,
        message: str,
        row: int | None = None,
        count: int = 1,
        column: str | None = None,
        severity: Severity | None = None,
    ) -> Violation:
        return Violation(
            rule_id=self.rule_id,
            column=column or self.column,
            message=message,
            row=row,
            count=count,
            severity=severity or self.severity,
        )


class RuleRegistry:
    """Rule id -> rule; registration order is the order rules run and report in."""

    def __init__(self) -> None:
        self._rules: dict[str, Rule] = {}

    def register(self, rule: Rule) -> Rule:
        if not RULE_ID.match(rule.rule_id):
            raise ValueError(f"rule id {rule.rule_id!r} is not of the form FOCUS-1.x/Column/slug")
        if rule.rule_id in self._rules:
            raise ValueError(f"rule id {rule.rule_id!r} is registered twice")
        if not rule.spec.strip():
            raise ValueError(f"rule {rule.rule_id} does not cite the requirement it enforces")
        self._rules[rule.rule_id] = rule
        return rule

    def get(self, rule_id: str) -> Rule:
        try:
            return self._rules[rule_id]
        except KeyError:
            known = ", ".join(sorted(self._rules)[:10])
            raise KeyError(f"no rule {rule_id!r}; known rules include: {known}, ...") from None

    def ids(self) -> list[str]:
        return list(self._rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self._rules.values())

    def __len__(self) -> int:
        return len(self._rules)


REGISTRY = RuleRegistry()


def register(*rules: Rule) -> None:
    for rule in rules:
        REGISTRY.register(rule)
