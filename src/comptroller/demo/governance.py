"""Northwind Labs' control plane: use cases, agents, keys, budgets and approvals for the demo.

The ledger alone leaves every governance page empty. This module gives the demo the state a
company that has governed its AI for a while would have, made through the same functions the
API and CLI call, as the demo users (``governance.demo_users``), so the audit log says who did
what. What it registers follows what the ledger really holds; what it leaves out is the planted
shadow AI (``SHADOW_AGENTS`` and the card-paid tools in ``expenses``), which ``truth`` names.

Budget amounts and expected use-case costs are worked out from the loaded ledger, so the
console shows the same picture at any ``--scale`` or end date: teams at 50-80% of their month,
finance-ops past its hard cap, search past its approval budget (the gateway held calls for a
yes and the team asked for more), and one use case far over its estimate. Seeding is idempotent: every item is looked up by
its natural key (use-case name, budget id, key name, agent id, approval subject) and only what
is missing is made, so a second run adds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from comptroller.agents.models import AgentRow
from comptroller.agents.registry import save_agent
from comptroller.agents.specs import AgentSpec
from comptroller.budgets.model import Budget
from comptroller.budgets.scheduled import run_checks
from comptroller.budgets.spend import budget_spend
from comptroller.budgets.store import BudgetRow, save_budget
from comptroller.context import Context
from comptroller.demo.governance_data import (
    AGENTS,
    BUDGETS,
    INCREASED,
    KEYS,
    PENDING_INCREASE,
    PENDING_TTL,
    RATE_LIMITS,
    USE_CASES,
    DemoUseCase,
)
from comptroller.governance import lifecycle
from comptroller.governance.approval_models import ApprovalRequestRow
from comptroller.governance.approvals import ApprovalKind, approve, request_budget_increase
from comptroller.governance.demo_users import ensure_demo_users
from comptroller.governance.models import UseCase
from comptroller.governance.registry import UseCaseSpec, UseCaseStatus, create_use_case
from comptroller.governance.users import principal_of
from comptroller.keys.rate_limits import create_rate_limit, list_rate_limits
from comptroller.keys.snapshot_builder import publish
from comptroller.keys.specs import KeySpec, RateLimitScope, RateLimitSpec
from comptroller.keys.virtual_keys import create_key, list_keys
from comptroller.reports.spend import SpendQuery, spend

# --- Use cases ------------------------------------------------------------------------------------


def _nice(value: Decimal, *, floor: Decimal = Decimal("0.01")) -> Decimal:
    """Three significant figures, as people write budgets and estimates; at least ``floor``."""
    if value <= floor:
        return floor
    step = Decimal(10) ** (value.adjusted() - 2)
    return (value / step).quantize(Decimal(1), rounding=ROUND_HALF_UP) * step


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _monthly_rows(ctx: Context, plans: list[DemoUseCase], end: date) -> tuple[list[dict[str, Any]], Decimal]:
    """Spend of the last full month before ``end``'s by every dimension the plans link, in one
    query, with the factor that makes it a month (1; or, with no such month in the ledger, the
    month so far and the factor projecting it to the whole month)."""
    by = tuple(sorted({name for plan in plans for name in plan.dimensions}))
    this_month = _month_start(end)
    last_day = this_month - timedelta(days=1)
    attribution = ctx.attribution()
    rows = spend(ctx.ledger, attribution, SpendQuery(by=by, start=_month_start(last_day), end=last_day)).rows
    if rows:
        return rows, Decimal(1)
    days = (_month_start(this_month + timedelta(days=31)) - this_month).days
    rows = spend(ctx.ledger, attribution, SpendQuery(by=by, start=this_month, end=end)).rows
    return rows, Decimal(days) / end.day


def _expected_cost(plan: DemoUseCase, rows: list[dict[str, Any]], factor: Decimal) -> Decimal:
    if plan.fixed_cost is not None:
        return plan.fixed_cost
    wanted = plan.dimensions.items()
    basis = sum((r["cost"] for r in rows if all(r[k] == v for k, v in wanted)), Decimal(0)) * factor
    return _nice(basis * plan.cost_factor).quantize(Decimal("0.01"))


def _advance(session: Session, row: UseCase, plan: DemoUseCase) -> None:
    """Take a proposed use case through submission, review and go-live as far as ``plan`` says."""
    if plan.status is UseCaseStatus.PROPOSED:
        return
    owner = principal_of(session, plan.proposer)
    lifecycle.submit(session, row.id, owner)
    for reviewer in plan.reviewers:  # a low-risk use case was approved on submission
        if row.status == UseCaseStatus.IN_REVIEW:
            lifecycle.review(
                session, row.id, principal_of(session, reviewer), approve=True, comment="looks good"
            )
    if plan.status is UseCaseStatus.IN_REVIEW:
        return
    lifecycle.transition(session, row.id, UseCaseStatus.LIVE, owner)
    if plan.status is UseCaseStatus.RETIRED:
        lifecycle.transition(session, row.id, UseCaseStatus.RETIRED, owner)


def seed_use_cases(ctx: Context, end: date) -> tuple[dict[str, int], int]:
    """Use case name -> id of every use case, creating the demo's missing ones; and how many."""
    with ctx.state.session() as session:
        ids = dict(session.execute(select(UseCase.name, UseCase.id)).tuples().all())
    missing = [plan for plan in USE_CASES if plan.name not in ids]
    rows, factor = _monthly_rows(ctx, missing, end) if missing else ([], Decimal(1))
    for plan in missing:
        cost = _expected_cost(plan, rows, factor)
        spec = UseCaseSpec.model_validate({**plan.fields, "expected_monthly_cost": cost})
        with ctx.state.session() as session, session.begin():
            row = create_use_case(session, spec, principal_of(session, plan.proposer))
            _advance(session, row, plan)
            ids[row.name] = row.id
    return ids, len(missing)


# --- Agents and keys ------------------------------------------------------------------------------


def seed_agents(session: Session, use_cases: dict[str, int], actor: str) -> int:
    """Register the demo's sanctioned agents that are missing, each linked to its use case."""
    made = 0
    for use_case, fields in AGENTS:
        if session.get(AgentRow, fields["id"]) is None:
            spec = AgentSpec.model_validate({**fields, "use_case_id": str(use_cases[use_case])})
            save_agent(session, spec, actor=actor)
            made += 1
    return made


def seed_keys(session: Session, actor: str) -> int:
    """Create missing keys (their secrets are dropped: these exist to be listed and limited)."""
    by_name = {k.name: k.id for k in list_keys(session)}
    made = 0
    for fields in KEYS:
        if fields["name"] not in by_name:
            by_name[fields["name"]] = create_key(session, KeySpec.model_validate(fields), actor=actor).key.id
            made += 1
    limited = {(r.scope, r.scope_value) for r in list_rate_limits(session)}
    for name, limits in RATE_LIMITS.items():
        if (RateLimitScope.KEY, by_name[name]) not in limited:
            spec = RateLimitSpec(scope=RateLimitScope.KEY, scope_value=by_name[name], **limits)
            create_rate_limit(session, spec, actor=actor)
    return made


# --- Budgets --------------------------------------------------------------------------------------


def _planned(spent: dict[str, Decimal]) -> dict[str, Budget]:
    """The budgets with amounts from this period's spend, parents raised over their children."""
    amounts = {b.id: _nice(spent.get(b.id, Decimal(0)) / b.used) for b in BUDGETS}
    for plan in reversed(BUDGETS):  # children follow their parents
        if plan.parent is not None:
            amounts[plan.parent] = max(amounts[plan.parent], amounts[plan.id])
    return {
        b.id: Budget(
            id=b.id,
            name=b.name,
            scope=b.scope,
            scope_value=b.value,
            amount=amounts[b.id],
            behaviour=b.behaviour,
            parent_id=b.parent,
        )
        for b in BUDGETS
    }


def seed_budgets(ctx: Context, at: datetime) -> tuple[int, int]:
    """Create the missing budgets; (budgets made, approval requests made on the way)."""
    with ctx.state.session() as session:
        existing = set(session.scalars(select(BudgetRow.id)))
    missing = [b for b in BUDGETS if b.id not in existing]
    if not missing:
        return 0, 0
    # Every planned budget is measured, so a missing child is sized against its parent's plan.
    probes = [
        Budget(id=b.id, name=b.name, scope=b.scope, scope_value=b.value, amount=Decimal(1)) for b in BUDGETS
    ]
    budgets = _planned(budget_spend(ctx.ledger, probes, at, attribution=ctx.attribution()))
    with ctx.state.session() as session, session.begin():
        for plan in missing:
            budget = budgets[plan.id]
            if plan.id != INCREASED[0]:
                save_budget(session, budget, actor="user:finops")
            else:
                _raised_by_request(session, budget)
    return len(missing), int(INCREASED[0] in {b.id for b in missing})


def _requests(session: Session, budget_id: str) -> list[ApprovalRequestRow]:
    query = select(ApprovalRequestRow).where(
        ApprovalRequestRow.budget_id == budget_id,
        ApprovalRequestRow.kind == ApprovalKind.BUDGET_INCREASE.value,
    )
    return list(session.scalars(query))


def _raised_by_request(session: Session, budget: Budget) -> None:
    """Save ``budget`` below its amount, then raise it there through an approved request: the
    approval history shows a decided increase."""
    _, factor, requester, decider = INCREASED
    save_budget(
        session, budget.model_copy(update={"amount": _nice(budget.amount / factor)}), actor="user:finops"
    )
    asked = request_budget_increase(
        session,
        budget.id,
        budget.amount,
        requester=f"user:{requester}",
        reason="second fine-tuning run of northwind-llama-ft-v3 this month",
    )
    approve(session, asked.id, actor=f"user:{decider}", note="approved: the run is on the research roadmap")


def seed_approvals(session: Session) -> int:
    """The search team's request for more budget, waiting for a decision; 1 when made now."""
    budget_id, factor, requester = PENDING_INCREASE
    row = session.get(BudgetRow, budget_id)
    if row is None or _requests(session, budget_id):
        return 0
    request_budget_increase(
        session,
        budget_id,
        _nice(Decimal(row.amount) * factor),
        requester=f"user:{requester}",
        reason="query volume after the search relaunch; the gateway is holding requests for approval",
        ttl=PENDING_TTL,
    )
    return 1


# --- Orchestration --------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class GovernanceSeed:
    """What one seeding run made; all zeros when the state was complete already."""

    use_cases: int
    agents: int
    keys: int
    budgets: int
    approvals: int
    alerts_fired: int
    snapshot_version: int

    def summary(self) -> str:
        return (
            f"governance: {self.use_cases} use cases, {self.agents} agents, {self.keys} keys, "
            f"{self.budgets} budgets, {self.approvals} approval requests, {self.alerts_fired} alerts fired; "
            f"gateway snapshot v{self.snapshot_version}"
        )


def as_of(end: date, now: datetime | None = None) -> datetime:
    """The demo's present: now, or the end of its last day when that day is in the past."""
    now = now or datetime.now(UTC)
    return min(now, datetime.combine(end, time(23, 59, 59), UTC))


def seed_governance(ctx: Context, *, end: date) -> GovernanceSeed:
    """Bring the demo's control plane to its intended state; safe to run again."""
    at = as_of(end)
    with ctx.state.session() as session, session.begin():
        ensure_demo_users(session)
    use_cases, made = seed_use_cases(ctx, end)
    with ctx.state.session() as session, session.begin():
        agents = seed_agents(session, use_cases, "user:finops")
        keys = seed_keys(session, "user:finops")
    budgets, raised = seed_budgets(ctx, at)
    with ctx.state.session() as session, session.begin():
        pending = seed_approvals(session)
    # The scheduled pass fires the alerts due and opens requests for gateway blocks; no
    # notification channel is configured, so nothing is sent.
    checks = run_checks(ctx.state, ctx.ledger, ctx.pricer(), at, send=False)
    published = publish(ctx)
    return GovernanceSeed(
        use_cases=made,
        agents=agents,
        keys=keys,
        budgets=budgets,
        approvals=raised + pending + len(checks.approvals_opened),
        alerts_fired=len(checks.alerts.fired),
        snapshot_version=published.version,
    )
