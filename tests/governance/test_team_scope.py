"""A team owner reads only their teams' spend; global readers see all of it."""

from __future__ import annotations

import pytest

from comptroller.context import Context
from comptroller.governance import users
from comptroller.ingest.focus_ingest import ingest_focus
from tests.export.test_focus_export import focus_csv
from tests.governance.conftest import bearer


@pytest.fixture(scope="module")
def spend_data(gov_settings, tmp_path_factory) -> None:
    rows = [
        ("10", "Atlas", "i-1", '{"team":"search"}'),
        ("7", "Atlas", "i-2", '{"team":"growth"}'),
        ("4", "Orion", "i-3", '{"team":"search"}'),
        ("2", "Orion", "i-4", ""),
    ]
    with Context(gov_settings) as ctx:
        ingest_focus(ctx.ledger, [focus_csv(tmp_path_factory.mktemp("focus") / "aws.csv", rows)])


@pytest.fixture(scope="module")
def two_team_owner(gov_settings, tokens) -> str:
    with Context(gov_settings) as ctx, ctx.state.session() as s, s.begin():
        users.create_user(s, "both", actor="test", roles=["team_owner"], teams=["search", "growth"])
        return users.create_token(s, "both", actor="test").secret


def spend(client, token: str, **params: str) -> dict:
    reply = client.get("/api/v1/spend", params=params, headers=bearer(token))
    assert reply.status_code == 200, reply.text
    return reply.json()


def test_global_readers_see_every_team(client, tokens, spend_data):
    for role in ("viewer", "finops", "approver", "admin"):
        assert spend(client, tokens[role])["total"] == 23.0


def test_a_team_owner_sees_only_their_team(client, tokens, spend_data):
    by_team = spend(client, tokens["team_owner"], by="team")
    assert by_team["rows"] == [{"team": "search", "cost": 14.0}] and by_team["total"] == 14.0
    by_account = spend(client, tokens["team_owner"], by="SubAccountName")
    assert {r["SubAccountName"]: r["cost"] for r in by_account["rows"]} == {"Atlas": 10.0, "Orion": 4.0}
    assert spend(client, tokens["team_owner"], filter="team=search")["total"] == 14.0
    other = client.get(
        "/api/v1/spend", params={"filter": "team=growth"}, headers=bearer(tokens["team_owner"])
    )
    assert other.status_code == 403 and "growth" in other.json()["error"]["message"]
    untagged = client.get("/api/v1/spend", params={"filter": "team="}, headers=bearer(tokens["team_owner"]))
    assert untagged.status_code == 403


def test_several_teams_are_summed_without_double_counting(client, two_team_owner, spend_data):
    by_account = spend(client, two_team_owner, by="SubAccountName")
    assert {r["SubAccountName"]: r["cost"] for r in by_account["rows"]} == {"Atlas": 17.0, "Orion": 4.0}
    assert by_account["total"] == 21.0
    assert spend(client, two_team_owner, by="team")["rows"] == [
        {"team": "search", "cost": 14.0},
        {"team": "growth", "cost": 7.0},
    ]


def test_cross_team_views_are_closed_to_team_owners(client, tokens, spend_data):
    for path in ("/api/v1/coverage", "/api/v1/unowned", "/api/v1/deliveries"):
        assert client.get(path, headers=bearer(tokens["team_owner"])).status_code == 403
        assert client.get(path, headers=bearer(tokens["viewer"])).status_code == 200


def test_rule_writes_need_finops(client, tokens, spend_data):
    rule = {"dimension": "team", "value": "search", "condition": "SubAccountName = 'Orion'"}
    for role in ("viewer", "team_owner", "approver"):
        assert client.post("/api/v1/rules", json=rule, headers=bearer(tokens[role])).status_code == 403
    made = client.post("/api/v1/rules", json=rule, headers=bearer(tokens["finops"]))
    assert made.status_code == 201
    assert (
        client.delete(f"/api/v1/rules/{made.json()['id']}", headers=bearer(tokens["finops"])).status_code
        == 204
    )
    log = client.get("/api/v1/audit", params={"action": "rule."}, headers=bearer(tokens["finops"])).json()
    assert [e["action"] for e in log] == ["rule.delete", "rule.create"]
    assert log[1]["detail"]["condition"] == "SubAccountName = 'Orion'" and log[0]["actor"] == "user:finops"


def test_an_ingest_token_sends_traces_and_reads_nothing(client, tokens, spend_data):
    assert client.get("/api/v1/spend", headers=bearer(tokens["ingest"])).status_code == 403
    empty = {"resourceSpans": []}
    assert client.post("/v1/traces", json=empty, headers=bearer(tokens["ingest"])).status_code == 200
    assert client.post("/v1/traces", json=empty).status_code == 401
    assert client.post("/v1/traces", json=empty, headers=bearer(tokens["viewer"])).status_code == 403
