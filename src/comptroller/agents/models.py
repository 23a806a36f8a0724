"""State tables of the agent registry, agent runs and their steps."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from comptroller.state.models import Base, utcnow


class AgentRow(Base):
    """A registered agent and the limits every one of its runs is held to."""

    __tablename__ = "agents"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    owner: Mapped[str] = mapped_column(String(256))
    team: Mapped[str | None] = mapped_column(String(128), default=None)
    use_case_id: Mapped[str | None] = mapped_column(String(64), default=None)
    autonomy_level: Mapped[str] = mapped_column(String(16))
    allowed_tools: Mapped[list[str]] = mapped_column(JSON, default=list)
    approval_tools: Mapped[list[str]] = mapped_column(JSON, default=list)
    external_actions: Mapped[bool] = mapped_column(Boolean, default=False)
    run_frequency: Mapped[str | None] = mapped_column(String(64), default=None)
    budget_per_run: Mapped[Decimal | None] = mapped_column(Numeric(24, 8), default=None)
    budget_per_period: Mapped[Decimal | None] = mapped_column(Numeric(24, 8), default=None)
    period: Mapped[str] = mapped_column(String(16), default="monthly")
    max_runs_per_period: Mapped[int | None] = mapped_column(Integer, default=None)
    max_steps: Mapped[int | None] = mapped_column(Integer, default=None)
    max_tool_calls: Mapped[int | None] = mapped_column(Integer, default=None)
    max_context_tokens: Mapped[int | None] = mapped_column(Integer, default=None)
    max_runtime_s: Mapped[int | None] = mapped_column(Integer, default=None)
    loop_repeats: Mapped[int] = mapped_column(Integer, default=3)
    rollback_webhook: Mapped[str | None] = mapped_column(Text, default=None)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class AgentRunRow(Base):
    """One run: running until ended, stopped by a check, or rolled back. The totals are kept on
    the row so a check reads one row and the tail of the steps, not the whole run."""

    __tablename__ = "agent_runs"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    agent_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(16))
    started_by: Mapped[str] = mapped_column(String(256))
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
    ended_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    steps: Mapped[int] = mapped_column(Integer, default=0)
    tool_calls: Mapped[int] = mapped_column(Integer, default=0)
    cost: Mapped[Decimal] = mapped_column(Numeric(24, 8), default=Decimal(0))
    peak_context_tokens: Mapped[int] = mapped_column(Integer, default=0)
    outcome: Mapped[str | None] = mapped_column(String(32), default=None)
    stop_reason: Mapped[str | None] = mapped_column(Text, default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class AgentStepRow(Base):
    """One reported step. ``fingerprint`` (tool + canonical arguments) is what loop detection
    compares; ``compensation`` is the action that undoes a reversible step."""

    __tablename__ = "agent_steps"
    __table_args__ = (UniqueConstraint("run_id", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    run_id: Mapped[str] = mapped_column(String(32), index=True)
    seq: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(16))
    tool: Mapped[str | None] = mapped_column(String(128), default=None)
    arguments: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    fingerprint: Mapped[str | None] = mapped_column(String(64), default=None)
    provider: Mapped[str | None] = mapped_column(String(64), default=None)
    model: Mapped[str | None] = mapped_column(String(256), default=None)
    input_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cache_read_tokens: Mapped[int] = mapped_column(Integer, default=0)
    output_tokens: Mapped[int] = mapped_column(Integer, default=0)
    context_tokens: Mapped[int] = mapped_column(Integer, default=0)
    cost: Mapped[Decimal] = mapped_column(Numeric(24, 8), default=Decimal(0))
    cost_source: Mapped[str] = mapped_column(String(16), default="none")
    error: Mapped[str | None] = mapped_column(Text, default=None)
    compensation: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    compensated_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    ledger_event_id: Mapped[str | None] = mapped_column(String(64), default=None)
    fed_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
