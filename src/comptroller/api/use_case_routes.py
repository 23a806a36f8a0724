"""``/api/v1/use-cases``: the intake registry, its review workflow and actual-vs-expected spend."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy.orm import Session

from comptroller.api.auth import Principal, StateSession, require
from comptroller.context import Context
from comptroller.governance import lifecycle, registry
from comptroller.governance.fields import LongText
from comptroller.governance.models import UseCase
from comptroller.governance.rbac import READ_ROLES, Role
from comptroller.governance.registry import UseCasePatch, UseCaseSpec, UseCaseStatus
from comptroller.governance.review import POLICIES
from comptroller.governance.risk import RULES, RiskTier
from comptroller.governance.use_case_spend import month_to_date_actuals, use_case_spend

router = APIRouter(prefix="/api/v1", tags=["use cases"])
Reader = Annotated[Principal, require(*READ_ROLES)]
Writer = Annotated[Principal, require(Role.FINOPS, Role.TEAM_OWNER)]
Reviewer = Annotated[Principal, require(Role.APPROVER, Role.FINOPS)]
UseCaseId = Annotated[int, Path(ge=1, le=2**31 - 1)]


class Decision(BaseModel):
    model_config = ConfigDict(extra="forbid")
    comment: LongText = ""


class Transition(BaseModel):
    model_config = ConfigDict(extra="forbid")
    to: UseCaseStatus = Field(description="proposed (withdraw from review), live or retired")


def _json(session: Session, row: UseCase) -> dict[str, Any]:
    return registry.use_case_json(row, registry.reviews_of(session, row))


@router.get("/use-cases")
def list_use_cases(
    principal: Reader,
    session: StateSession,
    status: UseCaseStatus | None = None,
    tier: RiskTier | None = None,
    team: Annotated[str | None, Query(max_length=128, pattern=r"^[^\x00]*$")] = None,
) -> list[dict[str, Any]]:
    """Use cases the caller may see (a team owner: their teams'), oldest first."""
    rows = registry.list_use_cases(session, principal, status=status, tier=tier, team=team)
    return [_json(session, r) for r in rows]


@router.post("/use-cases", status_code=201)
def create_use_case(spec: UseCaseSpec, principal: Writer, session: StateSession) -> dict[str, Any]:
    """Register a use case (status proposed); its risk tier is computed from the intake fields."""
    with session.begin():
        return _json(session, registry.create_use_case(session, spec, principal))


@router.get("/use-cases/actuals")
def use_case_actuals(request: Request, principal: Reader, session: StateSession) -> list[dict[str, Any]]:
    """Month-to-date actual spend of every use case the caller may see, in one ledger query."""
    rows = registry.list_use_cases(session, principal)
    today = date.today()
    with Context(request.app.state.settings) as ctx:
        actuals = month_to_date_actuals(ctx.ledger, ctx.attribution(), rows, principal, today)
    return [
        {"id": use_case_id, "actual_month_to_date": actual, "through": today.isoformat()}
        for use_case_id, actual in actuals.items()
    ]


@router.get("/use-cases/{use_case_id}")
def get_use_case(
    use_case_id: UseCaseId,
    request: Request,
    principal: Reader,
    session: StateSession,
    spend: Annotated[bool, Query(description="Include month-to-date actual spend.")] = True,
) -> dict[str, Any]:
    row = registry.get_use_case(session, use_case_id, principal)
    body = _json(session, row)
    if spend:
        with Context(request.app.state.settings) as ctx:
            body["spend"] = use_case_spend(ctx.ledger, ctx.attribution(), row, principal, date.today())
    return body


@router.patch("/use-cases/{use_case_id}")
def update_use_case(
    use_case_id: UseCaseId, patch: UseCasePatch, principal: Writer, session: StateSession
) -> dict[str, Any]:
    """Edit intake fields while proposed or rejected (the tier is recomputed); links any time."""
    with session.begin():
        return _json(session, registry.update_use_case(session, use_case_id, patch, principal))


@router.post("/use-cases/{use_case_id}/submit")
def submit_use_case(use_case_id: UseCaseId, principal: Writer, session: StateSession) -> dict[str, Any]:
    """Send for review; low risk is approved at once, higher tiers wait for their approvers."""
    with session.begin():
        return _json(session, lifecycle.submit(session, use_case_id, principal))


@router.post("/use-cases/{use_case_id}/approve")
def approve_use_case(
    use_case_id: UseCaseId, decision: Decision, principal: Reviewer, session: StateSession
) -> dict[str, Any]:
    with session.begin():
        row = lifecycle.review(session, use_case_id, principal, approve=True, comment=decision.comment)
        return _json(session, row)


@router.post("/use-cases/{use_case_id}/reject")
def reject_use_case(
    use_case_id: UseCaseId, decision: Decision, principal: Reviewer, session: StateSession
) -> dict[str, Any]:
    with session.begin():
        row = lifecycle.review(session, use_case_id, principal, approve=False, comment=decision.comment)
        return _json(session, row)


@router.post("/use-cases/{use_case_id}/transition")
def transition_use_case(
    use_case_id: UseCaseId, body: Transition, principal: Writer, session: StateSession
) -> dict[str, Any]:
    with session.begin():
        return _json(session, lifecycle.transition(session, use_case_id, body.to, principal))


@router.get("/risk-rules", dependencies=[require(*READ_ROLES)])
def risk_rules() -> dict[str, Any]:
    """The documented rules that compute a use case's tier, and the review each tier needs."""
    return {
        "rules": [{"rule": r.id, "tier": r.tier.value, "description": r.description} for r in RULES],
        "reviews": [p.as_json() for p in POLICIES.values()],
    }
