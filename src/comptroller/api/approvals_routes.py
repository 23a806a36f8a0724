"""``/api/v1/approvals``: list and show requests, ask for a budget increase, approve or deny.

Deciding needs the approver role (admin passes every check); the requester can never decide
their own request. An approval that changes a budget republishes the gateway snapshot, so the
new amount holds on every replica before the answer returns.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from comptroller.agents.models import AgentRow
from comptroller.api.auth import Principal, require
from comptroller.api.deps import Ctx
from comptroller.api.notify_routes import notify_later
from comptroller.budgets.model import BudgetScope
from comptroller.budgets.store import BudgetRow, get_budget
from comptroller.errors import ForbiddenError
from comptroller.governance import approvals
from comptroller.governance.approval_models import ApprovalRequestRow
from comptroller.governance.approvals import ApprovalKind, ApprovalStatus
from comptroller.governance.rbac import READ_ROLES, Role
from comptroller.keys.snapshot_builder import publish

router = APIRouter(prefix="/api/v1/approvals", tags=["approvals"])
Approver = Annotated[Principal, require(Role.APPROVER)]
Requester = Annotated[Principal, require(Role.TEAM_OWNER, Role.FINOPS)]
Reader = Annotated[Principal, require(*READ_ROLES)]


class IncreaseRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    budget_id: str = Field(min_length=1, max_length=64)
    new_amount: Decimal = Field(gt=0)
    reason: str = Field(default="", max_length=2000)


class DecisionBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=2000)
    new_amount: Decimal | None = Field(
        default=None,
        gt=0,
        description="Raise the budget to this amount (gateway requests only; increases carry it).",
    )


class DenyBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    note: str | None = Field(default=None, max_length=2000)


def visible(session: Session, principal: Principal, row: ApprovalRequestRow) -> bool:
    """Global readers see every request; a team owner sees those they made and those about
    their teams' budgets and agents."""
    if principal.sees_all_teams or row.requested_by == principal.actor:
        return True
    if row.budget_id is not None:
        budget = session.get(BudgetRow, row.budget_id)
        return (
            budget is not None and budget.scope == BudgetScope.TEAM and budget.scope_value in principal.teams
        )
    if row.agent_id is not None:
        agent = session.get(AgentRow, row.agent_id)
        return agent is not None and agent.team in principal.teams
    return False


@router.get("")
def list_requests(
    ctx: Ctx,
    principal: Reader,
    status: ApprovalStatus | None = None,
    kind: ApprovalKind | None = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    with ctx.state.session() as session, session.begin():
        rows = approvals.list_approvals(session, status=status, kind=kind, limit=limit)
        return [approvals.approval_json(r) for r in rows if visible(session, principal, r)]


@router.get("/{request_id}")
def show_request(ctx: Ctx, principal: Reader, request_id: str) -> dict[str, Any]:
    with ctx.state.session() as session:
        row = approvals.get_approval(session, request_id)
        if not visible(session, principal, row):
            raise ForbiddenError(f"approval request {request_id} is not about your teams")
        return approvals.approval_json(row)


@router.post("", status_code=201)
def request_increase(
    ctx: Ctx, principal: Requester, body: IncreaseRequest, request: Request, background: BackgroundTasks
) -> dict[str, Any]:
    """A team owner may ask only for budgets of their own teams."""
    with ctx.state.session() as session, session.begin():
        budget = get_budget(session, body.budget_id)
        if not principal.sees_all_teams and not (
            budget.scope is BudgetScope.TEAM and budget.scope_value in principal.teams
        ):
            raise ForbiddenError(
                f"budget {budget.id!r} is not a budget of your teams ({', '.join(principal.teams)})"
            )
        row = approvals.request_budget_increase(
            session, body.budget_id, body.new_amount, requester=principal.actor, reason=body.reason
        )
        result = approvals.approval_json(row)
    notify_later(background, request, approvals.request_notification([row]))
    return result


@router.post("/{request_id}/approve")
def approve_request(
    ctx: Ctx, principal: Approver, request_id: str, body: DecisionBody | None = None
) -> dict[str, Any]:
    body = body or DecisionBody()
    with ctx.state.session() as session, session.begin():
        decision = approvals.approve(
            session, request_id, actor=principal.actor, note=body.note, new_amount=body.new_amount
        )
        result = approvals.approval_json(decision.request)
    if decision.changes_gateway:
        result["snapshot_version"] = publish(ctx, refresh_spend=False).version
    return result


@router.post("/{request_id}/deny")
def deny_request(
    ctx: Ctx, principal: Approver, request_id: str, body: DenyBody | None = None
) -> dict[str, Any]:
    body = body or DenyBody()
    with ctx.state.session() as session, session.begin():
        return approvals.approval_json(
            approvals.deny(session, request_id, actor=principal.actor, note=body.note).request
        )
