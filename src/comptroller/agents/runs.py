"""Agent runs: start, report steps, end. Checks live in ``checks``; undo in ``rollback``."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from comptroller.agents.loops import fingerprint
from comptroller.agents.models import AgentRow, AgentRunRow, AgentStepRow
from comptroller.agents.specs import AgentPeriod, StepKind, StepReport
from comptroller.errors import AgentRunError, NotFoundError
from comptroller.governance import audit
from comptroller.pricing import Pricer, TokenUsage

SOURCE = "agents"
"""The ledger ``source`` of the usage events agent runs report."""


class RunStatus(StrEnum):
    RUNNING = "running"
    ENDED = "ended"
    ROLLED_BACK = "rolled_back"


def naive_utc(moment: datetime | None = None) -> datetime:
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def period_start(period: str, at: datetime) -> datetime:
    """Start (naive UTC) of the agent's budget period containing ``at``."""
    day = naive_utc(at).replace(hour=0, minute=0, second=0, microsecond=0)
    if period == AgentPeriod.DAILY:
        return day
    if period == AgentPeriod.WEEKLY:
        return day - timedelta(days=day.weekday())
    return day.replace(day=1)


def period_usage(session: Session, agent: AgentRow, at: datetime) -> tuple[int, Decimal]:
    """(runs started, cost) of the agent in its current period."""
    start = period_start(agent.period, at)
    runs, cost = session.execute(
        select(func.count(), func.coalesce(func.sum(AgentRunRow.cost), 0)).where(
            AgentRunRow.agent_id == agent.id, AgentRunRow.started_at >= start
        )
    ).one()
    return int(runs), Decimal(cost)


def get_run(session: Session, run_id: str, agent_id: str | None = None, *, lock: bool = False) -> AgentRunRow:
    """``lock`` takes the row lock (PostgreSQL) so concurrent reports of one run queue up instead
    of claiming the same step number; SQLite serialises writers on its own."""
    row = session.get(AgentRunRow, run_id, with_for_update=lock)
    if row is None or (agent_id is not None and row.agent_id != agent_id):
        owner = f" of agent {agent_id!r}" if agent_id else ""
        raise NotFoundError(f"no run {run_id!r}{owner}")
    return row


def running(session: Session, run_id: str, agent_id: str | None = None) -> AgentRunRow:
    """The run, locked for a change, if it is still running."""
    run = get_run(session, run_id, agent_id, lock=True)
    if run.status != RunStatus.RUNNING:
        raise AgentRunError(f"run {run_id} is {run.status}; start a new run")
    return run


def run_json(run: AgentRunRow) -> dict[str, Any]:
    return {
        "id": run.id,
        "agent_id": run.agent_id,
        "status": run.status,
        "started_by": run.started_by,
        "started_at": run.started_at.isoformat() + "Z",
        "ended_at": run.ended_at.isoformat() + "Z" if run.ended_at else None,
        "steps": run.steps,
        "tool_calls": run.tool_calls,
        "cost": format(Decimal(run.cost).normalize(), "f"),
        "peak_context_tokens": run.peak_context_tokens,
        "outcome": run.outcome,
        "stop_reason": run.stop_reason,
        "detail": run.detail,
    }


def step_json(step: AgentStepRow) -> dict[str, Any]:
    return {
        "seq": step.seq,
        "kind": step.kind,
        "tool": step.tool,
        "arguments": step.arguments,
        "provider": step.provider,
        "model": step.model,
        "input_tokens": step.input_tokens,
        "cache_read_tokens": step.cache_read_tokens,
        "output_tokens": step.output_tokens,
        "context_tokens": step.context_tokens,
        "cost": format(Decimal(step.cost).normalize(), "f"),
        "cost_source": step.cost_source,
        "error": step.error,
        "compensation": step.compensation,
        "compensated_at": step.compensated_at.isoformat() + "Z" if step.compensated_at else None,
        "created_at": step.created_at.isoformat() + "Z",
    }


def create_run(
    session: Session, agent: AgentRow, *, actor: str, detail: dict[str, Any], now: datetime
) -> AgentRunRow:
    run = AgentRunRow(
        id=uuid.uuid4().hex,
        agent_id=agent.id,
        status=RunStatus.RUNNING.value,
        started_by=actor,
        started_at=naive_utc(now),
        cost=Decimal(0),
        detail=detail,
    )
    session.add(run)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="agent_run.start",
        subject=f"agent_run:{run.id}",
        detail={"agent_id": agent.id},
    )
    return run


def step_cost(report: StepReport, pricer: Pricer, at: datetime) -> tuple[Decimal, str]:
    """(cost, where it came from): reported by the agent, priced from tokens, or unpriced (0)."""
    if report.cost is not None:
        return report.cost, "reported"
    if report.provider and report.model:
        usage = TokenUsage(
            uncached_input=report.input_tokens,
            cache_read=report.cache_read_tokens,
            output=report.output_tokens,
        )
        priced = pricer.price(report.provider, report.model, usage, naive_utc(at))
        if priced.contracted_cost is not None:
            return priced.contracted_cost, "priced"
        return Decimal(0), "unpriced"
    return Decimal(0), "none"


def record_step(
    session: Session, run: AgentRunRow, report: StepReport, pricer: Pricer, *, now: datetime | None = None
) -> AgentStepRow:
    now = now or datetime.now(UTC)
    cost, source = step_cost(report, pricer, now)
    seq = run.steps + 1
    step = AgentStepRow(
        run_id=run.id,
        seq=seq,
        kind=report.kind.value,
        tool=report.tool,
        arguments=report.arguments,
        fingerprint=fingerprint(report.tool, report.arguments) if report.tool else None,
        provider=report.provider,
        model=report.model,
        input_tokens=report.input_tokens,
        cache_read_tokens=report.cache_read_tokens,
        output_tokens=report.output_tokens,
        context_tokens=report.context_tokens,
        cost=cost,
        cost_source=source,
        error=report.error,
        compensation=report.compensation.model_dump() if report.compensation else None,
        ledger_event_id=f"agent-{run.id}-{seq}" if report.provider and report.model else None,
        created_at=naive_utc(now),
    )
    session.add(step)
    run.steps = seq
    run.tool_calls += 1 if report.kind is StepKind.TOOL else 0
    run.cost = Decimal(run.cost) + cost
    run.peak_context_tokens = max(run.peak_context_tokens, report.context_tokens)
    session.flush()
    return step


def end_run(
    session: Session, run: AgentRunRow, *, outcome: str, actor: str, now: datetime | None = None
) -> AgentRunRow:
    run.status, run.outcome, run.ended_at = RunStatus.ENDED.value, outcome, naive_utc(now)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="agent_run.end",
        subject=f"agent_run:{run.id}",
        detail={"agent_id": run.agent_id, "outcome": outcome, "steps": run.steps, "cost": str(run.cost)},
    )
    return run


def list_runs(
    session: Session, *, agent_id: str | None = None, status: str | None = None, limit: int = 50
) -> list[AgentRunRow]:
    query = select(AgentRunRow).order_by(AgentRunRow.started_at.desc()).limit(limit)
    if agent_id:
        query = query.where(AgentRunRow.agent_id == agent_id)
    if status:
        query = query.where(AgentRunRow.status == status)
    return list(session.scalars(query))


def run_steps(session: Session, run_id: str) -> list[AgentStepRow]:
    return list(
        session.scalars(select(AgentStepRow).where(AgentStepRow.run_id == run_id).order_by(AgentStepRow.seq))
    )
