"""The run API's logic on SQLite and PostgreSQL state: every reason a check can give, approval
gates decided by a person, kill switches from the gateway's table, rollback and ledger feed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from comptroller.agents import checks, registry, runs
from comptroller.agents.ledger_feed import feed_steps
from comptroller.agents.rollback import call_rollback_webhook, rollback_run
from comptroller.agents.specs import AgentSpec, NextAction, StepReport
from comptroller.budgets.model import Budget
from comptroller.budgets.spend import budget_spend
from comptroller.errors import AgentRunError
from comptroller.governance import approvals
from comptroller.governance.audit import list_entries
from comptroller.keys import kill_switches
from comptroller.keys.specs import KillSwitchSpec
from comptroller.ledger.store import open_ledger
from comptroller.pricing import Pricer
from tests.notify.receivers import WebhookReceiver

PRICER = Pricer()


def register(state, **fields):
    spec = AgentSpec(
        **{"id": "triage-bot", "name": "Triage bot", "owner": "ann", "team": "support", **fields}
    )
    with state.session() as session, session.begin():
        return registry.save_agent(session, spec, actor="user:ann")[0]


def start(state, agent_id="triage-bot", now=None):
    with state.session() as session, session.begin():
        agent = registry.get_agent(session, agent_id)
        return checks.start_run(session, agent, actor="user:bot", detail={"ticket": "T-1"}, now=now)


def step(state, run_id, **fields):
    with state.session() as session, session.begin():
        return runs.record_step(session, runs.running(session, run_id), StepReport(**fields), PRICER)


def check(state, run_id, now=None, **action):
    with state.session() as session, session.begin():
        run = runs.get_run(session, run_id)
        agent = registry.get_agent(session, run.agent_id)
        return checks.may_continue(session, agent, run, NextAction(**action), actor="user:bot", now=now)


def codes(result):
    return [r.code for r in result.reasons]


def tool(name, **arguments):
    return {"kind": "tool", "tool": name, "arguments": arguments}


def test_registering_is_audited_and_replacing_keeps_the_id(state):
    register(
        state, budget_per_run=Decimal("2.50"), allowed_tools=["search", "refund"], approval_tools=["refund"]
    )
    register(state, name="Triage bot v2")
    with state.session() as session:
        [agent] = registry.list_agents(session)
        assert agent.name == "Triage bot v2" and agent.budget_per_run is None
        assert [e.action for e in list_entries(session, subject="agent:triage-bot")] == [
            "agent.update",
            "agent.register",
        ]


def test_a_healthy_run_is_allowed_and_tracks_steps_tool_calls_cost_and_context(state):
    register(state)
    run, result = start(state)
    assert result.allow and run is not None
    step(
        state,
        run.id,
        provider="openai",
        model="gpt-4o",
        input_tokens=1000,
        output_tokens=100,
        context_tokens=1100,
    )
    step(state, run.id, **tool("search", q="refund policy"), cost=Decimal("0.01"))
    result = check(state, run.id, tool="search", arguments={"q": "shipping"})
    assert result.allow and result.reasons == []
    assert result.run["steps"] == 2 and result.run["tool_calls"] == 1
    assert Decimal(result.run["cost"]) == Decimal("0.0035") + Decimal("0.01")  # gpt-4o: 2.5/M in, 10/M out
    assert result.run["peak_context_tokens"] == 1100


def test_spend_caps_per_run_and_per_period(state):
    register(state, budget_per_run=Decimal("1"), budget_per_period=Decimal("1.5"))
    run, _ = start(state)
    step(state, run.id, cost=Decimal("0.6"))
    assert check(state, run.id).allow
    assert codes(check(state, run.id, estimated_cost=Decimal("0.5"))) == ["spend_cap_run"]
    step(state, run.id, cost=Decimal("0.5"))
    assert codes(check(state, run.id)) == ["spend_cap_run"]
    second, _ = start(state)
    step(state, second.id, cost=Decimal("0.4"))
    assert codes(check(state, second.id)) == ["spend_cap_period"]
    denied, result = start(state)
    assert denied is None and codes(result) == ["spend_cap_period"]


def test_run_step_runtime_tool_call_and_context_limits(state):
    register(
        state, max_steps=3, max_tool_calls=1, max_context_tokens=8000, max_runtime_s=60, max_runs_per_period=1
    )
    run, _ = start(state)
    step(state, run.id, **tool("search", q="a"), context_tokens=4000)
    assert codes(check(state, run.id, tool="search", arguments={"q": "b"})) == ["tool_call_limit"]
    assert check(state, run.id).allow  # a model step needs no tool call
    assert codes(check(state, run.id, context_tokens=9000)) == ["context_limit"]
    later = datetime.now(UTC) + timedelta(seconds=61)
    assert codes(check(state, run.id, now=later)) == ["runtime_limit"]
    step(state, run.id)
    step(state, run.id)
    assert codes(check(state, run.id)) == ["step_limit"]
    again, result = start(state)
    assert again is None and codes(result) == ["run_limit"]
    with state.session() as session:
        assert session.get(runs.AgentRunRow, run.id).stop_reason == "step_limit"
        assert len(list_entries(session, action="agent_run.deny")) == 5


def test_loops_are_detected_before_the_call_that_would_close_them(state):
    register(state, loop_repeats=3)
    run, _ = start(state)
    step(state, run.id, **tool("search", q="x"))
    step(state, run.id, **tool("search", q="x"))
    assert check(state, run.id, tool="search", arguments={"q": "y"}).allow
    assert codes(check(state, run.id, tool="search", arguments={"q": "x"})) == ["loop_detected"]
    other, _ = start(state)
    for _ in range(2):
        step(state, other.id, **tool("fetch", url="a"))
        step(state, other.id, **tool("parse", doc="a"))
    step(state, other.id, **tool("fetch", url="a"))
    result = check(state, other.id, tool="parse", arguments={"doc": "a"})
    assert codes(result) == ["loop_detected"] and "cycle of 2 tool calls" in result.reasons[0].message


def test_allowed_tools_and_external_actions(state):
    register(state, allowed_tools=["search", "email"], external_actions=False)
    run, _ = start(state)
    assert codes(check(state, run.id, tool="delete_repo")) == ["tool_not_allowed"]
    assert codes(check(state, run.id, tool="email", external=True)) == ["external_action_not_allowed"]
    register(state, allowed_tools=["search", "email"], external_actions=True, autonomy_level="recommend")
    assert codes(check(state, run.id, tool="email", external=True)) == ["external_action_not_allowed"]
    register(state, allowed_tools=["search", "email"], external_actions=True, autonomy_level="automatic")
    assert check(state, run.id, tool="email", external=True).allow


def test_the_approval_gate_waits_for_a_person(state):
    register(state, approval_tools=["refund"])
    run, _ = start(state)
    first = check(state, run.id, tool="refund", arguments={"order": "o-1", "amount": 40})
    assert codes(first) == ["approval_required"] and first.approval_opened
    again = check(state, run.id, tool="refund", arguments={"order": "o-1", "amount": 40})
    assert again.approval_request_id == first.approval_request_id and not again.approval_opened
    assert check(state, run.id, tool="search").allow
    with state.session() as session, session.begin():
        request = approvals.get_approval(session, first.approval_request_id)
        assert (request.kind, request.tool, request.requested_by) == (
            "agent_tool",
            "refund",
            "agent:triage-bot",
        )
        assert request.detail == {"arguments": {"order": "o-1", "amount": 40}}
        approvals.approve(session, request.id, actor="user:approver")
    assert check(state, run.id, tool="refund").allow
    register(state, autonomy_level="approve")
    gated = check(state, run.id, tool="search")
    assert codes(gated) == ["approval_required"]
    with state.session() as session, session.begin():
        approvals.deny(session, gated.approval_request_id, actor="user:approver")
    assert codes(check(state, run.id, tool="search")) == ["approval_denied"]


def test_a_kill_switch_on_the_agent_or_its_team_stops_it(state):
    register(state)
    run, _ = start(state)
    with state.session() as session, session.begin():
        switch = kill_switches.engage(
            session,
            KillSwitchSpec(scope="team", scope_value="support", reason="runaway spend"),
            actor="user:sre",
        )
    result = check(state, run.id)
    assert codes(result) == ["kill_switch"] and "runaway spend" in result.reasons[0].message
    assert start(state)[0] is None
    with state.session() as session, session.begin():
        kill_switches.release(session, switch.id, actor="user:sre")
        kill_switches.engage(
            session, KillSwitchSpec(scope="agent", scope_value="other-bot", reason="x"), actor="a"
        )
    assert check(state, run.id).allow


def test_ending_a_run_closes_it(state):
    register(state)
    run, _ = start(state)
    with state.session() as session, session.begin():
        runs.end_run(session, runs.running(session, run.id), outcome="success", actor="user:bot")
    assert codes(check(state, run.id)) == ["run_not_running"]
    with pytest.raises(AgentRunError, match="is ended"):
        step(state, run.id)


def test_rollback_hands_out_compensations_newest_first_once(state):
    register(state)
    run, _ = start(state)
    step(
        state,
        run.id,
        **tool("create_ticket", title="x"),
        compensation={"tool": "close_ticket", "arguments": {"id": 7}},
    )
    step(state, run.id, **tool("search", q="x"))
    step(
        state,
        run.id,
        **tool("refund", order="o-1"),
        compensation={"tool": "charge", "arguments": {"order": "o-1"}},
    )
    with state.session() as session, session.begin():
        result = rollback_run(session, runs.get_run(session, run.id), actor="user:ann")
    assert [(c["seq"], c["tool"]) for c in result.compensations] == [(3, "charge"), (1, "close_ticket")]
    assert result.compensations[0]["undoes"] == {"tool": "refund", "arguments": {"order": "o-1"}}
    with state.session() as session, session.begin():
        assert rollback_run(session, runs.get_run(session, run.id), actor="user:ann").compensations == []
        assert runs.get_run(session, run.id).status == "rolled_back"
    with WebhookReceiver() as hook:
        assert call_rollback_webhook(hook.url + "/rollback", result) == (1, None)
    body = hook.received[0].json()
    assert body["kind"] == "rollback" and body["payload"]["compensations"][1]["arguments"] == {"id": 7}


def test_model_steps_reach_the_ledger_once_with_the_agent_dimensions(state, tmp_path):
    register(state)
    run, _ = start(state)
    step(state, run.id, provider="openai", model="gpt-4o", input_tokens=100_000, output_tokens=10_000)
    step(state, run.id, **tool("search", q="x"), cost=Decimal("0.02"))
    step(state, run.id, provider="openai", model="gpt-4o", input_tokens=100_000, output_tokens=10_000)
    ledger = open_ledger(f"duckdb:///{tmp_path / 'ledger.duckdb'}")
    try:
        assert feed_steps(state, ledger, PRICER, run_id=run.id) == 2
        assert feed_steps(state, ledger, PRICER) == 0
        rows = ledger.execute(
            "SELECT source, agent, team, owner, trace_id, contracted_cost FROM usage_events"
        )
        assert {r[:5] for r in rows} == {("agents", "triage-bot", "support", "ann", run.id)}
        budget = Budget(id="bot", name="bot", scope="agent", scope_value="triage-bot", amount=Decimal(10))
        spent = budget_spend(ledger, [budget], datetime.now(UTC))["bot"]
        assert spent == sum(Decimal(r[5]) for r in rows) == Decimal("0.7")  # 2 x (0.25 in + 0.10 out)
        with state.session() as session:
            assert runs.get_run(session, run.id).cost == Decimal("0.72")  # and the tool's reported 0.02
    finally:
        ledger.close()
