"""Inventory and the unowned queue over HTTP: shadow AI found, registered, and spend assigned."""

from __future__ import annotations

import httpx

from tests.api.conftest import issue_token


def inventory(api, **params) -> dict[tuple[str, str], dict]:
    response = api.get("/api/v1/inventory", params=params)
    assert response.status_code == 200, response.text
    return {(i["kind"], i["name"]): i for i in response.json()}


def test_a_registered_use_case_turns_shadow_ai_into_known(api):
    found = inventory(api)
    assert found[("vendor", "AWS")]["status"] == "unregistered"
    assert found[("vendor", "AWS")]["spend"] == 15
    assert found[("product", "Amazon EC2")]["shadow"] is True
    summary = {s["kind"]: s for s in api.get("/api/v1/inventory/summary").json()}
    assert summary["vendor"] == {
        "kind": "vendor", "found": 1, "registered": 0, "in_review": 0, "unregistered": 1, "unregistered_spend": 15.0,
    }  # fmt: skip

    created = api.post(
        "/api/v1/use-cases",
        json={"name": "GPU batch scoring", "purpose": "Nightly scoring", "owner": "dana", "team": "growth",
              "vendor": "AWS", "model": "in-house"},
    )  # fmt: skip
    assert created.status_code == 201, created.text
    use_case = created.json()["id"]
    assert inventory(api)[("vendor", "AWS")]["status"] == "in_review"
    submitted = api.post(f"/api/v1/use-cases/{use_case}/submit")
    assert submitted.status_code == 200, submitted.text
    assert submitted.json()["status"] == "approved"  # low risk: approved on submission

    now = inventory(api)
    assert now[("vendor", "AWS")]["status"] == "registered"
    assert now[("vendor", "AWS")]["use_cases"] == [str(use_case)]
    assert now[("product", "Amazon EC2")]["status"] == "registered"  # through its vendor
    assert inventory(api, status="unregistered") == {}


def test_inventory_is_for_global_readers(server, settings):
    assert httpx.get(server + "/api/v1/inventory").status_code == 401
    owner = issue_token(settings, "tess", ("team_owner",), ("growth",))
    denied = httpx.get(server + "/api/v1/inventory", headers={"Authorization": f"Bearer {owner}"})
    assert denied.status_code == 403
    viewer = issue_token(settings, "vic", ("viewer",))
    assert (
        httpx.get(server + "/api/v1/inventory", headers={"Authorization": f"Bearer {viewer}"}).status_code
        == 200
    )


def test_assigning_a_queue_row_owns_its_spend_and_is_audited(api):
    queue = api.get("/api/v1/unowned").json()
    before = sum(row["cost"] for row in queue)
    atlas = next(row for row in queue if row["SubAccountName"] == "Atlas Nimbus")

    response = api.post(
        "/api/v1/unowned/assign", json={"match": {"SubAccountName": "Atlas Nimbus"}, "value": "dana"}
    )
    assert response.status_code == 201, response.text
    body = response.json()
    assert body["rule"]["dimension"] == "owner" and body["rule"]["value"] == "dana"
    assert body["unowned_cost"] == before - atlas["cost"]
    assert all(row["SubAccountName"] != "Atlas Nimbus" for row in api.get("/api/v1/unowned").json())
    assert body["rule"]["id"] in [r["id"] for r in api.get("/api/v1/rules").json()]
    audited = api.get("/api/v1/audit", params={"action": "unowned."}).json()
    assert [e["subject"] for e in audited] == [f"rule:{body['rule']['id']}"]


def test_bad_assignments_name_the_problem(api, server, settings):
    empty = api.post("/api/v1/unowned/assign", json={"match": {}, "value": "dana"})
    assert empty.status_code == 422 and "match" in empty.text
    unknown = api.post("/api/v1/unowned/assign", json={"match": {"NoSuchColumn": "x"}, "value": "dana"})
    assert unknown.status_code == 400 and "NoSuchColumn" in unknown.text
    viewer = issue_token(settings, "vic", ("viewer",))
    denied = httpx.post(
        server + "/api/v1/unowned/assign",
        json={"match": {"SubAccountName": "Orion"}, "value": "x"},
        headers={"Authorization": f"Bearer {viewer}"},
    )
    assert denied.status_code == 403
