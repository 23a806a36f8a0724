"""``/api/v1/approvals`` over HTTP: who may ask, who may decide, and what deciding changes."""

from __future__ import annotations

from decimal import Decimal

import pytest

from comptroller.budgets.model import Budget
from comptroller.budgets.store import get_budget, save_budget
from tests.notify.server import People, api_settings, serve
from tests.notify.state_helpers import open_module_state


@pytest.fixture(scope="module", params=["sqlite"])
def module_state(request, tmp_path_factory):
    """HTTP, roles and wiring are what this module tests, so it runs on the embedded state only;
    the same logic runs on PostgreSQL in the unit tests beside it."""
    yield from open_module_state(request, tmp_path_factory)


@pytest.fixture(scope="module")
def server(module_state, tmp_path_factory):
    with serve(api_settings(tmp_path_factory.mktemp("approvals-api"), module_state)) as url:
        yield url


@pytest.fixture
def people(server, state):
    for team in ("search", "growth"):
        budget = Budget(
            id=team, name=team, scope="team", scope_value=team, amount=Decimal(100), behaviour="approval"
        )
        with state.session() as session, session.begin():
            save_budget(session, budget, actor="user:finops")
    made = People(server, state)
    yield made
    made.close()


def ask(people, who="owner", budget="search", amount="250"):
    return people[who].post(
        "/api/v1/approvals", json={"budget_id": budget, "new_amount": amount, "reason": "launch"}
    )


def test_team_owners_ask_for_their_own_teams_budgets(people):
    assert ask(people, budget="growth").status_code == 403
    assert ask(people, who="viewer").status_code == 403
    assert ask(people, amount="50").json()["error"]["code"] == "approval_error"
    created = ask(people)
    assert created.status_code == 201
    assert created.json()["status"] == "pending" and created.json()["requested_by"] == "user:owner"
    listed = people["viewer"].get("/api/v1/approvals", params={"status": "pending"}).json()
    assert [r["id"] for r in listed] == [created.json()["id"]]
    assert [r["id"] for r in people["owner"].get("/api/v1/approvals").json()] == [created.json()["id"]]
    assert people["other"].get("/api/v1/approvals").json() == []
    assert people["other"].get(f"/api/v1/approvals/{created.json()['id']}").status_code == 403


def test_an_approver_approves_and_the_budget_and_snapshot_change(people, state):
    request_id = ask(people).json()["id"]
    assert people["owner"].post(f"/api/v1/approvals/{request_id}/approve").status_code == 403  # role
    assert people["viewer"].post(f"/api/v1/approvals/{request_id}/approve").status_code == 403
    approved = people["approver"].post(f"/api/v1/approvals/{request_id}/approve", json={"note": "go"})
    assert approved.status_code == 200
    body = approved.json()
    assert (
        body["status"] == "approved"
        and body["decided_by"] == "user:approver"
        and body["snapshot_version"] >= 1
    )
    with state.session() as session:
        assert get_budget(session, "search").amount == Decimal(250)
    again = people["approver"].post(f"/api/v1/approvals/{request_id}/deny")
    assert again.status_code == 400 and "is approved, not pending" in again.json()["error"]["message"]


def test_nobody_decides_their_own_request(people):
    request_id = ask(people, who="admin").json()["id"]
    refused = people["admin"].post(f"/api/v1/approvals/{request_id}/approve")
    assert refused.status_code == 403 and "someone else must decide" in refused.json()["error"]["message"]
    denied = people["approver"].post(f"/api/v1/approvals/{request_id}/deny", json={"note": "no"})
    assert denied.json()["status"] == "denied" and denied.json()["decision_note"] == "no"
    assert people["viewer"].get(f"/api/v1/approvals/{request_id}").json()["status"] == "denied"
    assert people["viewer"].get("/api/v1/approvals/apr_missing").status_code == 404
