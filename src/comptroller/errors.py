"""One exception tree. Every error a user can see carries a stable code and says what to do."""

from __future__ import annotations

from dataclasses import dataclass


class ComptrollerError(Exception):
    """Base of every error the project raises on purpose."""

    code = "comptroller_error"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class ConfigError(ComptrollerError):
    code = "config_error"


@dataclass(frozen=True, slots=True)
class Problem:
    """One thing wrong with an input: where (file, row, column) and what."""

    file: str
    message: str
    row: int | None = None
    column: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.row is not None:
            where += f", row {self.row}"
        if self.column is not None:
            where += f", column {self.column}"
        return f"{where}: {self.message}"


class IngestError(ComptrollerError):
    """An input could not be ingested; nothing of it was written."""

    code = "ingest_error"

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        shown = "\n".join(f"  - {p}" for p in problems[:20])
        more = f"\n  ... and {len(problems) - 20} more" if len(problems) > 20 else ""
        super().__init__(f"ingest rejected; the ledger is unchanged:\n{shown}{more}")


class RuleError(ComptrollerError):
    """A virtual-tag or allocation rule is not valid."""

    code = "rule_error"


class NotFoundError(ComptrollerError):
    """A named thing (rule, allocation, ...) does not exist."""

    code = "not_found"


class QueryError(ComptrollerError):
    """A query asked for something the ledger does not have (unknown dimension, bad range)."""

    code = "query_error"


class BudgetError(ComptrollerError):
    """A budget would break the budget tree (unknown parent, a cycle, a child above its parent)."""

    code = "budget_error"


class InvalidInputError(ComptrollerError):
    """A value given for a control-plane record (key, kill switch, rate limit) is not valid; the
    message names the field."""

    code = "invalid_input"


class GovernanceError(ComptrollerError):
    """A governance request is not valid: an unknown role, a duplicate user, a use case moved
    out of lifecycle order."""

    code = "governance_error"


class LedgerUnavailableError(ComptrollerError):
    """The ledger could not be reached or written (database down, file locked); nothing was lost."""

    code = "ledger_unavailable"


class ForbiddenError(GovernanceError):
    """The signed-in principal may not see or change this (another team's data, a review their
    role cannot give)."""

    code = "forbidden"


class ApprovalError(GovernanceError):
    """An approval request cannot take this decision (already decided, expired, wrong kind)."""

    code = "approval_error"


class AgentRunError(ComptrollerError):
    """An agent run cannot take this report (unknown run, already ended, bad step)."""

    code = "agent_run_error"
