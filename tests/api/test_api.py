"""The API served by a real uvicorn server on loopback."""

from __future__ import annotations

import httpx


def test_health_and_console(server):
    assert httpx.get(f"{server}/healthz").json()["status"] == "ok"
    page = httpx.get(server)
    assert page.status_code == 200 and "Comptroller" in page.text


def test_spend_and_rules_round_trip(api):
    spend = api.get("/api/v1/spend", params={"by": "team"}).json()
    assert spend["total"] == 15.0
    created = api.post(
        "/api/v1/rules",
        json={"dimension": "team", "value": "search", "condition": "SubAccountName = 'Atlas Nimbus'"},
    )
    assert created.status_code == 201
    rows = api.get("/api/v1/spend", params={"by": "team"}).json()["rows"]
    assert {"team": "search", "cost": 10.0} in rows
    assert api.delete(f"/api/v1/rules/{created.json()['id']}").status_code == 204
    assert api.delete("/api/v1/rules/999").status_code == 404


def test_bad_requests_are_4xx_naming_the_problem(api):
    bad_dim = api.get("/api/v1/spend", params={"by": "colour"})
    assert bad_dim.status_code == 400 and "colour" in bad_dim.json()["error"]["message"]
    bad_rule = api.post("/api/v1/rules", json={"dimension": "team", "value": "x", "condition": "nosuch = 1"})
    assert bad_rule.status_code == 400 and "nosuch" in bad_rule.json()["error"]["message"]
    bad_dim_rule = api.post("/api/v1/rules", json={"dimension": "colour", "value": "x", "condition": "1 = 1"})
    assert bad_dim_rule.status_code == 422


def test_deliveries_and_coverage(api):
    cov = {r["dimension"]: r for r in api.get("/api/v1/coverage").json()}
    assert cov["team"]["covered_cost"] == 5.0 and cov["team"]["total_cost"] == 15.0
    unowned = api.get("/api/v1/unowned").json()
    assert sum(r["cost"] for r in unowned) == 15.0
