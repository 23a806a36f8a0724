"""``/api/v1/agents``: the agent registry and the run API for agents not behind the gateway.

An agent's runtime holds a token of a user with the team_owner role for the agent's team (or
finops): it starts a run, reports each step, asks ``/check`` before the next one, and ends the
run. Model steps reach the ledger as usage events of source ``agents`` right after each report.
"""

from __future__ import annotations

import logging
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query, Request
from fastapi.responses import JSONResponse
from sqlalchemy.exc import IntegrityError

from comptroller.agents import checks, registry, runs
from comptroller.agents.ledger_feed import FEED_BATCH, feed_steps, unfed_steps
from comptroller.agents.models import AgentRow
from comptroller.agents.rollback import call_rollback_webhook, rollback_run
from comptroller.agents.specs import AgentSpec, NextAction, RunEnd, RunStart, StepReport
from comptroller.api.auth import Principal, require
from comptroller.api.deps import Ctx
from comptroller.api.notify_routes import notify_later
from comptroller.config import Settings
from comptroller.context import Context
from comptroller.errors import AgentRunError, ComptrollerError, ForbiddenError
from comptroller.governance.approvals import get_approval, request_notification
from comptroller.governance.rbac import READ_ROLES, Role

log = logging.getLogger(__name__)
router = APIRouter(prefix="/api/v1/agents", tags=["agents"])
Operator = Annotated[Principal, require(Role.TEAM_OWNER, Role.FINOPS)]
Reader = Annotated[Principal, require(*READ_ROLES)]


def _own(principal: Principal, agent: AgentRow) -> AgentRow:
    """Team owners reach only their teams' agents; global roles reach all."""
    if not principal.sees_all_teams and agent.team not in principal.teams:
        raise ForbiddenError(f"agent {agent.id!r} belongs to team {agent.team!r}, not to one of yours")
    return agent


def _feed_now(settings: Settings, run_id: str) -> None:
    """After the response: a busy or unreachable ledger leaves the steps for the next feed."""
    with Context(settings) as ctx:
        try:
            feed_steps(ctx.state, ctx.ledger, ctx.pricer(), run_id=run_id)
        except ComptrollerError as exc:
            log.warning("agent run %s: ledger feed postponed: %s", run_id, exc.message)


def feed_later(background: BackgroundTasks, request: Request, run_id: str) -> None:
    background.add_task(_feed_now, request.app.state.settings, run_id)


@router.get("")
def list_agents(ctx: Ctx, principal: Reader, team: str | None = None) -> list[dict[str, Any]]:
    with ctx.state.session() as session:
        rows = registry.list_agents(session, team=team)
        return [registry.agent_json(r) for r in rows if principal.can_access_team(r.team)]


@router.post("", status_code=201)
def register_agent(ctx: Ctx, principal: Operator, spec: AgentSpec) -> JSONResponse:
    """Register, or replace an agent with the same id (200 then)."""
    if not principal.sees_all_teams and spec.team not in principal.teams:
        raise ForbiddenError(
            f"team: register agents for your own teams ({', '.join(sorted(principal.teams))})"
        )
    with ctx.state.session() as session, session.begin():
        existing = session.get(AgentRow, spec.id)
        if existing is not None:
            _own(principal, existing)
        row, created = registry.save_agent(session, spec, actor=principal.actor)
        return JSONResponse(registry.agent_json(row), status_code=201 if created else 200)


@router.get("/{agent_id}")
def show_agent(ctx: Ctx, principal: Reader, agent_id: str) -> dict[str, Any]:
    with ctx.state.session() as session:
        return registry.agent_json(_own(principal, registry.get_agent(session, agent_id)))


@router.post("/{agent_id}/runs", status_code=201)
def start_run(ctx: Ctx, principal: Operator, agent_id: str, body: RunStart | None = None) -> JSONResponse:
    """201 with the run, or 409 with the reasons it may not start."""
    with ctx.state.session() as session, session.begin():
        agent = _own(principal, registry.get_agent(session, agent_id))
        run, result = checks.start_run(
            session, agent, actor=principal.actor, detail=(body or RunStart()).detail
        )
    if run is None:
        return JSONResponse(result.model_dump(mode="json"), status_code=409)
    return JSONResponse(runs.run_json(run), status_code=201)


@router.get("/{agent_id}/runs")
def list_runs(
    ctx: Ctx,
    principal: Reader,
    agent_id: str,
    status: str | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> list[dict[str, Any]]:
    with ctx.state.session() as session:
        _own(principal, registry.get_agent(session, agent_id))
        return [
            runs.run_json(r) for r in runs.list_runs(session, agent_id=agent_id, status=status, limit=limit)
        ]


@router.get("/{agent_id}/runs/{run_id}")
def show_run(ctx: Ctx, principal: Reader, agent_id: str, run_id: str) -> dict[str, Any]:
    with ctx.state.session() as session:
        _own(principal, registry.get_agent(session, agent_id))
        run = runs.get_run(session, run_id, agent_id)
        return {
            **runs.run_json(run),
            "step_log": [runs.step_json(s) for s in runs.run_steps(session, run_id)],
        }


@router.post("/{agent_id}/runs/{run_id}/steps", status_code=201)
def report_step(
    ctx: Ctx,
    principal: Operator,
    agent_id: str,
    run_id: str,
    step: StepReport,
    request: Request,
    background: BackgroundTasks,
) -> dict[str, Any]:
    try:
        with ctx.state.session() as session, session.begin():
            _own(principal, registry.get_agent(session, agent_id))
            run = runs.running(session, run_id, agent_id)
            row = runs.record_step(session, run, step, ctx.pricer())
            result = {"step": runs.step_json(row), "run": runs.run_json(run)}
    except IntegrityError:  # SQLite has no row lock: two reports raced for one step number
        raise AgentRunError(f"run {run_id}: another step was reported at the same moment; retry it") from None
    if row.ledger_event_id is not None and unfed_steps(ctx.state, run_id) >= FEED_BATCH:
        feed_later(background, request, run_id)
    return result


@router.post("/{agent_id}/runs/{run_id}/check")
def check_run(
    ctx: Ctx,
    principal: Operator,
    agent_id: str,
    run_id: str,
    request: Request,
    background: BackgroundTasks,
    action: NextAction | None = None,
) -> dict[str, Any]:
    """May the run continue (with ``action`` next)? Always 200: ``allow`` and the reasons."""
    with ctx.state.session() as session, session.begin():
        agent = _own(principal, registry.get_agent(session, agent_id))
        run = runs.get_run(session, run_id, agent_id)
        result = checks.may_continue(session, agent, run, action or NextAction(), actor=principal.actor)
        opened = get_approval(session, result.approval_request_id) if result.approval_opened else None
    if opened is not None:
        notify_later(background, request, request_notification([opened]))
    return result.model_dump(mode="json")


@router.post("/{agent_id}/runs/{run_id}/end")
def end_run(
    ctx: Ctx,
    principal: Operator,
    agent_id: str,
    run_id: str,
    request: Request,
    background: BackgroundTasks,
    body: RunEnd | None = None,
) -> dict[str, Any]:
    with ctx.state.session() as session, session.begin():
        _own(principal, registry.get_agent(session, agent_id))
        run = runs.running(session, run_id, agent_id)
        ended = runs.end_run(session, run, outcome=(body or RunEnd()).outcome, actor=principal.actor)
        result = runs.run_json(ended)
    feed_later(background, request, run_id)
    return result


@router.post("/{agent_id}/runs/{run_id}/rollback")
def rollback(
    ctx: Ctx, principal: Operator, agent_id: str, run_id: str, request: Request, background: BackgroundTasks
) -> dict[str, Any]:
    """The run's compensations, newest first, each handed out once; the agent's rollback webhook
    (if registered) receives the same list."""
    with ctx.state.session() as session, session.begin():
        agent = _own(principal, registry.get_agent(session, agent_id))
        run = runs.get_run(session, run_id, agent_id)
        result = rollback_run(session, run, actor=principal.actor)
        webhook = agent.rollback_webhook
    answer: dict[str, Any] = {**result.as_json(), "webhook": None}
    if webhook and result.compensations:
        attempts, error = call_rollback_webhook(webhook, result)
        answer["webhook"] = {"delivered": error is None, "attempts": attempts, "error": error}
    feed_later(background, request, run_id)
    return answer
