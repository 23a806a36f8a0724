"""The daily digest: budgets by burn, the day's alerts and the approvals waiting for someone.

Sent to every channel subscribed to digests, at most once per channel and UTC day (the
delivery log's dedupe key), so a scheduler may run ``comptroller alerts digest`` more often.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from comptroller.budgets.alert_models import BudgetAlertRow
from comptroller.budgets.alerts import Burn, burns
from comptroller.budgets.store import list_budgets
from comptroller.governance.approvals import list_approvals
from comptroller.ledger.store import Ledger
from comptroller.notify.delivery import DeliveryResult, notify, skipped, targets
from comptroller.notify.message import Notification, NotificationKind, Section
from comptroller.state.db import StateDB
from comptroller.state.repository import load_attribution

TOP_BUDGETS = 10


def _burn_line(burn: Burn) -> str:
    b = burn.budget
    line = f"{b.name}: {b.currency} {burn.spend:,.2f} of {b.amount:,.2f} ({burn.ratio:.0%}, {b.period.value})"
    if burn.forecast is not None:
        line += f", forecast {burn.forecast.projected:,.2f}"
    return line


def build_digest(state: StateDB, ledger: Ledger, at: datetime | None = None) -> Notification:
    at = at or datetime.now(UTC)
    day = at.astimezone(UTC).date()
    day_start = datetime(day.year, day.month, day.day)
    with state.session() as session:
        budgets = [b for b in list_budgets(session) if b.enabled]
        alerts = list(
            session.scalars(
                select(BudgetAlertRow)
                .where(
                    BudgetAlertRow.fired_at >= day_start,
                    BudgetAlertRow.fired_at < day_start + timedelta(days=1),
                )
                .order_by(BudgetAlertRow.fired_at)
            )
        )
        pending = list_approvals(session, status="pending")
    names = {b.id: b.name for b in budgets}
    ranked = sorted(burns(ledger, budgets, at, load_attribution(state)), key=lambda b: b.ratio, reverse=True)
    alert_lines = tuple(
        f"{names.get(a.budget_id, a.budget_id)}: "
        + (
            f"forecast {a.projected:,.2f} over {a.amount:,.2f}"
            if a.kind == "forecast"
            else f"{a.threshold:.0%} reached"
        )
        for a in alerts
    )
    approval_lines = tuple(
        f"{r.id} ({r.kind}) by {r.requested_by}: {r.reason or 'no reason given'}, expires {r.expires_at:%Y-%m-%d %H:%M} UTC"
        for r in pending
    )
    over = sum(1 for b in ranked if b.spend >= b.budget.amount)
    return Notification(
        kind=NotificationKind.DIGEST,
        subject=f"Budget digest for {day.isoformat()}",
        summary=(
            f"{len(ranked)} budget(s), {over} at or over their amount; {len(alerts)} alert(s) today; "
            f"{len(pending)} approval request(s) pending"
        ),
        sections=(
            Section("Top budgets by burn", tuple(_burn_line(b) for b in ranked[:TOP_BUDGETS])),
            Section("Alerts today", alert_lines),
            Section("Pending approvals", approval_lines),
        ),
        payload={
            "day": day.isoformat(),
            "budgets": [b.as_json() for b in ranked[:TOP_BUDGETS]],
            "alerts": len(alerts),
            "pending_approvals": [r.id for r in pending],
        },
    )


def send_digest(state: StateDB, ledger: Ledger, at: datetime | None = None) -> list[DeliveryResult]:
    """Build the digest only when some digest channel has not had today's yet."""
    at = at or datetime.now(UTC)
    key = f"digest:{at.astimezone(UTC).date().isoformat()}"
    rows, done = targets(state, NotificationKind.DIGEST, dedupe_key=key)
    if all(r.id in done for r in rows):
        return skipped(rows, done)
    return notify(state, build_digest(state, ledger, at), dedupe_key=key)
