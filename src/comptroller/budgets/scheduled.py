"""The periodic job (``comptroller alerts check`` or ``POST /api/v1/alerts/evaluate``).

One pass does everything that is due with the passing of time: feed agent run costs not yet
in the ledger (first, so alerts see them), fire budget alerts, open
approval requests for gateway requests blocked on approval budgets since the last pass,
expire requests past their TTL, and notify about what is new. Every step is idempotent, so
a scheduler may run it as often as it likes and overlapping runs do no harm.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from comptroller.agents.ledger_feed import feed_steps
from comptroller.budgets.alerts import AlertEvaluation, evaluate_alerts
from comptroller.governance.approvals import (
    ApprovalStatus,
    expire_due,
    open_gateway_approvals,
    request_notification,
)
from comptroller.ledger.store import Ledger
from comptroller.notify.delivery import DeliveryResult, notify
from comptroller.pricing import Pricer
from comptroller.state.db import StateDB


@dataclass
class CheckRun:
    alerts: AlertEvaluation
    approvals_opened: list[str]
    approvals_expired: list[str]
    approval_deliveries: list[DeliveryResult]
    agent_events: int = 0

    def as_json(self) -> dict[str, Any]:
        return {
            **self.alerts.as_json(),
            "approvals_opened": self.approvals_opened,
            "approvals_expired": self.approvals_expired,
            "agent_events_fed": self.agent_events,
        }


def run_checks(
    state: StateDB, ledger: Ledger, pricer: Pricer, at: datetime | None = None, *, send: bool = True
) -> CheckRun:
    at = at or datetime.now(UTC)
    fed = feed_steps(state, ledger, pricer)
    alerts = evaluate_alerts(state, ledger, at, send=send)
    with state.session() as session, session.begin():
        opened = open_gateway_approvals(session, ledger, now=at)
        expired = expire_due(session, at)
    pending = [r for r in opened if r.status == ApprovalStatus.PENDING]
    deliveries = notify(state, request_notification(pending)) if send and pending else []
    return CheckRun(alerts, [r.id for r in opened], [r.id for r in expired], deliveries, fed)
