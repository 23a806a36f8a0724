"""The budget model: one definition read by the gateway's enforcement and the control plane.

Pure data with no storage or framework imports, so the data plane may import it.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, model_validator


class BudgetScope(StrEnum):
    """What a budget counts. ``portfolio`` counts everything; the others count one value of a
    request's attribution (``key`` is the virtual key id, ``vendor`` the provider)."""

    PORTFOLIO = "portfolio"
    FUNCTION = "function"
    TEAM = "team"
    PRODUCT = "product"
    FEATURE = "feature"
    WORKFLOW = "workflow"
    AGENT = "agent"
    KEY = "key"
    MODEL = "model"
    VENDOR = "vendor"


class BudgetPeriod(StrEnum):
    DAILY = "daily"
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    TOTAL = "total"


class BudgetBehaviour(StrEnum):
    """``alert`` lets spend through and notifies at thresholds; ``approval`` blocks with an
    approval-request id a human can grant; ``hard_cap`` blocks."""

    ALERT = "alert"
    APPROVAL = "approval"
    HARD_CAP = "hard_cap"


class FailMode(StrEnum):
    """What enforcement does when the shared counter store cannot be reached."""

    OPEN = "open"
    CLOSED = "closed"


DEFAULT_THRESHOLDS: tuple[Decimal, ...] = (Decimal("0.5"), Decimal("0.8"), Decimal("1"))


class Budget(BaseModel):
    """A spending limit over one scope and period, in USD."""

    model_config = ConfigDict(frozen=True)

    id: str = Field(min_length=1, max_length=64)
    name: str = Field(min_length=1, max_length=200)
    scope: BudgetScope
    scope_value: str | None = Field(default=None, max_length=256)
    period: BudgetPeriod = BudgetPeriod.MONTHLY
    # Micro-dollars: the resolution of the gateway's counters.
    amount: Decimal = Field(gt=0, le=Decimal("1e12"), decimal_places=6, allow_inf_nan=False)
    currency: str = "USD"
    behaviour: BudgetBehaviour = BudgetBehaviour.HARD_CAP
    fail_mode: FailMode = FailMode.CLOSED
    thresholds: tuple[Decimal, ...] = DEFAULT_THRESHOLDS
    parent_id: str | None = None
    starts_on: date | None = None
    enabled: bool = True

    @model_validator(mode="after")
    def _scope_value_matches_scope(self) -> Budget:
        if self.scope is BudgetScope.PORTFOLIO and self.scope_value is not None:
            raise ValueError("scope_value: a portfolio budget counts all spend and takes no value")
        if self.scope is not BudgetScope.PORTFOLIO and not self.scope_value:
            raise ValueError(f"scope_value: a {self.scope.value} budget needs the value it counts")
        if any(not (0 < t <= 10) for t in self.thresholds):
            raise ValueError("thresholds: each is a fraction of the amount, above 0 and at most 10")
        return self

    def applies_to(self, attribution: Mapping[str, str | None]) -> bool:
        """Whether a request with this attribution counts against the budget."""
        if not self.enabled:
            return False
        if self.scope is BudgetScope.PORTFOLIO:
            return True
        return attribution.get(self.scope.value) == self.scope_value

    def period_start(self, at: datetime) -> datetime:
        """Start (UTC) of the period that contains ``at``; counters are keyed by it."""
        at = at.astimezone(UTC) if at.tzinfo else at.replace(tzinfo=UTC)
        day = datetime(at.year, at.month, at.day, tzinfo=UTC)
        if self.period is BudgetPeriod.DAILY:
            return day
        if self.period is BudgetPeriod.WEEKLY:
            return day - timedelta(days=day.weekday())
        if self.period is BudgetPeriod.MONTHLY:
            return day.replace(day=1)
        start = self.starts_on or date(1970, 1, 1)
        return datetime(start.year, start.month, start.day, tzinfo=UTC)

    def period_end(self, at: datetime) -> datetime | None:
        """End (exclusive) of the period that contains ``at``; None for a total budget."""
        start = self.period_start(at)
        if self.period is BudgetPeriod.DAILY:
            return start + timedelta(days=1)
        if self.period is BudgetPeriod.WEEKLY:
            return start + timedelta(days=7)
        if self.period is BudgetPeriod.MONTHLY:
            return (start.replace(day=28) + timedelta(days=4)).replace(day=1)
        return None
