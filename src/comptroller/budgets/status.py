"""A budget as people read it: the limit beside what its current period has spent so far."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime
from decimal import Decimal

from pydantic import BaseModel

from comptroller.attribution.specs import Attribution
from comptroller.budgets.model import Budget
from comptroller.budgets.spend import budget_spend
from comptroller.ledger.store import Ledger

PERCENT_PLACES = Decimal("0.01")
MONEY_PLACES = Decimal("0.0001")


class BudgetStatus(BaseModel):
    budget: Budget
    period_start: datetime
    period_end: datetime | None
    spent: Decimal
    remaining: Decimal
    """Negative once the budget is overspent (alert budgets let spend through)."""
    percent_used: Decimal

    def as_json(self) -> dict[str, object]:
        return {
            **self.budget.model_dump(mode="json"),
            "period_start": self.period_start.isoformat(),
            "period_end": self.period_end.isoformat() if self.period_end else None,
            "spent": str(self.spent),
            "remaining": str(self.remaining),
            "percent_used": str(self.percent_used),
        }


def status_of(budget: Budget, spent: Decimal, at: datetime) -> BudgetStatus:
    spent = spent.quantize(MONEY_PLACES)
    return BudgetStatus(
        budget=budget,
        period_start=budget.period_start(at),
        period_end=budget.period_end(at),
        spent=spent,
        remaining=(budget.amount - spent).quantize(MONEY_PLACES),
        percent_used=(spent * 100 / budget.amount).quantize(PERCENT_PLACES),
    )


def budget_statuses(
    ledger: Ledger,
    budgets: Sequence[Budget],
    *,
    attribution: Attribution | None = None,
    at: datetime | None = None,
) -> list[BudgetStatus]:
    at = at or datetime.now(UTC)
    spent = budget_spend(ledger, budgets, at, attribution=attribution)
    return [status_of(b, spent.get(b.id, Decimal(0)), at) for b in budgets]
