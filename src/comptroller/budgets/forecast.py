"""Forecast of a budget period's spend: the linear run-rate of the period so far.

Why not a statistical model (statsforecast and the like): a budget period is at most a month of
one series, alerts are evaluated for every budget on every run, and the question asked is only
"will this period end above the amount?". Run-rate answers it in microseconds with no
dependency, and its known weakness (noise early in the period) is handled by not forecasting
before ``MIN_ELAPSED`` of the period has passed. Capability 11 (forecasting with uncertainty)
is a separate, heavier job over the whole ledger history.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal

from comptroller.budgets.model import Budget

MIN_ELAPSED = Decimal("0.1")
"""The share of a period that must have passed before its run-rate is trusted."""


@dataclass(frozen=True, slots=True)
class Forecast:
    projected: Decimal
    elapsed: Decimal  # share of the period passed, 0..1
    exceeds: bool


def linear_forecast(budget: Budget, spend: Decimal, at: datetime) -> Forecast | None:
    """Spend projected to the period's end at the rate so far; None for a total budget (no end)
    or too early in the period to say."""
    at = at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
    end = budget.period_end(at)
    if end is None:
        return None
    start = budget.period_start(at)
    elapsed = Decimal((at - start).total_seconds()) / Decimal((end - start).total_seconds())
    if elapsed < MIN_ELAPSED:
        return None
    elapsed = min(elapsed, Decimal(1))
    projected = (spend / elapsed).quantize(Decimal("0.01"))
    return Forecast(projected=projected, elapsed=elapsed, exceeds=projected > budget.amount)
