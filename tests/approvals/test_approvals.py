"""Approval requests on SQLite and PostgreSQL state: budget increases, gateway blocks drained
into the ledger, TTL expiry, who may decide, and the audit trail of every decision."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pyarrow as pa
import pytest

from comptroller.budgets.model import Budget
from comptroller.budgets.store import get_budget, save_budget
from comptroller.errors import ApprovalError, ForbiddenError
from comptroller.governance import approvals
from comptroller.governance.audit import list_entries
from comptroller.ingest.usage_events import ingest_usage_events
from comptroller.ledger.store import open_ledger
from comptroller.notify.delivery import notify
from comptroller.notify.store import ChannelSpec, create_channel
from comptroller.pricing import Pricer
from tests.notify.receivers import WebhookReceiver


def add_budget(state, budget_id, scope, value, amount, behaviour="approval"):
    budget = Budget(
        id=budget_id,
        name=budget_id,
        scope=scope,
        scope_value=value,
        amount=Decimal(amount),
        behaviour=behaviour,
    )
    with state.session() as session, session.begin():
        return save_budget(session, budget, actor="user:finops")


def increase(state, budget_id="search", amount=150, requester="user:owner"):
    with state.session() as session, session.begin():
        return approvals.request_budget_increase(
            session, budget_id, Decimal(amount), requester=requester, reason="launch week"
        )


def test_an_approved_increase_saves_the_budget_and_audits_both_steps(state):
    add_budget(state, "search", "team", "search", 100)
    request = increase(state)
    assert request.status == "pending" and request.expires_at > request.created_at
    with state.session() as session, session.begin():
        decision = approvals.approve(session, request.id, actor="user:approver", note="ok for launch")
    assert decision.budget is not None and decision.budget.amount == Decimal(150)
    with state.session() as session:
        assert get_budget(session, "search").amount == Decimal(150)
        row = approvals.get_approval(session, request.id)
        assert (row.status, row.decided_by, row.decision_note) == (
            "approved",
            "user:approver",
            "ok for launch",
        )
        assert row.applied_amount == Decimal(150)
        actions = [e.action for e in list_entries(session, subject=f"approval:{request.id}")]
        assert actions == ["approval.approve", "approval.request"]
        assert [e.actor for e in list_entries(session, action="budget.update")] == ["user:approver"]


def test_an_increase_must_raise_the_amount(state):
    add_budget(state, "search", "team", "search", 100)
    with pytest.raises(ApprovalError, match="new_amount: 90 is not above"):
        increase(state, amount=90)


def test_the_requester_cannot_decide_and_a_decision_is_final(state):
    add_budget(state, "search", "team", "search", 100)
    request = increase(state)
    with pytest.raises(ForbiddenError, match="someone else must decide"), state.session() as s, s.begin():
        approvals.approve(s, request.id, actor="user:owner")
    with state.session() as session, session.begin():
        approvals.deny(session, request.id, actor="user:approver", note="not this month")
    with pytest.raises(ApprovalError, match="is denied, not pending"), state.session() as s, s.begin():
        approvals.approve(s, request.id, actor="user:approver")
    with state.session() as session:
        assert get_budget(session, "search").amount == Decimal(100)


def test_requests_expire_after_their_ttl(state):
    add_budget(state, "search", "team", "search", 100)
    with state.session() as session, session.begin():
        request = approvals.request_budget_increase(
            session, "search", Decimal(120), requester="user:owner", ttl=timedelta(seconds=-1)
        )
    with state.session() as session, session.begin():
        assert approvals.list_approvals(session, status="pending") == []
    with pytest.raises(ApprovalError, match="is expired"), state.session() as s, s.begin():
        approvals.approve(s, request.id, actor="user:approver")
    with state.session() as session:
        assert approvals.get_approval(session, request.id).status == "expired"
        assert [e.actor for e in list_entries(session, action="approval.expire")] == ["system:ttl"]


@pytest.fixture
def blocked_ledger(tmp_path):
    """Three drained gateway events: two blocked on approval (one recent, one a week old), one ok."""
    ledger = open_ledger(f"duckdb:///{tmp_path / 'ledger.duckdb'}")
    now = datetime.now(UTC).replace(tzinfo=None)
    base = {
        "source": "gateway",
        "provider": "openai",
        "model": "gpt-4o",
        "api_key_id": "k1",
        "team": "search",
    }
    events = [
        {**base, "event_id": "r1", "timestamp": now - timedelta(minutes=5), "status": "blocked_approval",
         "approval_request_id": "apr_recent", "block_reason": "budget 'search' (team) needs approval: 0.10 USD left"},
        {**base, "event_id": "r2", "timestamp": now - timedelta(days=7), "status": "blocked_approval",
         "approval_request_id": "apr_old", "block_reason": "budget 'search' (team) needs approval"},
        {**base, "event_id": "r3", "timestamp": now, "status": "ok", "uncached_input_tokens": 10},
    ]  # fmt: skip
    ingest_usage_events(ledger, pa.Table.from_pylist(events), Pricer())
    yield ledger
    ledger.close()


def test_blocked_gateway_events_open_one_request_per_id(state, blocked_ledger):
    add_budget(state, "search", "team", "search", 100)
    add_budget(state, "growth", "team", "growth", 100)
    with state.session() as session, session.begin():
        opened = approvals.open_gateway_approvals(session, blocked_ledger)
    with state.session() as session, session.begin():
        again = approvals.open_gateway_approvals(session, blocked_ledger)
    assert again == []
    by_id = {r.id: r for r in opened}
    assert set(by_id) == {"apr_recent", "apr_old"}
    recent = by_id["apr_recent"]
    assert (recent.kind, recent.status, recent.budget_id) == ("gateway_budget", "pending", "search")
    assert recent.requested_by == "key:k1"
    assert recent.detail["attribution"] == {
        "team": "search",
        "key": "k1",
        "model": "gpt-4o",
        "vendor": "openai",
    }
    assert by_id["apr_old"].status == "expired"


def test_approving_a_gateway_request_grants_a_one_off_or_raises_the_budget(state, blocked_ledger):
    add_budget(state, "search", "team", "search", 100)
    with state.session() as session, session.begin():
        approvals.open_gateway_approvals(session, blocked_ledger)
        one_off = approvals.approve(session, "apr_recent", actor="user:approver")
    assert one_off.budget is None and one_off.request.status == "approved"
    with pytest.raises(ApprovalError, match="is expired"), state.session() as s, s.begin():
        approvals.approve(s, "apr_old", actor="user:approver", new_amount=Decimal(200))
    with state.session() as session, session.begin():
        session.get(approvals.ApprovalRequestRow, "apr_old").expires_at = datetime(2100, 1, 1)
        session.get(approvals.ApprovalRequestRow, "apr_old").status = "pending"
    with state.session() as session, session.begin():
        raised = approvals.approve(session, "apr_old", actor="user:approver", new_amount=Decimal(200))
    assert raised.budget is not None and raised.budget.amount == Decimal(200)


def test_new_requests_are_sent_to_approval_channels(state):
    add_budget(state, "search", "team", "search", 100)
    with WebhookReceiver() as hook:
        with state.session() as session, session.begin():
            create_channel(
                session,
                ChannelSpec(name="approvers", type="webhook", config={"url": hook.url}, kinds=["approval"]),
                actor="a",
            )
        request = increase(state)
        notify(state, approvals.request_notification([request]))
    body = hook.received[0].json()
    assert body["kind"] == "approval" and body["subject"] == f"Approval requested: {request.id}"
    assert body["payload"]["approvals"][0]["requested_amount"] == "150"
