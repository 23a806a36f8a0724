"""The agent registry and run API over HTTP, with roles: a real server on loopback."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import select

from comptroller.agents.models import AgentStepRow
from comptroller.keys import kill_switches
from comptroller.keys.specs import KillSwitchSpec
from comptroller.ledger.schema import USAGE_EVENTS_TABLE
from comptroller.ledger.store import open_ledger
from tests.notify.receivers import WebhookReceiver
from tests.notify.server import People, api_settings, serve
from tests.notify.state_helpers import open_module_state

AGENT = {
    "id": "triage-bot",
    "name": "Triage bot",
    "owner": "ann",
    "team": "support",
    "allowed_tools": ["search", "refund"],
    "approval_tools": ["refund"],
    "budget_per_run": "5",
    "max_steps": 20,
}


@pytest.fixture(scope="module", params=["sqlite"])
def module_state(request, tmp_path_factory):
    """HTTP, roles and wiring are what this module tests, so it runs on the embedded state only;
    the same logic runs on PostgreSQL in the unit tests beside it."""
    yield from open_module_state(request, tmp_path_factory)


@pytest.fixture(scope="module")
def settings(module_state, tmp_path_factory):
    return api_settings(tmp_path_factory.mktemp("agents-api"), module_state)


@pytest.fixture(scope="module")
def server(settings):
    with serve(settings) as url:
        yield url


def ledger_events(state, settings, run_id, wait_s=20.0):
    """The run's usage events, once the feed after the response has marked its steps fed (the
    ledger is read only then: two writers of one DuckDB file in one process would collide)."""
    unfed = select(AgentStepRow).where(
        AgentStepRow.run_id == run_id, AgentStepRow.model.is_not(None), AgentStepRow.fed_at.is_(None)
    )
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        with state.session() as session:
            if session.scalars(unfed).first() is None:
                break
        time.sleep(0.1)
    with open_ledger(settings.ledger_url) as ledger:
        return ledger.execute(f"SELECT source, agent FROM {USAGE_EVENTS_TABLE} WHERE trace_id = '{run_id}'")


@pytest.fixture
def people(server, state):
    made = People(server, state)
    yield made
    made.close()


def test_registry_needs_the_right_role_and_team(people):
    assert people["viewer"].post("/api/v1/agents", json=AGENT).status_code == 403
    assert people["other"].post("/api/v1/agents", json=AGENT).status_code == 403
    created = people["finops"].post("/api/v1/agents", json=AGENT)
    assert created.status_code == 201 and created.json()["budget_per_run"] == "5"
    assert people["bot"].post("/api/v1/agents", json={**AGENT, "max_steps": 30}).status_code == 200
    bad = people["finops"].post("/api/v1/agents", json={**AGENT, "id": "Bad Id"})
    assert bad.status_code == 422 and bad.json()["detail"][0]["loc"] == ["body", "id"]
    assert [a["id"] for a in people["viewer"].get("/api/v1/agents").json()] == ["triage-bot"]
    assert people["other"].get("/api/v1/agents").json() == []
    assert people["other"].get("/api/v1/agents/triage-bot").status_code == 403


def test_a_run_from_start_to_end_with_an_approval_gate(people, settings, state):
    bot = people["bot"]
    people["finops"].post("/api/v1/agents", json=AGENT)
    assert people["other"].post("/api/v1/agents/triage-bot/runs").status_code == 403
    started = bot.post("/api/v1/agents/triage-bot/runs", json={"detail": {"ticket": "T-9"}})
    assert started.status_code == 201
    runs = f"/api/v1/agents/triage-bot/runs/{started.json()['id']}"
    reported = bot.post(
        runs + "/steps",
        json={"provider": "openai", "model": "gpt-4o", "input_tokens": 1000, "output_tokens": 100},
    )
    assert reported.status_code == 201
    assert reported.json()["step"]["cost_source"] == "priced"
    assert bot.post(runs + "/check", json={"tool": "search", "arguments": {"q": "x"}}).json()["allow"]
    gated = bot.post(runs + "/check", json={"tool": "refund", "arguments": {"order": "o-1"}}).json()
    assert gated["allow"] is False and [r["code"] for r in gated["reasons"]] == ["approval_required"]
    approval = f"/api/v1/approvals/{gated['approval_request_id']}"
    assert bot.post(approval + "/approve").status_code == 403
    assert (
        people["approver"].post(approval + "/approve", json={"note": "fine"}).json()["status"] == "approved"
    )
    assert bot.post(runs + "/check", json={"tool": "refund", "arguments": {"order": "o-1"}}).json()["allow"]
    bot.post(
        runs + "/steps", json={"kind": "tool", "tool": "refund", "arguments": {"order": "o-1"}, "cost": "0"}
    )
    ended = bot.post(runs + "/end", json={"outcome": "success"})
    assert ended.json()["status"] == "ended" and ended.json()["outcome"] == "success"
    assert bot.post(runs + "/steps", json={}).json()["error"]["code"] == "agent_run_error"
    assert ledger_events(state, settings, started.json()["id"]) == [("agents", "triage-bot")]
    shown = people["viewer"].get(runs).json()
    assert [s["kind"] for s in shown["step_log"]] == ["llm", "tool"]
    assert people["viewer"].get("/api/v1/agents/triage-bot/runs").json()[0]["steps"] == 2


def test_a_kill_switch_refuses_new_runs_with_409(people, state):
    people["finops"].post("/api/v1/agents", json=AGENT)
    with state.session() as session, session.begin():
        kill_switches.engage(
            session,
            KillSwitchSpec(scope="agent", scope_value="triage-bot", reason="loop storm"),
            actor="user:sre",
        )
    refused = people["bot"].post("/api/v1/agents/triage-bot/runs")
    assert refused.status_code == 409
    assert [r["code"] for r in refused.json()["reasons"]] == ["kill_switch"]


def test_rollback_returns_compensations_and_calls_the_webhook(people):
    with WebhookReceiver() as hook:
        people["finops"].post("/api/v1/agents", json={**AGENT, "rollback_webhook": hook.url + "/undo"})
        bot = people["bot"]
        runs = f"/api/v1/agents/triage-bot/runs/{bot.post('/api/v1/agents/triage-bot/runs').json()['id']}"
        bot.post(
            runs + "/steps",
            json={
                "kind": "tool",
                "tool": "refund",
                "arguments": {"order": "o-2"},
                "compensation": {"tool": "charge", "arguments": {"order": "o-2"}},
            },
        )
        answer = bot.post(runs + "/rollback").json()
    assert [c["tool"] for c in answer["compensations"]] == ["charge"]
    assert answer["webhook"] == {"delivered": True, "attempts": 1, "error": None}
    assert hook.received[0].path == "/undo" and hook.received[0].json()["kind"] == "rollback"
