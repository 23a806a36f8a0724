"""Agent run costs into the ledger, as usage events of source ``agents``.

Model steps (provider, model, tokens) become one usage event each, priced by the ledger like
any other event and rolled up into FOCUS lines carrying the agent's ``agent``, ``team`` and
``owner`` dimensions, so they appear in spend reports and in ``agent`` budgets. The event id is
derived from run and step, so feeding twice stores once.

Feeding is off the agent's path: a ledger delivery rebuilds the day's roll-up and takes about
a second, while "may I continue?" must answer in milliseconds. The run's own spend caps read
the run's totals in state, so enforcement never waits for the ledger. The API feeds after the
response once ``FEED_BATCH`` model steps are waiting and when a run ends or is rolled back;
the periodic job (``comptroller alerts check``) feeds whatever is left, e.g. of runs that
never ended.
"""

from __future__ import annotations

from datetime import UTC, datetime

import pyarrow as pa
from sqlalchemy import func, select

from comptroller.agents.models import AgentRow, AgentRunRow, AgentStepRow
from comptroller.agents.runs import SOURCE, naive_utc
from comptroller.ingest.usage_events import ingest_usage_events
from comptroller.ledger.store import Ledger
from comptroller.pricing import Pricer
from comptroller.state.db import StateDB

FEED_BATCH = 10


def step_event(step: AgentStepRow, agent: AgentRow | None, agent_id: str) -> dict[str, object]:
    return {
        "event_id": step.ledger_event_id,
        "timestamp": step.created_at,
        "source": SOURCE,
        "provider": step.provider,
        "model": step.model,
        "operation": "agent_step",
        "trace_id": step.run_id,
        "uncached_input_tokens": step.input_tokens,
        "cache_read_tokens": step.cache_read_tokens,
        "output_tokens": step.output_tokens,
        "tool_calls": 1 if step.kind == "tool" else 0,
        "status": "error" if step.error else "ok",
        "error_type": step.error[:200] if step.error else None,
        "agent": agent_id,
        "team": agent.team if agent else None,
        "owner": agent.owner if agent else None,
    }


def _unfed():
    return AgentStepRow.ledger_event_id.is_not(None), AgentStepRow.fed_at.is_(None)


def unfed_steps(state: StateDB, run_id: str) -> int:
    with state.session() as session:
        return session.scalar(select(func.count()).where(AgentStepRow.run_id == run_id, *_unfed())) or 0


def feed_steps(state: StateDB, ledger: Ledger, pricer: Pricer, *, run_id: str | None = None) -> int:
    """Store unfed model steps (of one run, or of every run) in the ledger in one delivery;
    returns how many events were new there."""
    with state.session() as session:
        query = (
            select(AgentStepRow, AgentRunRow.agent_id)
            .join(AgentRunRow, AgentRunRow.id == AgentStepRow.run_id)
            .where(*_unfed())
            .order_by(AgentStepRow.id)
        )
        if run_id is not None:
            query = query.where(AgentStepRow.run_id == run_id)
        steps = session.execute(query).all()
        agents = {
            a.id: a for a in session.scalars(select(AgentRow).where(AgentRow.id.in_({s[1] for s in steps})))
        }
    if not steps:
        return 0
    table = pa.Table.from_pylist([step_event(s, agents.get(agent_id), agent_id) for s, agent_id in steps])
    result = ingest_usage_events(ledger, table, pricer, origin="agent runs")
    fed = naive_utc(datetime.now(UTC))
    with state.session() as session, session.begin():
        ids = [s.id for s, _ in steps]
        for step in session.scalars(select(AgentStepRow).where(AgentStepRow.id.in_(ids))):
            step.fed_at = fed
    return result.new_events
