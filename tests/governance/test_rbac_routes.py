"""Every route of the app denies what it should: anonymous calls get 401, principals without
a required role get 403. Routes are found by walking the app, so a route added later is
checked too, and a route that declares no policy (``require`` or ``public``) fails."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import timedelta

import pytest
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute, RouteContext, iter_route_contexts

from comptroller.api.auth import ingest_allowed, is_public, policy_of
from comptroller.context import Context
from comptroller.governance import users
from comptroller.governance.models import Credential
from comptroller.governance.rbac import Role
from comptroller.state.models import utcnow
from tests.governance.conftest import PRINCIPALS, bearer

UNPRIVILEGED = [name for name in PRINCIPALS if name != "admin"]


@dataclass(frozen=True)
class Policy:
    public: bool
    roles: frozenset[str] | None
    """Roles admitted (empty: any signed-in principal); None when the route declares nothing."""
    ingest: bool


def policy(route: RouteContext) -> Policy:
    found: list[frozenset[str]] = []
    public = ingest = False
    stack: list[Dependant] = [route.dependant]
    while stack:
        dep = stack.pop()
        if dep.call is not None:
            public |= is_public(dep.call)
            if (roles := policy_of(dep.call)) is not None:
                found.append(roles)
                ingest |= ingest_allowed(dep.call)
        stack.extend(dep.dependencies)
    if not found:
        return Policy(public, None, False)
    named = [r for r in found if r]
    roles = frozenset.intersection(*named) if named else frozenset()
    return Policy(public, roles, ingest)


def routes(app) -> list[tuple[str, str, RouteContext]]:
    """Every API route with its effective dependencies, included routers flattened."""
    return sorted(
        (
            (method, r.path, r)
            for r in iter_route_contexts(app.routes)
            if isinstance(r.original_route, APIRoute)
            for method in r.methods or ()
        ),
        key=lambda t: (t[1], t[0]),
    )


def concrete(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


def test_every_route_declares_a_policy(gov_app):
    undeclared = [
        f"{m} {p}" for m, p, r in routes(gov_app) if not policy(r).public and policy(r).roles is None
    ]
    assert not undeclared, f"routes with neither require(...) nor public(): {undeclared}"


def test_the_openapi_document_lists_only_walked_routes(gov_app):
    walked = {(m.lower(), p) for m, p, _ in routes(gov_app)}
    documented = {(m, p) for p, ops in gov_app.openapi()["paths"].items() for m in ops}
    assert documented <= walked


def test_every_route_denies_what_it_should(gov_app, client, tokens):
    """Only denials are requested here (they are cheap); admitted principals doing real work is
    what the schemathesis run checks, as admin."""
    failures = []
    for method, path, route in routes(gov_app):
        rule = policy(route)
        if rule.public or rule.roles is None:
            continue
        url = concrete(path)
        anonymous = client.request(method, url)
        if anonymous.status_code != 401:
            failures.append(f"{method} {path} anonymous: {anonymous.status_code}, expected 401")
        for name in UNPRIVILEGED:
            roles = PRINCIPALS[name][0]
            admitted = not rule.roles or any(r in rule.roles for r in roles)
            if admitted:
                continue
            got = client.request(method, url, headers=bearer(tokens[name])).status_code
            if got != 403:
                failures.append(f"{method} {path} as {name}: {got}, expected 403")
        if not rule.ingest:
            got = client.request(method, url, headers=bearer(tokens["ingest"])).status_code
            if got != 403:
                failures.append(f"{method} {path} with an ingest token: {got}, expected 403")
    assert not failures, "\n".join(failures)


def test_unknown_revoked_and_expired_credentials_are_401(client, tokens, gov_settings):
    for secret in ("cmp_not-a-real-token", "cms_nope", "plainly-wrong", tokens["admin"] + "x"):
        assert client.get("/api/v1/auth/me", headers=bearer(secret)).status_code == 401
    with Context(gov_settings) as ctx, ctx.state.session() as s, s.begin():
        gone = users.create_token(s, "viewer", actor="test")
        users.revoke_token(s, gone.credential.id, actor="test")
        old = users.create_token(s, "viewer", actor="test", expires_in=timedelta(seconds=1))
        s.get(Credential, old.credential.id).expires_at = utcnow() - timedelta(seconds=1)
    for issued in (gone, old):
        reply = client.get("/api/v1/auth/me", headers=bearer(issued.secret))
        assert reply.status_code == 401 and reply.headers["www-authenticate"] == "Bearer"
    assert client.get("/api/v1/auth/me", headers={"Authorization": "Basic abc"}).status_code == 401


@pytest.mark.parametrize("path", ["/healthz"])
def test_public_routes_need_no_credentials(client, path):
    assert client.get(path).status_code == 200


def test_roles_cover_the_documented_set():
    assert {r.value for r in Role} == {"admin", "finops", "approver", "team_owner", "viewer"}
