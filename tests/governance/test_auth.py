"""Login sessions, API tokens and users through the API; secrets stored only as hashes."""

from __future__ import annotations

from sqlalchemy import select

from comptroller.context import Context
from comptroller.governance.models import Credential
from comptroller.governance.passwords import check_password, hash_password
from comptroller.governance.users import hash_secret
from tests.governance.conftest import bearer


def test_passwords_are_salted_scrypt():
    first, second = hash_password("correct horse"), hash_password("correct horse")
    assert first != second and first.startswith("scrypt$16384$8$1$")
    assert check_password("correct horse", first) and not check_password("wrong horse", first)
    assert not check_password("x", None) and not check_password("x", "md5$abc")


def test_login_me_logout(client, gov_settings):
    bad = client.post("/api/v1/auth/login", json={"username": "viewer", "password": "nope"})
    assert bad.status_code == 401
    unknown = client.post("/api/v1/auth/login", json={"username": "ghost", "password": "nope"})
    assert unknown.json() == bad.json()
    reply = client.post(
        "/api/v1/auth/login", json={"username": "team_owner", "password": "team_owner-password"}
    )
    assert reply.status_code == 200
    body = reply.json()
    assert body["token"].startswith("cms_") and body["principal"]["teams"] == ["search"]
    me = client.get("/api/v1/auth/me", headers=bearer(body["token"])).json()
    assert (me["username"], me["roles"], me["credential"]["kind"]) == (
        "team_owner",
        ["team_owner"],
        "session",
    )
    with Context(gov_settings) as ctx, ctx.state.session() as s:
        stored = s.scalar(select(Credential).where(Credential.id == me["credential"]["id"]))
        assert stored.token_hash == hash_secret(body["token"]) and body["token"] not in stored.token_hash
        assert stored.expires_at is not None
    assert client.post("/api/v1/auth/logout", headers=bearer(body["token"])).status_code == 204
    assert client.get("/api/v1/auth/me", headers=bearer(body["token"])).status_code == 401


def test_logout_with_an_api_token_says_how_to_revoke(client, tokens):
    reply = client.post("/api/v1/auth/logout", headers=bearer(tokens["viewer"]))
    assert reply.status_code == 400 and "/api/v1/tokens" in reply.json()["detail"]


def test_login_body_errors_name_the_field(client):
    reply = client.post("/api/v1/auth/login", json={"username": "viewer"})
    assert reply.status_code == 422 and reply.json()["detail"][0]["loc"] == ["body", "password"]


def test_tokens_are_shown_once_and_belong_to_their_user(client, tokens, gov_settings):
    made = client.post("/api/v1/tokens", json={"name": "notebook"}, headers=bearer(tokens["viewer"]))
    assert made.status_code == 201 and made.json()["token"].startswith("cmp_")
    secret, token_id = made.json()["token"], made.json()["id"]
    assert client.get("/api/v1/auth/me", headers=bearer(secret)).json()["username"] == "viewer"
    mine = client.get("/api/v1/tokens", headers=bearer(tokens["viewer"])).json()
    assert {t["username"] for t in mine} == {"viewer"} and all("token" not in t for t in mine)
    assert token_id in {t["id"] for t in mine}
    everyone = client.get("/api/v1/tokens", headers=bearer(tokens["admin"])).json()
    assert {"admin", "viewer", "finops"} <= {t["username"] for t in everyone}
    for_other = client.post("/api/v1/tokens", json={"username": "admin"}, headers=bearer(tokens["viewer"]))
    assert for_other.status_code == 403 and "username" in for_other.json()["detail"]
    finops_token = next(t["id"] for t in everyone if t["username"] == "finops")
    assert (
        client.delete(f"/api/v1/tokens/{finops_token}", headers=bearer(tokens["viewer"])).status_code == 404
    )
    assert client.delete(f"/api/v1/tokens/{token_id}", headers=bearer(tokens["viewer"])).status_code == 204
    assert client.get("/api/v1/auth/me", headers=bearer(secret)).status_code == 401
    with Context(gov_settings) as ctx, ctx.state.session() as s:
        hashes = set(s.scalars(select(Credential.token_hash)))
    assert secret not in hashes and hash_secret(secret) in hashes


def test_admin_manages_users_and_every_change_is_audited(client, tokens):
    admin = bearer(tokens["admin"])
    made = client.post(
        "/api/v1/users",
        json={"username": "dana", "password": "dana-password", "roles": ["team_owner"], "teams": ["growth"]},
        headers=admin,
    )
    assert made.status_code == 201 and made.json()["teams"] == ["growth"]
    dup = client.post("/api/v1/users", json={"username": "dana"}, headers=admin)
    assert dup.status_code == 400 and "dana" in dup.json()["error"]["message"]
    bad_role = client.post("/api/v1/users", json={"username": "eve", "roles": ["root"]}, headers=admin)
    assert bad_role.status_code == 422 and bad_role.json()["detail"][0]["loc"][:2] == ["body", "roles"]
    bad_name = client.post("/api/v1/users", json={"username": "Eve Smith"}, headers=admin)
    assert bad_name.status_code == 422 and bad_name.json()["detail"][0]["loc"] == ["body", "username"]
    granted = client.post(
        "/api/v1/users/dana/grant", json={"roles": ["viewer"], "teams": ["search"]}, headers=admin
    )
    assert granted.json()["roles"] == ["team_owner", "viewer"] and granted.json()["teams"] == [
        "growth",
        "search",
    ]
    revoked = client.post("/api/v1/users/dana/revoke", json={"teams": ["growth"]}, headers=admin)
    assert revoked.json()["teams"] == ["search"]
    assert (
        client.post("/api/v1/users/nobody/grant", json={"roles": ["viewer"]}, headers=admin).status_code
        == 404
    )
    log = client.get(
        "/api/v1/audit", params={"subject": "user:dana"}, headers=bearer(tokens["finops"])
    ).json()
    assert [e["action"] for e in log] == ["user.revoke", "user.grant", "user.create"]
    assert all(e["actor"] == "user:admin" for e in log)
    assert client.get("/api/v1/audit/verify", headers=admin).json()["ok"] is True


def test_disabled_users_cannot_sign_in(client, tokens):
    admin = bearer(tokens["admin"])
    login = {"username": "approver", "password": "approver-password"}
    session = client.post("/api/v1/auth/login", json=login).json()["token"]
    assert client.post("/api/v1/users/approver/disable", headers=admin).json()["disabled"] is True
    try:
        assert client.post("/api/v1/auth/login", json=login).status_code == 401
        assert client.get("/api/v1/auth/me", headers=bearer(tokens["approver"])).status_code == 401
        assert client.get("/api/v1/auth/me", headers=bearer(session)).status_code == 401
        assert client.post("/api/v1/users/admin/disable", headers=admin).status_code == 400
    finally:
        assert client.post("/api/v1/users/approver/enable", headers=admin).json()["disabled"] is False
    assert client.get("/api/v1/auth/me", headers=bearer(tokens["approver"])).status_code == 200
    assert client.get("/api/v1/auth/me", headers=bearer(session)).status_code == 401
