"""Every way the gateway refuses a request: the caller's dialect, a stable code, one spend event."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal

import anthropic
import httpx
import openai
import pytest

from tests.gateway.harness import secret

MESSAGES = [{"role": "user", "content": "hi"}]


def _only_event(stack, key_name, before):
    events = stack.events_for(key_name)
    assert len(events) == before + 1, "exactly one spend event per request"
    return events[-1]


def _post(stack, path, key_name, body, **headers):
    if key_name is not None:
        headers["authorization"] = f"Bearer {secret(key_name)}"
    return httpx.post(f"{stack.url}{path}", json=body, headers=headers, timeout=10)


@pytest.mark.parametrize(
    ("key_name", "status", "code"),
    [("nobody", 401, "invalid_api_key"), ("expired", 401, "key_expired"), ("revoked", 401, "key_revoked")],
)
def test_bad_keys_are_refused_in_openai_shape(stack, oai_for, key_name, status, code):
    before = len(stack.events_for(key_name))
    with pytest.raises(openai.AuthenticationError) as caught:
        oai_for(key_name).chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert caught.value.status_code == status
    assert caught.value.code == code
    if key_name != "nobody":
        event = _only_event(stack, key_name, before)
        assert event["status"] == "blocked_policy"
        assert event["block_reason"] == code


def test_unknown_key_still_makes_a_spend_event(stack):
    before = [e for e in stack.events() if e["block_reason"] == "missing_api_key"]
    response = _post(stack, "/v1/chat/completions", None, {"model": "gpt-4o-mini", "messages": MESSAGES})
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "missing_api_key"
    after = [e for e in stack.events() if e["block_reason"] == "missing_api_key"]
    assert len(after) == len(before) + 1
    assert after[-1]["api_key_id"] is None


def test_bad_key_in_anthropic_shape(stack):
    client = anthropic.Anthropic(base_url=stack.url, api_key="sk-cmp-wrong", max_retries=0)
    with pytest.raises(anthropic.AuthenticationError) as caught:
        client.messages.create(model="claude-sonnet-4-5", max_tokens=5, messages=MESSAGES)
    assert caught.value.body == {
        "type": "error",
        "error": {
            "type": "authentication_error",
            "message": caught.value.body["error"]["message"],
            "code": "invalid_api_key",
        },
    }


def test_model_outside_the_keys_scope(stack, oai_for):
    before = len(stack.events_for("scoped"))
    with pytest.raises(openai.PermissionDeniedError) as caught:
        oai_for("scoped").chat.completions.create(model="gpt-4o", messages=MESSAGES)
    assert caught.value.code == "model_not_allowed"
    assert _only_event(stack, "scoped", before)["status"] == "blocked_policy"


def test_kill_switch(stack, oai_for):
    before = len(stack.events_for("killed"))
    with pytest.raises(openai.PermissionDeniedError) as caught:
        oai_for("killed").chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert caught.value.code == "kill_switch_engaged"
    assert "runaway agent" in caught.value.message
    event = _only_event(stack, "killed", before)
    assert event["status"] == "blocked_kill_switch"
    assert event["attribution"]["team"] == "red"


def test_rate_limit_with_retry_after(stack):
    before = len(stack.events_for("limited"))
    statuses = [
        _post(stack, "/v1/chat/completions", "limited", {"model": "gpt-4o-mini", "messages": MESSAGES})
        for _ in range(3)
    ]
    assert [r.status_code for r in statuses] == [200, 200, 429]
    refused = statuses[-1]
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["retry-after"]) >= 1
    events = stack.events_for("limited")[before:]
    assert [e["status"] for e in events] == ["ok", "ok", "blocked_rate_limit"]


def test_budget_hard_cap(stack, oai_for):
    before = len(stack.events_for("broke"))
    with pytest.raises(openai.APIStatusError) as caught:
        oai_for("broke").chat.completions.create(model="gpt-4o-mini", messages=MESSAGES)
    assert caught.value.status_code == 402
    assert caught.value.code == "budget_exceeded"
    assert caught.value.body["type"] == "insufficient_quota"
    assert caught.value.body["budget_id"] == "b_broke"
    event = _only_event(stack, "broke", before)
    assert event["status"] == "blocked_budget"
    assert event["block_reason"] == "budget_exceeded"
    assert event["blocked_budget_id"] == "b_broke"


def test_budget_approval_carries_the_request_id(stack):
    before = len(stack.events_for("approval"))
    response = _post(
        stack,
        "/v1/messages",
        "approval",
        {"model": "claude-sonnet-4-5", "max_tokens": 10, "messages": MESSAGES},
    )
    assert response.status_code == 402
    error = response.json()["error"]
    assert error["code"] == "budget_approval_required"
    assert error["approval_request_id"]
    assert error["budget_id"] == "b_approval"
    event = _only_event(stack, "approval", before)
    assert event["status"] == "blocked_approval"
    assert event["approval_request_id"] == error["approval_request_id"]
    assert event["blocked_budget_id"] == "b_approval"
    assert event["approval_pass_ids"] == []


def test_budget_is_settled_at_the_real_cost(stack, oai_for):
    budget = next(b for b in stack.parts.admission.index().budgets if b.id == "b_budgeted")
    spent_before = stack.run(stack.parts.reserver.spent(budget, datetime.now(UTC)))
    raw = oai_for("budgeted").chat.completions.with_raw_response.create(
        model="gpt-4o-mini", messages=MESSAGES, max_tokens=2000
    )
    spent_after = stack.run(stack.parts.reserver.spent(budget, datetime.now(UTC)))
    event = next(e for e in stack.events() if e["request_id"] == raw.headers["x-comptroller-request-id"])
    cost = Decimal(event["contracted_cost"])
    assert cost > 0
    # The hold (worst case: 2,000 output tokens) is gone; only the real cost stays, in micro-dollars.
    assert spent_after - spent_before == cost.quantize(Decimal("0.000001"), rounding=ROUND_HALF_EVEN)


def test_unknown_model_and_bad_body(stack, oai):
    with pytest.raises(openai.NotFoundError) as caught:
        oai.chat.completions.create(model="no-such-model", messages=MESSAGES)
    assert caught.value.code == "model_not_found"
    response = httpx.post(
        f"{stack.url}/v1/chat/completions",
        content=b"{not json",
        headers={"authorization": f"Bearer {secret('main')}"},
    )
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_json"


def test_concurrent_requests_never_overshoot_a_hard_cap(stack):
    """Twenty callers at once against a budget that holds about five worst cases. The answers
    stream slowly, so the calls overlap however the threads are scheduled (an instant answer
    settles at its small real cost before the next call reserves, and all twenty fit)."""
    from concurrent.futures import ThreadPoolExecutor

    body = {"model": "slow-model", "messages": MESSAGES, "max_tokens": 1000, "stream": True}
    with ThreadPoolExecutor(20) as pool:
        statuses = list(
            pool.map(lambda _: _post(stack, "/v1/chat/completions", "capped", body).status_code, range(20))
        )
    assert set(statuses) == {200, 402}
    assert 1 <= statuses.count(200) < 20
    budget = next(b for b in stack.parts.admission.index().budgets if b.id == "b_capped")
    spent = stack.run(stack.parts.reserver.spent(budget, datetime.now(UTC)))
    assert 0 < spent <= budget.amount
    events = stack.events_for("capped")
    assert len(events) == 20
    assert sum(Decimal(e["contracted_cost"] or 0) for e in events) <= budget.amount
