"""Rollback hooks: undo a run's reversible steps, newest first.

A step that changed something outside reports a ``compensation`` (the call that undoes it).
Rolling back marks every not-yet-compensated step in reverse order, ends the run, and returns
the compensations for the agent's runtime to execute; when the agent registered a rollback
webhook, the same list is POSTed there (signed like any webhook notification).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from comptroller.agents.models import AgentRunRow, AgentStepRow
from comptroller.agents.runs import RunStatus, naive_utc
from comptroller.governance import audit
from comptroller.notify.delivery import RetryPolicy, run_sync, send_with_retries
from comptroller.notify.message import Notification, NotificationKind, Section
from comptroller.notify.webhook import WebhookChannel, WebhookConfig


@dataclass(frozen=True, slots=True)
class Rollback:
    run_id: str
    agent_id: str
    compensations: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {"run_id": self.run_id, "agent_id": self.agent_id, "compensations": self.compensations}


def rollback_run(session: Session, run: AgentRunRow, *, actor: str, now: datetime | None = None) -> Rollback:
    """Mark the run's open compensations done, newest step first, and end the run as rolled back.
    Rolling back twice returns nothing the second time: each compensation is handed out once."""
    at = naive_utc(now or datetime.now(UTC))
    steps = session.scalars(
        select(AgentStepRow)
        .where(
            AgentStepRow.run_id == run.id,
            AgentStepRow.compensation.is_not(None),
            AgentStepRow.compensated_at.is_(None),
        )
        .order_by(AgentStepRow.seq.desc())
    ).all()
    compensations = []
    for step in steps:
        if step.compensation is None:  # JSON null stored by a driver that keeps it
            continue
        step.compensated_at = at
        compensations.append(
            {
                "seq": step.seq,
                "undoes": {"tool": step.tool, "arguments": step.arguments},
                "tool": step.compensation["tool"],
                "arguments": step.compensation.get("arguments", {}),
            }
        )
    if run.status == RunStatus.RUNNING:
        run.ended_at = at
    run.status = RunStatus.ROLLED_BACK.value
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="agent_run.rollback",
        subject=f"agent_run:{run.id}",
        detail={"agent_id": run.agent_id, "compensations": [c["seq"] for c in compensations]},
    )
    return Rollback(run.id, run.agent_id, compensations)


def rollback_notification(result: Rollback) -> Notification:
    lines = tuple(f"step {c['seq']}: {c['tool']}({c['arguments']})" for c in result.compensations)
    return Notification(
        kind=NotificationKind.ROLLBACK,
        subject=f"Roll back run {result.run_id} of agent {result.agent_id}",
        summary=f"{len(result.compensations)} compensating action(s), newest first",
        sections=(Section("Compensations", lines),),
        payload=result.as_json(),
    )


def call_rollback_webhook(
    url: str, result: Rollback, policy: RetryPolicy | None = None
) -> tuple[int, str | None]:
    """(attempts, error or None); called after the rollback committed."""
    channel = WebhookChannel(WebhookConfig(url=url))
    return run_sync(send_with_retries(channel, rollback_notification(result), policy or RetryPolicy()))
