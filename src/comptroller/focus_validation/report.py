"""What a validation run found, shaped for both machines (tests, CI gates) and people (summary)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum


class Severity(StrEnum):
    """ERROR is a broken MUST; WARNING is a SHOULD/RECOMMENDED or a check the data cannot settle."""

    ERROR = "error"
    WARNING = "warning"


@dataclass(frozen=True, slots=True)
class Violation:
    """One rule broken somewhere in the data.

    ``row`` is the 1-based data row (header excluded) of the first offending row, or None when the
    problem is about the dataset's shape (a missing column). ``count`` is how many rows break the
    rule (1 for shape problems), so a million-row file yields one line per rule, not per row.
    """

    rule_id: str
    column: str
    message: str
    row: int | None
    count: int
    severity: Severity = Severity.ERROR

    def __str__(self) -> str:
        where = "dataset" if self.row is None else f"{self.count} row(s), first at row {self.row}"
        return f"{self.severity.upper():7} {self.rule_id} [{self.column}] {where}: {self.message}"


@dataclass(frozen=True, slots=True)
class ValidationReport:
    """All violations of one dataset against one FOCUS version."""

    version: str
    rows: int
    columns: tuple[str, ...]
    violations: tuple[Violation, ...] = field(default_factory=tuple)
    rules_checked: int = 0

    @property
    def ok(self) -> bool:
        """True when no MUST is broken; warnings alone do not fail a dataset."""
        return not self.errors

    @property
    def errors(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.severity is Severity.ERROR)

    @property
    def warnings(self) -> tuple[Violation, ...]:
        return tuple(v for v in self.violations if v.severity is Severity.WARNING)

    def rule_ids(self) -> set[str]:
        return {v.rule_id for v in self.violations}

    def find(self, rule_id: str) -> list[Violation]:
        return [v for v in self.violations if v.rule_id == rule_id]

    def summary(self, limit: int = 50) -> str:
        """A short text a person can act on: verdict first, then errors before warnings."""
        counts = Counter(v.severity for v in self.violations)
        verdict = "conforms" if self.ok else "does NOT conform"
        head = (
            f"FOCUS {self.version} validation: dataset {verdict} "
            f"({self.rows} rows, {len(self.columns)} columns, {self.rules_checked} rules checked; "
            f"{counts[Severity.ERROR]} error(s), {counts[Severity.WARNING]} warning(s))"
        )
        ordered = sorted(self.violations, key=lambda v: (v.severity is not Severity.ERROR, v.rule_id))
        lines = [head, *(f"  {v}" for v in ordered[:limit])]
        if len(ordered) > limit:
            lines.append(f"  ... and {len(ordered) - limit} more")
        return "\n".join(lines)
