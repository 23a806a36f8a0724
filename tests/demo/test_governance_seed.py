"""The loaded demo's control plane: registry, budgets, alerts, approvals, keys, agents, inventory.

One demo is loaded for the session (``loaded_demo``); the idempotency check re-runs the seeding
on it, which is what a second ``comptroller demo`` does after its (idempotent) ingest.
"""

from __future__ import annotations

import dataclasses
import json
from decimal import Decimal

from sqlalchemy import func, select

from comptroller.agents.models import AgentRow
from comptroller.budgets.alert_models import BudgetAlertRow
from comptroller.budgets.model import BudgetBehaviour, BudgetScope
from comptroller.budgets.status import budget_statuses
from comptroller.budgets.store import BudgetRow, list_budgets, validate_tree
from comptroller.context import Context
from comptroller.demo import enterprise as org
from comptroller.demo.governance import as_of, seed_governance
from comptroller.demo.governance_data import BUDGETS, KEYS, SHADOW_AGENTS, USE_CASES
from comptroller.gateway.snapshot import Snapshot
from comptroller.governance import audit
from comptroller.governance.approval_models import ApprovalRequestRow
from comptroller.governance.models import AuditEntry, UseCase, UseCaseReview
from comptroller.governance.rbac import Principal, Role
from comptroller.governance.use_case_spend import use_case_spend
from comptroller.inventory.discover import discover
from comptroller.inventory.registered import registered_uses
from comptroller.keys.kill_switches import list_kill_switches
from comptroller.keys.models import RateLimitRow, VirtualKeyRow
from comptroller.keys.snapshot_builder import snapshot_path
from comptroller.keys.virtual_keys import list_keys
from tests.demo.conftest import END


def truth_of(ctx: Context) -> dict:
    return json.loads((ctx.settings.home / "demo" / "truth.json").read_text(encoding="utf-8"))


def test_use_cases_span_the_lifecycle(loaded_demo):
    with loaded_demo.state.session() as session:
        rows = {u.name: u for u in session.scalars(select(UseCase))}
        assert {name: rows[name].status for name in rows} == {p.name: p.status.value for p in USE_CASES}
        invoice = rows["Invoice extraction and payment scheduling"]
        decisions = session.scalars(
            select(UseCaseReview).where(
                UseCaseReview.use_case_id == invoice.id, UseCaseReview.review_round == invoice.review_round
            )
        ).all()
    assert invoice.risk_tier == "critical"
    assert [(d.reviewer, d.decision) for d in decisions] == [("approver", "approve")]  # one of two
    assert all(u.links.get("dimensions") for u in rows.values() if u.status != "retired")
    statuses = {u.status for u in rows.values()}
    assert {"live", "in_review", "proposed", "retired"} <= statuses


def test_expected_costs_sit_near_actual_spend_with_one_far_over(loaded_demo):
    """Expected monthly cost is the last full month's linked spend times the plan's factor, so
    two-thirds into the month most live use cases have used about half of it; code review,
    estimated low and hit by an agent loop this month, is past it."""
    viewer = Principal(user_id=0, username="viewer", roles=frozenset({Role.VIEWER}), teams=frozenset())
    attribution = loaded_demo.attribution()
    with loaded_demo.state.session() as session:
        live = list(session.scalars(select(UseCase).where(UseCase.status == "live")))
    share = {
        row.name: use_case_spend(loaded_demo.ledger, attribution, row, viewer, END)["share_of_expected"]
        for row in live
    }
    assert share.pop("Pull-request code review") > 1
    assert share and all(0.2 < s < 1 for s in share.values()), share


def test_budget_tree_is_valid_with_a_hard_cap_and_an_approval_budget_overspent(loaded_demo):
    with loaded_demo.state.session() as session:
        budgets = [b for b in list_budgets(session) if b.id in {p.id for p in BUDGETS}]
        for budget in budgets:
            validate_tree(session, budget)
    assert {b.scope for b in budgets} >= {
        BudgetScope.PORTFOLIO,
        BudgetScope.FUNCTION,
        BudgetScope.TEAM,
        BudgetScope.AGENT,
        BudgetScope.MODEL,
        BudgetScope.KEY,
    }
    statuses = budget_statuses(
        loaded_demo.ledger, budgets, attribution=loaded_demo.attribution(), at=as_of(END)
    )
    over = {s.budget.id: s.budget.behaviour for s in statuses if s.percent_used >= 100}
    # The hard cap stops finance-ops; the search team's approval budget holds calls for a yes.
    assert over == {"team-finance-ops": BudgetBehaviour.HARD_CAP, "team-search": BudgetBehaviour.APPROVAL}
    teams = {s.budget.id: s.percent_used for s in statuses if s.budget.scope is BudgetScope.TEAM}
    assert sum(50 <= p <= 80 for p in teams.values()) >= 3


def test_the_alert_pass_fired_threshold_alerts(loaded_demo):
    with loaded_demo.state.session() as session:
        fired = {(a.budget_id, a.kind, Decimal(a.threshold)) for a in session.scalars(select(BudgetAlertRow))}
    assert ("team-finance-ops", "threshold", Decimal(1)) in fired
    assert ("team-search", "threshold", Decimal("0.8")) in fired
    assert {budget for budget, _, _ in fired} >= {"ai-portfolio", "team-support-ai", "agent-code-review"}


def test_gateway_blocks_opened_pending_approval_requests(loaded_demo):
    blocks = truth_of(loaded_demo)["gateway_blocks"]
    with loaded_demo.state.session() as session:
        requests = list(
            session.scalars(select(ApprovalRequestRow).where(ApprovalRequestRow.kind == "gateway_budget"))
        )
    assert sorted(r.id for r in requests) == blocks["approval_request_ids"] and blocks["calls"] > 0
    assert {(r.status, r.budget_id, r.requested_by) for r in requests} == {
        ("pending", "team-search", "key:gk_search_prod")
    }


def test_approvals_have_a_pending_increase_and_a_decided_one(loaded_demo):
    with loaded_demo.state.session() as session:
        requests = list(session.scalars(select(ApprovalRequestRow)))
        ml = session.get(BudgetRow, "team-ml-research")
    pending = [(r.kind, r.budget_id, r.requested_by) for r in requests if r.status == "pending"]
    assert ("budget_increase", "team-search", "user:search-owner") in pending
    decided = [r for r in requests if r.status == "approved"]
    assert [(r.budget_id, r.decided_by) for r in decided] == [("team-ml-research", "user:approver")]
    assert Decimal(decided[0].applied_amount) == Decimal(ml.amount)


def test_keys_agents_and_the_published_snapshot(loaded_demo):
    with loaded_demo.state.session() as session:
        keys = list_keys(session)
        limits = list(session.scalars(select(RateLimitRow)))
        agents = {a.id: a for a in session.scalars(select(AgentRow))}
        use_case_ids = {str(i) for i in session.scalars(select(UseCase.id))}
        assert list_kill_switches(session, engaged_only=True) == []
    assert sorted(k.name for k in keys) == sorted(k["name"] for k in KEYS)
    assert all(k.status == "active" and k.attribution.get("team") in org.TEAM_BY_NAME for k in keys)
    key_ids = {k.id for k in keys}
    assert len(limits) == 2 and {limit.scope_value for limit in limits} <= key_ids
    assert set(agents) == set(org.AGENTS) - set(SHADOW_AGENTS)
    assert all(a.use_case_id in use_case_ids and a.max_steps for a in agents.values())
    snapshot = Snapshot.model_validate_json(snapshot_path(loaded_demo.settings).read_bytes())
    assert {k.id for k in snapshot.keys} == key_ids
    assert {b.id for b in snapshot.budgets} >= {p.id for p in BUDGETS}
    assert not snapshot.kill_switches


def test_inventory_finds_exactly_the_planted_shadow_ai(loaded_demo):
    with loaded_demo.state.session() as session:
        uses = registered_uses(session)
    items = discover(loaded_demo.ledger, loaded_demo.attribution(), uses)
    shadow = {(i.kind, i.name) for i in items if i.status == "unregistered"}
    planted = truth_of(loaded_demo)["shadow_ai"]
    expected = {
        (kind, name)
        for name, facts in planted.items()
        for kind in (("vendor", "product") if facts["kind"] == "card_tool" else ("agent",))
    }
    assert shadow == expected
    assert planted["sql-analyst-agent"]["calls"] > 0
    assert planted["sql-analyst-agent"]["teams"] == ["data-platform"]


def test_every_change_is_audited_as_its_demo_user(loaded_demo):
    with loaded_demo.state.session() as session:
        actors = set(session.scalars(select(AuditEntry.actor)))
        assert audit.verify(session).ok
    assert {"user:finops", "user:approver", "user:search-owner", "system:alerts"} <= actors


def _counts(ctx: Context) -> dict[str, int]:
    tables = {
        "use_cases": UseCase,
        "reviews": UseCaseReview,
        "budgets": BudgetRow,
        "alerts": BudgetAlertRow,
        "approvals": ApprovalRequestRow,
        "keys": VirtualKeyRow,
        "rate_limits": RateLimitRow,
        "agents": AgentRow,
        "audit": AuditEntry,
    }
    with ctx.state.session() as session:
        return {name: session.scalar(select(func.count()).select_from(t)) for name, t in tables.items()}


def test_seeding_again_changes_nothing(loaded_demo):
    before = _counts(loaded_demo)
    again = dataclasses.asdict(seed_governance(loaded_demo, end=END))
    assert _counts(loaded_demo) == before
    again.pop("snapshot_version")  # republished, with the same content
    assert set(again.values()) == {0}, again
