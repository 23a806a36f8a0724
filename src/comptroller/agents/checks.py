""" "May I start?" and "may I continue?": every limit an agent run is held to, in one answer.

The answer lists every reason at once (an agent over its spend cap and in a loop hears both),
each with a stable code. The approval gate is asked last and only when nothing else refuses,
so a run that must stop anyway does not put an approval request in front of a person.
Denials are audited; allowed checks are not (an agent checks before every step).
"""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from comptroller.agents.loops import detect_loop, fingerprint
from comptroller.agents.models import AgentRow, AgentRunRow, AgentStepRow
from comptroller.agents.runs import RunStatus, create_run, naive_utc, period_usage, run_json
from comptroller.agents.specs import AutonomyLevel, CheckResult, NextAction, Reason
from comptroller.governance import audit
from comptroller.governance.approvals import ApprovalStatus, request_tool_approval, tool_approval_status
from comptroller.keys.models import KillSwitchRow

LOOP_WINDOW = 200
"""Tool calls read from the end of a run for loop detection; longer loops are not looked for."""


def engaged_kill_switch(session: Session, agent: AgentRow) -> KillSwitchRow | None:
    """An engaged kill switch for the agent itself or its team."""
    matches = [(KillSwitchRow.scope == "agent") & (KillSwitchRow.scope_value == agent.id)]
    if agent.team:
        matches.append((KillSwitchRow.scope == "team") & (KillSwitchRow.scope_value == agent.team))
    return session.scalar(
        select(KillSwitchRow).where(KillSwitchRow.released_at.is_(None), or_(*matches)).limit(1)
    )


def _agent_reasons(session: Session, agent: AgentRow, at: datetime, extra_cost: Decimal) -> list[Reason]:
    """Reasons that refuse any run of the agent right now, started or not."""
    reasons = []
    if not agent.enabled:
        reasons.append(Reason(code="agent_disabled", message=f"agent {agent.id} is disabled in the registry"))
    switch = engaged_kill_switch(session, agent)
    if switch is not None:
        reasons.append(
            Reason(
                code="kill_switch",
                message=f"kill switch {switch.id} ({switch.scope}={switch.scope_value}) is engaged: {switch.reason}",
            )
        )
    if agent.budget_per_period is not None:
        _, spent = period_usage(session, agent, at)
        if spent + extra_cost >= agent.budget_per_period:
            reasons.append(
                Reason(
                    code="spend_cap_period",
                    message=f"the agent's {agent.period} budget {agent.budget_per_period} USD is spent ({spent} USD)",
                )
            )
    return reasons


def _deny(session: Session, subject: str, reasons: list[Reason], actor: str) -> None:
    audit.record(
        session,
        actor=actor,
        action="agent_run.deny",
        subject=subject,
        detail={"reasons": [r.model_dump() for r in reasons]},
    )


def start_run(
    session: Session, agent: AgentRow, *, actor: str, detail: dict[str, object], now: datetime | None = None
) -> tuple[AgentRunRow | None, CheckResult]:
    """A new run, or None and the reasons it may not start (kill switch, run limit, spend cap)."""
    now = now or datetime.now(UTC)
    reasons = _agent_reasons(session, agent, now, Decimal(0))
    if agent.max_runs_per_period is not None:
        runs, _ = period_usage(session, agent, now)
        if runs >= agent.max_runs_per_period:
            reasons.append(
                Reason(
                    code="run_limit",
                    message=f"{runs} runs this {agent.period} period reach the limit of {agent.max_runs_per_period}",
                )
            )
    if reasons:
        _deny(session, f"agent:{agent.id}", reasons, actor)
        return None, CheckResult(allow=False, reasons=reasons)
    run = create_run(session, agent, actor=actor, detail=detail, now=now)
    return run, CheckResult(allow=True, run=run_json(run))


def _run_reasons(agent: AgentRow, run: AgentRunRow, action: NextAction, now: datetime) -> list[Reason]:
    reasons = []
    projected = Decimal(run.cost) + (action.estimated_cost or Decimal(0))
    if agent.budget_per_run is not None and projected >= agent.budget_per_run:
        reasons.append(
            Reason(
                code="spend_cap_run",
                message=f"the run has spent {run.cost} of its {agent.budget_per_run} USD cap",
            )
        )
    if agent.max_steps is not None and run.steps >= agent.max_steps:
        reasons.append(
            Reason(code="step_limit", message=f"{run.steps} steps reach the limit of {agent.max_steps}")
        )
    runtime = (naive_utc(now) - run.started_at).total_seconds()
    if agent.max_runtime_s is not None and runtime >= agent.max_runtime_s:
        reasons.append(
            Reason(
                code="runtime_limit",
                message=f"{runtime:.0f} s of run time reach the limit of {agent.max_runtime_s} s",
            )
        )
    if action.tool and agent.max_tool_calls is not None and run.tool_calls >= agent.max_tool_calls:
        reasons.append(
            Reason(
                code="tool_call_limit",
                message=f"{run.tool_calls} tool calls reach the limit of {agent.max_tool_calls}",
            )
        )
    context = max(run.peak_context_tokens, action.context_tokens or 0)
    if agent.max_context_tokens is not None and context > agent.max_context_tokens:
        reasons.append(
            Reason(
                code="context_limit",
                message=f"{context} context tokens exceed the limit of {agent.max_context_tokens}",
            )
        )
    return reasons


def _tool_reasons(agent: AgentRow, action: NextAction) -> list[Reason]:
    reasons = []
    if action.tool and agent.allowed_tools and action.tool not in agent.allowed_tools:
        reasons.append(
            Reason(
                code="tool_not_allowed",
                message=f"tool {action.tool!r} is not among the agent's allowed tools",
            )
        )
    if action.external:
        if not agent.external_actions:
            reasons.append(
                Reason(
                    code="external_action_not_allowed",
                    message=f"agent {agent.id} is not registered for external actions",
                )
            )
        elif agent.autonomy_level in (AutonomyLevel.OBSERVE, AutonomyLevel.RECOMMEND):
            reasons.append(
                Reason(
                    code="external_action_not_allowed",
                    message=f"autonomy level {agent.autonomy_level} takes no external actions",
                )
            )
    return reasons


def _loop_reason(session: Session, agent: AgentRow, run: AgentRunRow, action: NextAction) -> Reason | None:
    recent = session.scalars(
        select(AgentStepRow.fingerprint)
        .where(AgentStepRow.run_id == run.id, AgentStepRow.fingerprint.is_not(None))
        .order_by(AgentStepRow.seq.desc())
        .limit(LOOP_WINDOW)
    ).all()
    calls = [c for c in reversed(recent) if c is not None]
    if action.tool:
        calls.append(fingerprint(action.tool, action.arguments))
    loop = detect_loop(calls, agent.loop_repeats)
    if loop is None:
        return None
    what = "the same tool call" if loop.length == 1 else f"a cycle of {loop.length} tool calls"
    return Reason(code="loop_detected", message=f"{what} repeated {loop.repeats} times in a row")


def _needs_approval(agent: AgentRow, tool: str) -> bool:
    return agent.autonomy_level == AutonomyLevel.APPROVE or tool in agent.approval_tools


def may_continue(
    session: Session,
    agent: AgentRow,
    run: AgentRunRow,
    action: NextAction,
    *,
    actor: str,
    now: datetime | None = None,
) -> CheckResult:
    now = now or datetime.now(UTC)
    if run.status != RunStatus.RUNNING:
        reason = Reason(code="run_not_running", message=f"run {run.id} is {run.status}")
        return CheckResult(allow=False, reasons=[reason], run=run_json(run))
    reasons = _agent_reasons(session, agent, now, Decimal(0))
    reasons += _run_reasons(agent, run, action, now)
    reasons += _tool_reasons(agent, action)
    loop = _loop_reason(session, agent, run, action)
    if loop is not None:
        reasons.append(loop)
    approval_id, opened = None, False
    if not reasons and action.tool and _needs_approval(agent, action.tool):
        status = tool_approval_status(session, run.id, action.tool)
        if status is ApprovalStatus.DENIED:
            reasons.append(
                Reason(code="approval_denied", message=f"a person denied the call to {action.tool!r}")
            )
        elif status is not ApprovalStatus.APPROVED:
            request, opened = request_tool_approval(
                session,
                agent_id=agent.id,
                run_id=run.id,
                tool=action.tool,
                arguments=action.arguments or {},
                requester=f"agent:{agent.id}",
            )
            approval_id = request.id
            reasons.append(
                Reason(
                    code="approval_required", message=f"calling {action.tool!r} needs approval {request.id}"
                )
            )
    if reasons:
        if approval_id is None:
            run.stop_reason = "; ".join(r.code for r in reasons)
            _deny(session, f"agent_run:{run.id}", reasons, actor)
        session.flush()
    return CheckResult(
        allow=not reasons,
        reasons=reasons,
        approval_request_id=approval_id,
        approval_opened=opened,
        run=run_json(run),
    )
