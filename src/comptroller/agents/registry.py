"""The agent registry: register, change and list agents; every change audited."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from comptroller.agents.models import AgentRow
from comptroller.agents.specs import AgentSpec
from comptroller.errors import NotFoundError
from comptroller.governance import audit


def _fields(spec: AgentSpec) -> dict[str, Any]:
    data = spec.model_dump(exclude={"id"})
    data["autonomy_level"] = spec.autonomy_level.value
    data["period"] = spec.period.value
    data["rollback_webhook"] = str(spec.rollback_webhook) if spec.rollback_webhook else None
    return data


def to_spec(row: AgentRow) -> AgentSpec:
    def money(value: Decimal | None) -> Decimal | None:
        return None if value is None else Decimal(format(Decimal(value).normalize(), "f"))

    return AgentSpec(
        id=row.id,
        name=row.name,
        owner=row.owner,
        team=row.team,
        use_case_id=row.use_case_id,
        autonomy_level=row.autonomy_level,
        allowed_tools=list(row.allowed_tools),
        approval_tools=list(row.approval_tools),
        external_actions=row.external_actions,
        run_frequency=row.run_frequency,
        budget_per_run=money(row.budget_per_run),
        budget_per_period=money(row.budget_per_period),
        period=row.period,
        max_runs_per_period=row.max_runs_per_period,
        max_steps=row.max_steps,
        max_tool_calls=row.max_tool_calls,
        max_context_tokens=row.max_context_tokens,
        max_runtime_s=row.max_runtime_s,
        loop_repeats=row.loop_repeats,
        rollback_webhook=row.rollback_webhook,
        enabled=row.enabled,
    )


def agent_json(row: AgentRow) -> dict[str, Any]:
    return {
        **to_spec(row).model_dump(mode="json"),
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat() + "Z",
    }


def get_agent(session: Session, agent_id: str) -> AgentRow:
    row = session.get(AgentRow, agent_id)
    if row is None:
        raise NotFoundError(f"no agent with id {agent_id!r}; `comptroller agents list` shows them")
    return row


def list_agents(session: Session, *, team: str | None = None) -> list[AgentRow]:
    query = select(AgentRow).order_by(AgentRow.id)
    if team:
        query = query.where(AgentRow.team == team)
    return list(session.scalars(query))


def save_agent(session: Session, spec: AgentSpec, *, actor: str) -> tuple[AgentRow, bool]:
    """Register the agent, or replace every field of the one with the same id; (row, created)."""
    row = session.get(AgentRow, spec.id)
    fields = _fields(spec)
    created = row is None
    if row is None:
        row = AgentRow(id=spec.id, created_by=actor, **fields)
        session.add(row)
        detail: dict[str, Any] = spec.model_dump(mode="json")
    else:
        before = to_spec(row).model_dump(mode="json")
        for name, value in fields.items():
            setattr(row, name, value)
        detail = {"before": before, "after": spec.model_dump(mode="json")}
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="agent.register" if created else "agent.update",
        subject=f"agent:{spec.id}",
        detail=detail,
    )
    return row, created
