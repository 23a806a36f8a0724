"""Keys, kill switches and rate limits over REST, served by a real uvicorn on loopback."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from comptroller.config import Settings
from comptroller.gateway.snapshot import Snapshot
from comptroller.keys.snapshot_builder import snapshot_path
from tests.api.conftest import issue_token
from tests.keys.api_server import client, serve


@pytest.fixture
def api_settings(tmp_path) -> Settings:
    return Settings.from_env(tmp_path / "home")


@pytest.fixture
def server(api_settings) -> Iterator[str]:
    with serve(api_settings) as url:
        yield url


@pytest.fixture
def finops(server, api_settings) -> Iterator[httpx.Client]:
    with client(server, api_settings, "fin", ("finops",)) as c:
        yield c


def on_disk(settings: Settings) -> Snapshot:
    return Snapshot.model_validate_json(snapshot_path(settings).read_text())


def test_key_lifecycle(finops, api_settings):
    created = finops.post(
        "/api/v1/keys", json={"name": "bot", "attribution": {"team": "search"}, "models": ["gpt-4o"]}
    )
    assert created.status_code == 201
    body = created.json()
    secret, key = body["secret"], body["key"]
    assert secret.startswith("sk-cmp-") and key["prefix"] == secret[7:11] and key["created_by"] == "user:fin"
    assert on_disk(api_settings).version == body["snapshot"]["version"]
    listed = finops.get("/api/v1/keys")
    assert listed.status_code == 200 and secret not in listed.text
    assert [k["id"] for k in listed.json()] == [key["id"]]
    revoked = finops.delete(f"/api/v1/keys/{key['id']}")
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert on_disk(api_settings).keys[0].revoked
    assert finops.delete("/api/v1/keys/nope").status_code == 404


def test_kill_switch_and_rate_limit_round_trip(finops, api_settings):
    engaged = finops.post(
        "/api/v1/kill-switches",
        json={"scope": "workflow", "scope_value": "nightly-etl", "reason": "cost spike"},
    )
    assert engaged.status_code == 201
    switch = engaged.json()
    assert [k.id for k in on_disk(api_settings).kill_switches] == [switch["id"]]
    assert [s["id"] for s in finops.get("/api/v1/kill-switches").json()] == [switch["id"]]
    released = finops.post(f"/api/v1/kill-switches/{switch['id']}/release")
    assert released.status_code == 200 and released.json()["engaged"] is False
    assert on_disk(api_settings).kill_switches == []
    assert finops.get("/api/v1/kill-switches").json() == []
    assert len(finops.get("/api/v1/kill-switches", params={"all": "true"}).json()) == 1

    limit = finops.post(
        "/api/v1/rate-limits", json={"scope": "team", "scope_value": "search", "requests_per_minute": 5}
    )
    assert limit.status_code == 201
    limit_id = limit.json()["id"]
    changed = finops.put(
        f"/api/v1/rate-limits/{limit_id}",
        json={"scope": "team", "scope_value": "search", "max_concurrent": 2},
    )
    assert changed.json()["max_concurrent"] == 2 and changed.json()["requests_per_minute"] is None
    assert on_disk(api_settings).rate_limits[0].max_concurrent == 2
    assert finops.delete(f"/api/v1/rate-limits/{limit_id}").status_code == 204
    assert finops.get("/api/v1/rate-limits").json() == []
    published = finops.post("/api/v1/gateway-snapshot/publish").json()
    assert published["version"] == on_disk(api_settings).version


def test_bad_bodies_are_4xx_naming_the_field(finops):
    unknown_dim = finops.post("/api/v1/keys", json={"name": "x", "attribution": {"colour": "red"}})
    assert unknown_dim.status_code == 422
    assert unknown_dim.json()["detail"][0]["loc"] == ["body", "attribution"]
    no_limit = finops.post("/api/v1/rate-limits", json={"scope": "team", "scope_value": "x"})
    assert no_limit.status_code == 422 and "requests_per_minute" in no_limit.json()["detail"][0]["msg"]
    twice = {"scope": "agent", "scope_value": "a", "reason": "r"}
    assert finops.post("/api/v1/kill-switches", json=twice).status_code == 201
    again = finops.post("/api/v1/kill-switches", json=twice)
    assert again.status_code == 400 and again.json()["error"]["message"].startswith("scope_value: ")
    missing = finops.post("/api/v1/kill-switches", json={"scope": "agent", "scope_value": "a"})
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "reason"]


def test_only_finops_and_admins_change_gateway_control(server, api_settings):
    owner_token = issue_token(api_settings, "sam", ("team_owner",), ("search",))
    assert httpx.get(f"{server}/api/v1/keys").status_code == 401
    with client(server, api_settings, "val", ("viewer",)) as viewer:
        assert viewer.get("/api/v1/keys").status_code == 200
        assert viewer.post("/api/v1/keys", json={"name": "x"}).status_code == 403
        assert (
            viewer.post(
                "/api/v1/kill-switches", json={"scope": "team", "scope_value": "a", "reason": "r"}
            ).status_code
            == 403
        )
        assert viewer.post("/api/v1/gateway-snapshot/publish").status_code == 403
    with client(server, api_settings, "root", ("admin",)) as admin:
        assert admin.post("/api/v1/keys", json={"name": "x"}).status_code == 201
        for team in ("search", "growth"):
            admin.post("/api/v1/keys", json={"name": team, "attribution": {"team": team}})
    with httpx.Client(base_url=server, headers={"Authorization": f"Bearer {owner_token}"}) as owner:
        assert [k["name"] for k in owner.get("/api/v1/keys").json()] == ["search"]
        assert owner.delete("/api/v1/keys/any").status_code == 403
