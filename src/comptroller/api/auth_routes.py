"""``/api/v1/auth`` (login, logout, me), ``/api/v1/users`` and ``/api/v1/tokens``."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any

from fastapi import APIRouter, HTTPException, Response
from pydantic import BaseModel, ConfigDict, Field

from comptroller.api.auth import CurrentPrincipal, Principal, StateSession, public, require
from comptroller.governance import audit, users
from comptroller.governance.rbac import Role, TokenScope

router = APIRouter(prefix="/api/v1", tags=["auth"])
Admin = Annotated[Principal, require(Role.ADMIN)]


class LoginBody(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64)
    password: str = Field(min_length=1, max_length=1024)


class NewUser(BaseModel):
    model_config = ConfigDict(extra="forbid")
    username: str = Field(min_length=1, max_length=64, pattern=users.USERNAME.pattern)
    password: str | None = Field(default=None, min_length=8, max_length=1024)
    roles: list[Role] = Field(default_factory=list, max_length=5)
    teams: list[Annotated[str, Field(pattern=users.TEAM.pattern)]] = Field(
        default_factory=list, max_length=100
    )


class AccessChange(BaseModel):
    model_config = ConfigDict(extra="forbid")
    roles: list[Role] = Field(default_factory=list, max_length=5)
    teams: list[Annotated[str, Field(pattern=users.TEAM.pattern)]] = Field(
        default_factory=list, max_length=100
    )


class NewToken(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str = Field(default="", max_length=128)
    scope: TokenScope = TokenScope.ALL
    username: str | None = Field(default=None, max_length=64, description="Admins only: whose token.")
    expires_days: int | None = Field(default=None, ge=1, le=3650)


@router.post("/auth/login", dependencies=[public()])
def login(body: LoginBody, session: StateSession) -> dict[str, Any]:
    """Exchange a username and password for a session token (valid 12 hours)."""
    with session.begin():
        issued = users.login(session, body.username, body.password)
        if issued is None:
            raise HTTPException(401, detail="username or password is wrong")
        principal = users.authenticate(session, issued.secret)
    assert principal is not None and issued.credential.expires_at is not None
    return {
        "token": issued.secret,
        "token_type": "bearer",
        "expires_at": issued.credential.expires_at.isoformat() + "Z",
        "principal": principal.as_json(),
    }


@router.post("/auth/logout", status_code=204)
def logout(principal: CurrentPrincipal, session: StateSession) -> Response:
    """End the session the request was made with; API tokens are revoked at /tokens instead."""
    if principal.credential_kind != "session":
        raise HTTPException(
            400, detail="logout ends login sessions; revoke API tokens with DELETE /api/v1/tokens/{id}"
        )
    with session.begin():
        users.end_session(session, principal.credential_id)
        audit.record(
            session, actor=principal.actor, action="auth.logout", subject=f"user:{principal.username}"
        )
    return Response(status_code=204)


@router.get("/auth/me")
def me(principal: CurrentPrincipal) -> dict[str, Any]:
    return principal.as_json()


@router.get("/users")
def list_users(_: Admin, session: StateSession) -> list[dict[str, Any]]:
    return [users.user_json(u) for u in users.list_users(session)]


@router.post("/users", status_code=201)
def create_user(body: NewUser, principal: Admin, session: StateSession) -> dict[str, Any]:
    with session.begin():
        user = users.create_user(
            session,
            body.username,
            actor=principal.actor,
            password=body.password,
            roles=[r.value for r in body.roles],
            teams=body.teams,
        )
        return users.user_json(user)


@router.get("/users/{username}")
def get_user(username: str, _: Admin, session: StateSession) -> dict[str, Any]:
    return users.user_json(users.get_user(session, username))


@router.post("/users/{username}/grant")
def grant(username: str, body: AccessChange, principal: Admin, session: StateSession) -> dict[str, Any]:
    with session.begin():
        user = users.change_access(
            session,
            username,
            actor=principal.actor,
            grant=True,
            roles=[r.value for r in body.roles],
            teams=body.teams,
        )
        return users.user_json(user)


@router.post("/users/{username}/revoke")
def revoke(username: str, body: AccessChange, principal: Admin, session: StateSession) -> dict[str, Any]:
    with session.begin():
        user = users.change_access(
            session,
            username,
            actor=principal.actor,
            grant=False,
            roles=[r.value for r in body.roles],
            teams=body.teams,
        )
        return users.user_json(user)


@router.post("/users/{username}/disable")
def disable(username: str, principal: Admin, session: StateSession) -> dict[str, Any]:
    """Stop a user's tokens and sessions at once, keeping the user and their audit trail."""
    if username == principal.username:
        raise HTTPException(400, detail="username: you cannot disable yourself")
    with session.begin():
        return users.user_json(users.set_disabled(session, username, True, actor=principal.actor))


@router.post("/users/{username}/enable")
def enable(username: str, principal: Admin, session: StateSession) -> dict[str, Any]:
    with session.begin():
        return users.user_json(users.set_disabled(session, username, False, actor=principal.actor))


@router.get("/tokens")
def list_tokens(
    principal: CurrentPrincipal, session: StateSession, username: str | None = None
) -> list[dict[str, Any]]:
    """Your own API tokens; an admin sees everyone's (or one user's with ``username``)."""
    if not principal.has_role(Role.ADMIN):
        username = principal.username
    return [users.token_json(c, name) for c, name in users.list_tokens(session, username)]


@router.post("/tokens", status_code=201)
def create_token(body: NewToken, principal: CurrentPrincipal, session: StateSession) -> dict[str, Any]:
    """A new API token; its secret is in this response only. It carries its user's roles."""
    owner = body.username or principal.username
    if owner != principal.username and not principal.has_role(Role.ADMIN):
        raise HTTPException(403, detail="username: only an admin may create tokens for another user")
    with session.begin():
        issued = users.create_token(
            session,
            owner,
            actor=principal.actor,
            name=body.name,
            scope=body.scope,
            expires_in=timedelta(days=body.expires_days) if body.expires_days else None,
        )
        return {**users.token_json(issued.credential, owner), "token": issued.secret}


@router.delete("/tokens/{token_id}", status_code=204)
def revoke_token(token_id: str, principal: CurrentPrincipal, session: StateSession) -> Response:
    mine_only = None if principal.has_role(Role.ADMIN) else principal.username
    with session.begin():
        users.revoke_token(session, token_id, actor=principal.actor, username=mine_only)
    return Response(status_code=204)
