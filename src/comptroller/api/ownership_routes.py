"""``POST /api/v1/unowned/assign``: work down the unowned-spend queue.

Assigning a row creates the attribution rule that owns exactly that row's lines (see
``attribution.assign``), audited like any rule change; the response says how much unowned spend
is left, so the queue visibly shrinks.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter
from pydantic import BaseModel, Field

from comptroller.api.auth import Principal, require
from comptroller.api.deps import Ctx
from comptroller.attribution.assign import COLUMN_NAME, assignment_rule
from comptroller.attribution.conditions import compile_condition
from comptroller.governance import audit
from comptroller.governance.rbac import Role
from comptroller.reports.coverage import unowned_spend
from comptroller.state import repository

router = APIRouter(prefix="/api/v1/unowned", tags=["ownership"])


class Assignment(BaseModel):
    match: dict[Annotated[str, Field(pattern=COLUMN_NAME.pattern)], str | None] = Field(
        min_length=1, max_length=10, description="The queue row's group, e.g. {ServiceName, SubAccountName}."
    )
    value: str = Field(min_length=1, max_length=256, description="Who (or which team) owns it.")
    dimension: str = Field(default="owner", pattern="^(owner|team)$")


@router.post("/assign", status_code=201)
def assign(
    ctx: Ctx, body: Assignment, principal: Annotated[Principal, require(Role.FINOPS)]
) -> dict[str, Any]:
    rule = assignment_rule(body.match, value=body.value, dimension=body.dimension)
    compile_condition(rule.condition, ctx.ledger.cost_lines())
    added = repository.add_rule(ctx.state, rule)
    with ctx.state.session() as session, session.begin():
        audit.record(
            session,
            actor=principal.actor,
            action="unowned.assign",
            subject=f"rule:{added.id}",
            detail=added.model_dump(mode="json"),
        )
    remaining = unowned_spend(ctx.ledger, ctx.attribution(), limit=1000)
    return {
        "rule": added.model_dump(mode="json"),
        "unowned_cost": float(sum(r.cost for r in remaining)),
        "unowned_groups": len(remaining),
    }
