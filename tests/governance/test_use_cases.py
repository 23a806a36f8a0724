"""The intake registry through the API: tiers, routing, lifecycle, team scope, spend, audit."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from comptroller.context import Context
from comptroller.ingest.focus_ingest import ingest_focus
from tests.export.test_focus_export import focus_csv
from tests.governance.conftest import bearer

TRIAGE = {
    "name": "Support triage agent",
    "purpose": "Reads tickets, drafts replies and refunds small orders",
    "owner": "diego.ramos@example.com",
    "team": "search",
    "users": "support agents (40)",
    "data_classes": ["personal", "internal"],
    "vendor": "openai",
    "model": "gpt-4o",
    "expected_monthly_value": "20000",
    "expected_monthly_cost": "3000",
    "customer_impact": "direct",
    "autonomy": "autonomous",
    "external_actions": True,
    "success_metric": "first-response time under 5 minutes",
    "links": {
        "agents": ["triage"],
        "keys": ["k-1"],
        "budgets": ["b-1"],
        "dimensions": {"product": "nw-assist"},
    },
}
FAQ = {
    "name": "FAQ search",
    "purpose": "Answers staff questions from the wiki",
    "owner": "maya.chen@example.com",
    "team": "search",
    "data_classes": ["internal"],
    "vendor": "anthropic",
    "model": "claude-3-5-haiku",
    "expected_monthly_cost": "120",
}


@pytest.fixture(scope="module")
def this_month(gov_settings, tmp_path_factory) -> None:
    """Cost lines dated this month: 9 for product nw-assist (6 in team search), 5 for another."""
    start = date.today().replace(day=1)
    path = focus_csv(
        tmp_path_factory.mktemp("focus") / "now.csv",
        [
            ("6", "Atlas", "i-1", '{"product":"nw-assist","team":"search"}'),
            ("3", "Atlas", "i-2", '{"product":"nw-assist","team":"growth"}'),
            ("5", "Orion", "i-3", '{"product":"other","team":"search"}'),
        ],
    )
    next_month = (start + timedelta(days=32)).replace(day=1)
    text = path.read_text().replace("2025-03-01T00:00:00Z", f"{start}T00:00:00Z")
    text = text.replace("2025-03-02T00:00:00Z", f"{start + timedelta(days=1)}T00:00:00Z")
    path.write_text(text.replace("2025-04-01T00:00:00Z", f"{next_month}T00:00:00Z"))
    with Context(gov_settings) as ctx:
        ingest_focus(ctx.ledger, [path])


def call(client, tokens, who: str, method: str, url: str, **kw):
    return client.request(method, url, headers=bearer(tokens[who]), **kw)


def test_a_critical_use_case_needs_two_distinct_approvers(client, tokens, gov_settings):
    made = call(client, tokens, "team_owner", "POST", "/api/v1/use-cases", json=TRIAGE)
    assert made.status_code == 201, made.text
    case = made.json()
    uid = case["id"]
    assert (case["status"], case["risk"]["tier"]) == ("proposed", "critical")
    assert "autonomous-external" in [r["rule"] for r in case["risk"]["reasons"]]
    assert case["review"]["approvals_needed"] == 2 and case["review"]["roles"] == ["approver"]
    early = call(client, tokens, "approver", "POST", f"/api/v1/use-cases/{uid}/approve", json={})
    assert early.status_code == 400 and "submit" in early.json()["error"]["message"]
    assert (
        call(client, tokens, "team_owner", "POST", f"/api/v1/use-cases/{uid}/submit").json()["status"]
        == "in_review"
    )
    finops = call(client, tokens, "finops", "POST", f"/api/v1/use-cases/{uid}/approve", json={})
    assert finops.status_code == 403 and "approver" in finops.json()["error"]["message"]
    first = call(
        client, tokens, "approver", "POST", f"/api/v1/use-cases/{uid}/approve", json={"comment": "ok"}
    )
    assert first.json()["status"] == "in_review"
    again = call(client, tokens, "approver", "POST", f"/api/v1/use-cases/{uid}/approve", json={})
    assert again.status_code == 400 and "already" in again.json()["error"]["message"]
    second = call(client, tokens, "admin", "POST", f"/api/v1/use-cases/{uid}/approve", json={})
    assert second.json()["status"] == "approved"
    assert [d["reviewer"] for d in second.json()["review"]["decisions"]] == ["approver", "admin"]
    live = call(
        client, tokens, "team_owner", "POST", f"/api/v1/use-cases/{uid}/transition", json={"to": "live"}
    )
    assert live.json()["status"] == "live"
    log = call(client, tokens, "finops", "GET", "/api/v1/audit", params={"subject": f"use_case:{uid}"}).json()
    assert [e["action"] for e in reversed(log)] == [
        "use_case.create",
        "use_case.submit",
        "use_case.approve",
        "use_case.approve",
        "use_case.approved",
        "use_case.transition",
    ]
    assert call(client, tokens, "admin", "GET", "/api/v1/audit/verify").json()["ok"] is True


def test_low_risk_is_approved_on_submission(client, tokens):
    made = call(client, tokens, "finops", "POST", "/api/v1/use-cases", json=FAQ).json()
    assert made["risk"]["tier"] == "low" and made["review"]["automatic"]
    submitted = call(client, tokens, "finops", "POST", f"/api/v1/use-cases/{made['id']}/submit").json()
    assert submitted["status"] == "approved"
    retired = call(
        client, tokens, "finops", "POST", f"/api/v1/use-cases/{made['id']}/transition", json={"to": "retired"}
    )
    assert retired.json()["status"] == "retired"
    again = call(
        client, tokens, "finops", "POST", f"/api/v1/use-cases/{made['id']}/transition", json={"to": "live"}
    )
    assert again.status_code == 400 and "retired is final" in again.json()["error"]["message"]


def test_rejection_edit_and_resubmission_start_a_new_round(client, tokens):
    spec = {**FAQ, "name": "Claims summariser", "data_classes": ["regulated"]}
    uid = call(client, tokens, "team_owner", "POST", "/api/v1/use-cases", json=spec).json()["id"]
    call(client, tokens, "team_owner", "POST", f"/api/v1/use-cases/{uid}/submit")
    locked = call(client, tokens, "team_owner", "PATCH", f"/api/v1/use-cases/{uid}", json={"model": "gpt-4o"})
    assert locked.status_code == 400 and "model" in locked.json()["error"]["message"]
    links = call(
        client,
        tokens,
        "team_owner",
        "PATCH",
        f"/api/v1/use-cases/{uid}",
        json={"links": {"agents": ["summ"]}},
    )
    assert links.status_code == 200 and links.json()["links"]["agents"] == ["summ"]
    rejected = call(
        client, tokens, "approver", "POST", f"/api/v1/use-cases/{uid}/reject", json={"comment": "PHI"}
    )
    assert rejected.json()["status"] == "rejected"
    edited = call(
        client, tokens, "team_owner", "PATCH", f"/api/v1/use-cases/{uid}", json={"data_classes": ["internal"]}
    ).json()
    assert edited["risk"]["tier"] == "low"
    resubmitted = call(client, tokens, "team_owner", "POST", f"/api/v1/use-cases/{uid}/submit").json()
    assert (resubmitted["status"], resubmitted["review"]["round"]) == ("approved", 2)
    assert resubmitted["review"]["decisions"] == []


def test_proposers_cannot_approve_their_own(client, tokens):
    spec = {**FAQ, "name": "Finops forecaster", "data_classes": ["confidential"]}
    uid = call(client, tokens, "finops", "POST", "/api/v1/use-cases", json=spec).json()["id"]
    call(client, tokens, "finops", "POST", f"/api/v1/use-cases/{uid}/submit")
    own = call(client, tokens, "finops", "POST", f"/api/v1/use-cases/{uid}/approve", json={})
    assert own.status_code == 403 and "someone else" in own.json()["error"]["message"]
    assert call(client, tokens, "approver", "POST", f"/api/v1/use-cases/{uid}/approve", json={}).json()[
        "status"
    ] == ("approved")


def test_team_owners_see_and_change_only_their_teams(client, tokens):
    other = {**FAQ, "name": "Growth copy", "team": "growth"}
    assert call(client, tokens, "team_owner", "POST", "/api/v1/use-cases", json=other).status_code == 403
    uid = call(client, tokens, "finops", "POST", "/api/v1/use-cases", json=other).json()["id"]
    assert call(client, tokens, "team_owner", "GET", f"/api/v1/use-cases/{uid}").status_code == 404
    assert (
        call(
            client, tokens, "team_owner", "PATCH", f"/api/v1/use-cases/{uid}", json={"users": "x"}
        ).status_code
        == 404
    )
    teams = {c["team"] for c in call(client, tokens, "team_owner", "GET", "/api/v1/use-cases").json()}
    assert teams == {"search"}
    everyone = {c["team"] for c in call(client, tokens, "viewer", "GET", "/api/v1/use-cases").json()}
    assert {"search", "growth"} <= everyone
    mine = call(
        client, tokens, "team_owner", "POST", "/api/v1/use-cases", json={**FAQ, "name": "Mine"}
    ).json()
    move = call(
        client, tokens, "team_owner", "PATCH", f"/api/v1/use-cases/{mine['id']}", json={"team": "growth"}
    )
    assert move.status_code == 403
    assert call(client, tokens, "viewer", "POST", "/api/v1/use-cases", json=FAQ).status_code == 403


def test_actual_spend_beside_expected(client, tokens, this_month):
    spec = {**FAQ, "name": "Assist bot", "links": {"dimensions": {"product": "nw-assist"}}}
    uid = call(client, tokens, "finops", "POST", "/api/v1/use-cases", json=spec).json()["id"]
    spend = call(client, tokens, "viewer", "GET", f"/api/v1/use-cases/{uid}").json()["spend"]
    assert spend["actual_month_to_date"] == 9.0 and spend["expected_monthly_cost"] == 120.0
    assert spend["month"] == date.today().strftime("%Y-%m")
    scoped = call(client, tokens, "team_owner", "GET", f"/api/v1/use-cases/{uid}").json()["spend"]
    assert scoped["actual_month_to_date"] == 6.0
    bare = call(
        client, tokens, "finops", "POST", "/api/v1/use-cases", json={**FAQ, "name": "No links"}
    ).json()
    assert (
        call(client, tokens, "finops", "GET", f"/api/v1/use-cases/{bare['id']}").json()["spend"][
            "actual_month_to_date"
        ]
        is None
    )


def test_all_actuals_in_one_call_match_each_use_case(client, tokens, this_month):
    specs = [
        {
            **FAQ,
            "name": "Assist in search",
            "links": {"dimensions": {"product": "nw-assist", "team": "search"}},
        },
        {**FAQ, "name": "All of search", "links": {"dimensions": {"team": "search"}}},
        {**FAQ, "name": "Unlinked"},
    ]
    ids = [call(client, tokens, "finops", "POST", "/api/v1/use-cases", json=s).json()["id"] for s in specs]
    actuals = {
        a["id"]: a["actual_month_to_date"]
        for a in call(client, tokens, "viewer", "GET", "/api/v1/use-cases/actuals").json()
    }
    assert [actuals[i] for i in ids] == [6.0, 11.0, None]
    for uid in ids:
        one = call(client, tokens, "viewer", "GET", f"/api/v1/use-cases/{uid}").json()["spend"]
        assert one["actual_month_to_date"] == actuals[uid]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({**FAQ, "data_classes": ["secret"]}, "data_classes"),
        ({**FAQ, "autonomy": "full"}, "autonomy"),
        ({**FAQ, "expected_monthly_cost": "-1"}, "expected_monthly_cost"),
        ({**FAQ, "purpose": ""}, "purpose"),
        ({k: v for k, v in FAQ.items() if k != "owner"}, "owner"),
        ({**FAQ, "links": {"dimensions": {"bad name!": "x"}}}, "links"),
        ({**FAQ, "name": "nul\x00"}, "name"),
    ],
)
def test_invalid_intake_is_422_naming_the_field(client, tokens, body, field):
    reply = call(client, tokens, "finops", "POST", "/api/v1/use-cases", json=body)
    assert reply.status_code == 422
    assert field in reply.json()["detail"][0]["loc"]


def test_lifecycle_errors_name_the_allowed_moves(client, tokens):
    uid = call(client, tokens, "finops", "POST", "/api/v1/use-cases", json={**FAQ, "name": "Moves"}).json()[
        "id"
    ]
    live = call(client, tokens, "finops", "POST", f"/api/v1/use-cases/{uid}/transition", json={"to": "live"})
    assert live.status_code == 400 and "in_review, retired" in live.json()["error"]["message"]
    review = call(
        client, tokens, "finops", "POST", f"/api/v1/use-cases/{uid}/transition", json={"to": "approved"}
    )
    assert review.status_code == 400 and "review" in review.json()["error"]["message"]
    assert call(client, tokens, "finops", "GET", "/api/v1/use-cases/999999").status_code == 404
    rules = call(client, tokens, "viewer", "GET", "/api/v1/risk-rules").json()
    assert len(rules["rules"]) >= 10 and rules["reviews"][-1]["approvals_needed"] == 2


def test_nulls_in_an_edit_keep_the_value_and_huge_ids_are_422(client, tokens):
    uid = call(client, tokens, "finops", "POST", "/api/v1/use-cases", json={**FAQ, "name": "Nulls"}).json()[
        "id"
    ]
    edited = call(
        client,
        tokens,
        "finops",
        "PATCH",
        f"/api/v1/use-cases/{uid}",
        json={"data_classes": None, "users": "x"},
    )
    assert edited.status_code == 200 and edited.json()["data_classes"] == ["internal"]
    empty = call(client, tokens, "finops", "PATCH", f"/api/v1/use-cases/{uid}", json={"model": None})
    assert empty.status_code == 400 and "changes nothing" in empty.json()["error"]["message"]
    assert call(client, tokens, "finops", "GET", f"/api/v1/use-cases/{2**40}").status_code == 422
    assert call(client, tokens, "finops", "GET", "/api/v1/audit", params={"before": 2**70}).status_code == 422
