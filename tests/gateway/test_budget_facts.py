"""What a spend event says about budgets: which one blocked, which alert thresholds the request
crossed at reservation, and which budgets it passed unchecked because the counter store was down."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

import httpx
import pytest

from comptroller.budgets.model import Budget, BudgetBehaviour, BudgetScope, FailMode
from comptroller.gateway.snapshot import Snapshot
from tests.gateway.enforcement.conftest import UNREACHABLE_URL
from tests.gateway.harness import Stack, key, secret

BODY = {"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 1000}


def budget(budget_id: str, key_name: str, **fields) -> Budget:
    return Budget(
        id=budget_id,
        name=budget_id,
        scope=BudgetScope.KEY,
        scope_value=f"key_{key_name}",
        amount=Decimal("0.0001"),
        **fields,
    )


def snapshot() -> Snapshot:
    return Snapshot(
        version=1,
        keys=[key("watched"), key("open"), key("closed")],
        budgets=[
            budget("b_watch", "watched", behaviour=BudgetBehaviour.ALERT),
            budget("b_open", "open", fail_mode=FailMode.OPEN),
            budget("b_closed", "closed"),
        ],
    )


@pytest.fixture(params=["memory", "redis down"])
def stack(request, tmp_path) -> Iterator[Stack]:
    extra = {"redis_url": UNREACHABLE_URL} if request.param == "redis down" else {}
    running = Stack(tmp_path, snapshot(), cache=False, **extra).start()
    running.backend = request.param
    try:
        yield running
    finally:
        running.stop()


def post(stack: Stack, key_name: str) -> httpx.Response:
    headers = {"authorization": f"Bearer {secret(key_name)}"}
    return httpx.post(f"{stack.url}/v1/chat/completions", json=BODY, headers=headers, timeout=10)


def test_events_name_the_budgets_behind_each_decision(stack):
    watched, opened, closed = post(stack, "watched"), post(stack, "open"), post(stack, "closed")
    assert watched.status_code == 200
    event = stack.events_for("watched")[-1]
    if stack.backend == "memory":
        # The reservation (1,000 output tokens at most) takes the alert budget past every threshold.
        assert event["budget_alerts"] == ["b_watch@0.5", "b_watch@0.8", "b_watch@1"]
        assert (opened.status_code, closed.status_code) == (402, 402)
        assert stack.events_for("open")[-1]["blocked_budget_id"] == "b_open"
        assert stack.events_for("open")[-1]["fail_open_budget_ids"] == []
    else:
        # Nothing is counted while Redis is down, so no threshold is known to be crossed.
        assert event["budget_alerts"] == []
        assert opened.status_code == 200
        assert stack.events_for("open")[-1]["fail_open_budget_ids"] == ["b_open"]
        assert closed.status_code == 503
    assert closed.json()["error"]["budget_id"] == "b_closed"
    assert stack.events_for("closed")[-1]["blocked_budget_id"] == "b_closed"
