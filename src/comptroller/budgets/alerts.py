"""Budget threshold and forecast alerts, each fired once per budget period.

Evaluation reads every enabled budget's spend from the ledger (``budgets.spend``), compares it
with the budget's thresholds and its run-rate forecast, and inserts one ``budget_alerts`` row
per alert due. The row's unique key decides who fires: evaluating again, or in two processes
at once, inserts nothing new and sends nothing twice. Notifications go out after the commit.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from comptroller.attribution.specs import Attribution
from comptroller.budgets.alert_models import BudgetAlertRow
from comptroller.budgets.forecast import Forecast, linear_forecast
from comptroller.budgets.model import Budget
from comptroller.budgets.status import BudgetStatus, budget_statuses
from comptroller.budgets.store import list_budgets
from comptroller.governance import audit
from comptroller.ledger.store import Ledger
from comptroller.notify.delivery import DeliveryResult, notify
from comptroller.notify.message import Notification, NotificationKind, Section
from comptroller.state.db import StateDB
from comptroller.state.repository import load_attribution

ACTOR = "system:alerts"
THRESHOLD = "threshold"
FORECAST = "forecast"


@dataclass(frozen=True, slots=True)
class Burn:
    """A budget's current period (spend from ``budgets.status``) with its run-rate forecast."""

    status: BudgetStatus
    forecast: Forecast | None

    @property
    def budget(self) -> Budget:
        return self.status.budget

    @property
    def spend(self) -> Decimal:
        return self.status.spent

    @property
    def ratio(self) -> Decimal:
        return self.status.spent / self.status.budget.amount

    def as_json(self) -> dict[str, Any]:
        return {
            **self.status.as_json(),
            "projected": None if self.forecast is None else str(self.forecast.projected),
            "forecast_exceeds": None if self.forecast is None else self.forecast.exceeds,
        }


@dataclass(frozen=True, slots=True)
class FiredAlert:
    budget: Budget
    kind: str
    threshold: Decimal
    spend: Decimal
    projected: Decimal | None
    period_start: datetime

    def describe(self) -> str:
        b = self.budget
        if self.kind == FORECAST:
            return (
                f"{b.name}: forecast {b.currency} {self.projected:,.2f} exceeds {b.amount:,.2f} "
                f"(spent {self.spend:,.2f} so far this {b.period.value} period)"
            )
        return f"{b.name}: {self.threshold:.0%} reached, {b.currency} {self.spend:,.2f} of {b.amount:,.2f}"

    def as_json(self) -> dict[str, Any]:
        return {
            "budget_id": self.budget.id,
            "budget_name": self.budget.name,
            "behaviour": self.budget.behaviour.value,
            "kind": self.kind,
            "threshold": str(self.threshold),
            "spend": str(self.spend),
            "amount": str(self.budget.amount),
            "projected": None if self.projected is None else str(self.projected),
            "period_start": self.period_start.isoformat(),
        }


@dataclass
class AlertEvaluation:
    at: datetime
    burns: list[Burn]
    fired: list[FiredAlert]
    deliveries: list[DeliveryResult] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "at": self.at.isoformat(),
            "budgets": [b.as_json() for b in self.burns],
            "fired": [a.as_json() for a in self.fired],
            "deliveries": [
                {
                    "channel": d.channel_name,
                    "delivered": d.delivered,
                    "attempts": d.attempts,
                    "error": d.error,
                }
                for d in self.deliveries
            ],
        }


def burns(
    ledger: Ledger, budgets: list[Budget], at: datetime, attribution: Attribution | None = None
) -> list[Burn]:
    statuses = budget_statuses(ledger, budgets, attribution=attribution, at=at)
    return [Burn(s, linear_forecast(s.budget, s.spent, at)) for s in statuses]


def due(burn: Burn) -> list[tuple[str, Decimal]]:
    """(kind, threshold) of every alert the status calls for; recording decides which are new.
    A forecast alert is due only while the budget is not yet exceeded: after that the 100%
    threshold has said it."""
    b = burn.budget
    alerts = [(THRESHOLD, t) for t in sorted(b.thresholds) if burn.spend >= b.amount * t]
    if burn.forecast is not None and burn.forecast.exceeds and burn.spend < b.amount:
        alerts.append((FORECAST, Decimal(0)))
    return alerts


def insert_new(session: Session, row: dict[str, Any]) -> bool:
    """Insert unless the unique key exists; True when this call inserted it."""
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        statement = postgresql.insert(BudgetAlertRow).values(row).on_conflict_do_nothing()
    elif dialect == "sqlite":
        statement = sqlite.insert(BudgetAlertRow).values(row).on_conflict_do_nothing()
    else:
        statement = insert(BudgetAlertRow).values(row)
    # RETURNING rather than rowcount: an ORM session reports -1 rows for this on psycopg.
    return session.execute(statement.returning(BudgetAlertRow.id)).scalar_one_or_none() is not None


def record_alerts(session: Session, burn: Burn, at: datetime) -> list[FiredAlert]:
    """Insert the alerts due; ``fired_at`` is the evaluation's moment, so a digest of that day
    lists them even when history is evaluated later."""
    fired = []
    period_start = burn.status.period_start.astimezone(UTC).replace(tzinfo=None)
    projected = burn.forecast.projected if burn.forecast else None
    for kind, threshold in due(burn):
        row = {
            "budget_id": burn.budget.id,
            "period_start": period_start,
            "kind": kind,
            "threshold": threshold,
            "spend": burn.spend,
            "amount": burn.budget.amount,
            "projected": projected,
            "fired_at": at.astimezone(UTC).replace(tzinfo=None),
        }
        if insert_new(session, row):
            alert = FiredAlert(burn.budget, kind, threshold, burn.spend, projected, burn.status.period_start)
            audit.record(
                session,
                actor=ACTOR,
                action="budget.alert",
                subject=f"budget:{burn.budget.id}",
                detail=alert.as_json(),
            )
            fired.append(alert)
    return fired


def alert_notification(alerts: list[FiredAlert]) -> Notification:
    """One message per budget: a jump past several thresholds at once reads as one event."""
    budget = alerts[0].budget
    thresholds = [a for a in alerts if a.kind == THRESHOLD]
    forecast = any(a.kind == FORECAST for a in alerts)
    parts = [f"reached {max(a.threshold for a in thresholds):.0%}"] if thresholds else []
    parts += ["is forecast to exceed its amount"] if forecast else []
    subject = f"Budget {budget.name!r} " + " and ".join(parts)
    top = alerts[0]
    scope = budget.scope.value + (f"={budget.scope_value}" if budget.scope_value else "")
    summary = (
        f"{scope}, {budget.period.value}, behaviour {budget.behaviour.value}: "
        f"{budget.currency} {top.spend:,.2f} of {budget.amount:,.2f} spent"
    )
    return Notification(
        kind=NotificationKind.ALERT,
        subject=subject,
        summary=summary,
        sections=(Section("Alerts", tuple(a.describe() for a in alerts)),),
        payload={"budget_id": budget.id, "alerts": [a.as_json() for a in alerts]},
    )


def evaluate_alerts(
    state: StateDB, ledger: Ledger, at: datetime | None = None, *, send: bool = True
) -> AlertEvaluation:
    """Fire the alerts due as of ``at`` (default now) and, with ``send``, notify the channels
    subscribed to alerts."""
    at = at or datetime.now(UTC)
    with state.session() as session:
        budgets = [b for b in list_budgets(session) if b.enabled]
    current = burns(ledger, budgets, at, load_attribution(state))
    fired: list[FiredAlert] = []
    with state.session() as session, session.begin():
        for burn in current:
            fired.extend(record_alerts(session, burn, at))
    evaluation = AlertEvaluation(at, current, fired)
    if send:
        by_budget: dict[str, list[FiredAlert]] = {}
        for alert in fired:
            by_budget.setdefault(alert.budget.id, []).append(alert)
        for alerts in by_budget.values():
            evaluation.deliveries.extend(notify(state, alert_notification(alerts)))
    return evaluation
