"""``/api/v1/budgets``: budget CRUD; every answer carries the period's spend, what remains and the
share used. Bodies are pydantic models, so a bad value is a 422 naming the field; a budget that
would break the tree (unknown parent, cycle, child above parent) is a 400 saying which."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from comptroller.api.auth import Principal, require
from comptroller.api.deps import Ctx
from comptroller.budgets import store
from comptroller.budgets.model import Budget, BudgetBehaviour, BudgetPeriod, BudgetScope, FailMode
from comptroller.budgets.status import budget_statuses, status_of
from comptroller.errors import NotFoundError
from comptroller.governance.rbac import READ_ROLES, Role
from comptroller.keys.snapshot_builder import apply_change

router = APIRouter(prefix="/api/v1/budgets", tags=["budgets"])


Manager = Annotated[Principal, require(Role.FINOPS)]
Reader = Annotated[Principal, require(*READ_ROLES)]


class NewBudget(Budget):
    """A budget to create; the id is generated when not given."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(default_factory=lambda: uuid.uuid4().hex[:12], min_length=1, max_length=64)


class BudgetChanges(BaseModel):
    """A partial update: fields left out keep their values; ``parent_id: null`` makes it a root."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    scope: BudgetScope | None = None
    scope_value: str | None = None
    period: BudgetPeriod | None = None
    amount: Decimal | None = Field(
        default=None, gt=0, le=Decimal("1e12"), decimal_places=6, allow_inf_nan=False
    )
    currency: str | None = None
    behaviour: BudgetBehaviour | None = None
    fail_mode: FailMode | None = None
    thresholds: tuple[Decimal, ...] | None = None
    parent_id: str | None = None
    starts_on: date | None = None
    enabled: bool | None = None


def _statuses(ctx: Ctx, budgets: list[Budget]) -> list[dict[str, Any]]:
    return [s.as_json() for s in budget_statuses(ctx.ledger, budgets, attribution=ctx.attribution())]


def _save(ctx: Ctx, budget: Budget, actor: str) -> dict[str, Any]:
    """The spend in the answer is the one the published snapshot carries: measured once."""
    applied = apply_change(ctx, lambda s: store.save_budget(s, budget, actor=actor), remeasure={budget.id})
    saved, published = applied.result, applied.published
    status = status_of(saved, published.budget_spent.get(saved.id, Decimal(0)), datetime.now(UTC))
    return {**status.as_json(), "snapshot_version": published.version}


def visible(principal: Principal, budget: Budget) -> bool:
    """Global readers see every budget; a team owner sees the budgets of their own teams."""
    if principal.sees_all_teams:
        return True
    return budget.scope is BudgetScope.TEAM and principal.can_access_team(budget.scope_value)


@router.get("")
def list_budgets(ctx: Ctx, principal: Reader) -> list[dict[str, Any]]:
    with ctx.state.session() as session:
        budgets = [b for b in store.list_budgets(session) if visible(principal, b)]
    return _statuses(ctx, budgets)


@router.post("", status_code=201)
def create_budget(ctx: Ctx, principal: Manager, budget: NewBudget) -> dict[str, Any]:
    with ctx.state.session() as session:
        if session.get(store.BudgetRow, budget.id) is not None:
            raise RequestValidationError(
                [
                    {
                        "type": "value_error",
                        "loc": ("body", "id"),
                        "msg": f"a budget with id {budget.id!r} exists",
                    }
                ]
            )
    return _save(ctx, Budget(**budget.model_dump()), principal.actor)


@router.get("/{budget_id}")
def get_budget(ctx: Ctx, principal: Reader, budget_id: str) -> dict[str, Any]:
    with ctx.state.session() as session:
        budget = store.get_budget(session, budget_id)
        if not visible(principal, budget):
            raise NotFoundError(f"no budget with id {budget_id!r}; `comptroller budgets list` shows them")
        kids = [k for k in store.children(session, budget_id) if visible(principal, k)]
    head, *rest = _statuses(ctx, [budget, *kids])
    return {**head, "children": rest}


@router.put("/{budget_id}")
def replace_budget(ctx: Ctx, principal: Manager, budget_id: str, budget: NewBudget) -> dict[str, Any]:
    """Replace every field (the id in the path wins over one in the body)."""
    with ctx.state.session() as session:
        store.get_budget(session, budget_id)
    return _save(ctx, _valid(budget.model_dump() | {"id": budget_id}), principal.actor)


@router.patch("/{budget_id}")
def change_budget(ctx: Ctx, principal: Manager, budget_id: str, changes: BudgetChanges) -> dict[str, Any]:
    with ctx.state.session() as session:
        current = store.get_budget(session, budget_id)
    merged = current.model_dump() | changes.model_dump(exclude_unset=True)
    if changes.scope is BudgetScope.PORTFOLIO and "scope_value" not in changes.model_fields_set:
        merged["scope_value"] = None
    return _save(ctx, _valid(merged), principal.actor)


@router.delete("/{budget_id}", status_code=204)
def delete_budget(ctx: Ctx, principal: Manager, budget_id: str) -> None:
    apply_change(ctx, lambda s: store.delete_budget(s, budget_id, actor=principal.actor))


def _valid(fields: dict[str, Any]) -> Budget:
    """Merged fields are checked by the model again; its errors become a 422 like a bad body."""
    try:
        return Budget(**fields)
    except ValidationError as exc:
        raise RequestValidationError(
            [{**e, "loc": ("body", *e["loc"])} for e in exc.errors(include_url=False, include_context=False)]
        ) from exc
