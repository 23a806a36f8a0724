"""A human's one-off approval reaches a running gateway: the request an approval budget blocked
goes through once after approval, the next one is blocked again, and once the ledger has the
admitted request the control plane stops listing the pass."""

from __future__ import annotations

import json
from decimal import Decimal

import httpx
import pytest

from comptroller.budgets.model import Budget, BudgetBehaviour, BudgetScope
from comptroller.budgets.store import save_budget
from comptroller.governance import approvals
from comptroller.ingest.gateway_events import drain_spool
from comptroller.keys.snapshot_builder import build_snapshot, publish, snapshot_path
from comptroller.keys.specs import KeySpec
from comptroller.keys.virtual_keys import create_key
from comptroller.pricing import Pricer
from tests.gateway.harness import Stack

BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hello"}], "max_tokens": 1000}


@pytest.fixture(autouse=True)
def _no_redis(monkeypatch):
    """The embedded path: the snapshot travels by file, budgets count in gateway memory."""
    monkeypatch.delenv("COMPTROLLER_REDIS_URL", raising=False)


def test_an_approved_block_admits_the_same_request_once(ctx, settings, tmp_path):
    with ctx.state.session() as session, session.begin():
        created = create_key(session, KeySpec(name="asker", attribution={"team": "search"}), actor="user:ana")
        save_budget(
            session,
            Budget(
                id="b_gate",
                name="gate",
                scope=BudgetScope.KEY,
                scope_value=created.key.id,
                amount=Decimal("0.0001"),
                behaviour=BudgetBehaviour.APPROVAL,
            ),
            actor="user:finops",
        )
    publish(ctx)
    (tmp_path / "gateway").mkdir()
    stack = Stack(tmp_path / "gateway")
    stack.snapshot_file = snapshot_path(settings)
    stack.start()
    try:
        headers = {"authorization": f"Bearer {created.secret}"}

        def call() -> httpx.Response:
            return httpx.post(f"{stack.url}/v1/chat/completions", json=BODY, headers=headers, timeout=10)

        blocked = call()
        assert blocked.status_code == 402
        error = blocked.json()["error"]
        request_id = error["approval_request_id"]
        assert error["budget_id"] == "b_gate"

        def drain() -> None:
            stack.run(stack.parts.spool.flush())
            drain_spool(stack.spool_dir, ctx.ledger, Pricer(), include_active=True)

        drain()
        stored = ctx.ledger.usage_events().to_pyarrow().to_pylist()
        assert [json.loads(row["tags"])["blocked_budget_id"] for row in stored] == ["b_gate"]
        with ctx.state.session() as session, session.begin():
            opened = approvals.open_gateway_approvals(session, ctx.ledger)
            assert [row.id for row in opened] == [request_id]
            assert opened[0].budget_id == "b_gate"
            decision = approvals.approve(session, request_id, actor="user:approver")
        assert decision.changes_gateway and decision.budget is None
        version = publish(ctx, refresh_spend=False).version
        stack.wait_for(lambda: stack.parts.source.current().version == version)
        assert [p.id for p in stack.parts.source.current().approval_passes] == [request_id]

        admitted = call()
        assert admitted.status_code == 200, admitted.text
        again = call()
        assert again.status_code == 402
        assert again.json()["error"]["approval_request_id"] != request_id

        events = [e for e in stack.events() if e.get("api_key_id") == created.key.id]
        assert [(e["status"], e["approval_request_id"] == request_id) for e in events] == [
            ("blocked_approval", True),
            ("ok", True),
            ("blocked_approval", False),
        ]
        assert events[1]["approval_pass_ids"] == [request_id]
        assert events[0]["blocked_budget_id"] == events[2]["blocked_budget_id"] == "b_gate"

        drain()  # the admitted request reaches the ledger: the pass is retired
        assert build_snapshot(ctx, refresh_spend=False).approval_passes == []
    finally:
        stack.stop()
