"""What the ledger already holds against each budget in the period that contains a moment.

Counting rule, so nothing is counted twice: gateway (and OTLP, export) usage events are stored
together with their roll-up into ``telemetry`` cost lines, in one ledger transaction. Cost lines
therefore already contain every stored usage event's cost. So a budget reads exactly one table:

* ``key`` budgets read usage events (by ``api_key_id``), because cost lines carry no key;
* every other scope reads cost lines through the attributed spend query (virtual-tag rules
  applied, so a rule that names a team moves its spend into that team's budget), by the
  dimension the scope names (``x_Team`` etc.); ``portfolio`` counts every line.

Amounts are effective cost (contracted cost for usage events, which is what their roll-up books
as EffectiveCost) in the budget's currency only. Shared-cost allocations are not applied: a
budget counts spend its scope caused, which is also what the gateway can hold it to.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from comptroller.attribution.specs import Attribution
from comptroller.budgets.model import Budget, BudgetPeriod, BudgetScope
from comptroller.ledger.store import Ledger
from comptroller.reports.spend import SpendQuery, spend

Window = tuple[date | None, date]
"""First and last day (inclusive) of a budget's current period."""


def period_days(budget: Budget, at: datetime) -> Window:
    """A total budget counts from ``starts_on`` (or the beginning) up to and including ``at``'s day."""
    end = budget.period_end(at)
    if budget.period is BudgetPeriod.TOTAL or end is None:
        return budget.starts_on, at.date()
    return budget.period_start(at).date(), (end - timedelta(days=1)).date()


def budget_spend(
    ledger: Ledger, budgets: Iterable[Budget], at: datetime, *, attribution: Attribution | None = None
) -> dict[str, Decimal]:
    """Budget id -> spend of its current period as of ``at``; budgets with no spend map to 0.

    One cost-line query per (period window, currency), grouped by every dimension the window's
    budgets count, and one usage-event query per window for key budgets: compiling the
    attributed query is the expensive part, so budgets share it."""
    attribution = attribution or Attribution()
    groups: dict[tuple[Window, str], list[Budget]] = defaultdict(list)
    for budget in budgets:
        groups[(period_days(budget, at), budget.currency)].append(budget)
    spent: dict[str, Decimal] = {}
    for (window, currency), members in groups.items():
        keys = [b for b in members if b.scope is BudgetScope.KEY]
        lines = [b for b in members if b.scope is not BudgetScope.KEY]
        if keys:
            by_key = _key_spend(ledger, window, currency, {b.scope_value for b in keys if b.scope_value})
            spent.update({b.id: by_key.get(b.scope_value, Decimal(0)) for b in keys})
        if lines:
            spent.update(_line_spend(ledger, attribution, lines, window, currency))
    return spent


def _line_spend(
    ledger: Ledger, attribution: Attribution, budgets: list[Budget], window: Window, currency: str
) -> dict[str, Decimal]:
    dimensions = sorted({b.scope.value for b in budgets if b.scope is not BudgetScope.PORTFOLIO})
    query = SpendQuery(
        by=tuple(dimensions),
        start=window[0],
        end=window[1],
        cost="effective",
        filters={"BillingCurrency": currency},
        allocate=False,
    )
    rows = spend(ledger, attribution, query).rows
    return {
        b.id: sum(
            (
                Decimal(r["cost"])
                for r in rows
                if b.scope is BudgetScope.PORTFOLIO or r[b.scope.value] == b.scope_value
            ),
            Decimal(0),
        )
        for b in budgets
    }


def _key_spend(ledger: Ledger, window: Window, currency: str, key_ids: set[str]) -> dict[str | None, Decimal]:
    if not key_ids:
        return {}
    events = ledger.usage_events()
    start, end = window
    events = events.filter(
        events["api_key_id"].isin(sorted(key_ids)),
        events["currency"] == currency,
        events["timestamp"] < datetime.combine(end + timedelta(days=1), time()),
    )
    if start is not None:
        events = events.filter(events["timestamp"] >= datetime.combine(start, time()))
    totals = (
        events.group_by("api_key_id").aggregate(cost=events["contracted_cost"].sum()).to_pyarrow().to_pylist()
    )
    return {row["api_key_id"]: Decimal(row["cost"] or 0) for row in totals}
