"""Who is calling, and may they: FastAPI dependencies every protected endpoint declares.

Credentials arrive as ``Authorization: Bearer <secret>``: an API token (``cmp_...``) or a login
session (``cms_...``). ``require(*roles)`` answers 401 for absent or invalid credentials and 403
for a principal without any of the roles; admin passes every check. The roles an endpoint
requires are attached to its dependency (``ROLE_POLICY``), so tests can walk every route and
check it denies what it should.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import Depends, HTTPException, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy.orm import Session

from comptroller.governance.rbac import Principal, Role, TokenScope
from comptroller.governance.users import authenticate
from comptroller.state.db import StateDB

__all__ = ["CurrentPrincipal", "Principal", "Role", "public", "require", "state_session"]

_bearer = HTTPBearer(auto_error=False, description="An API token (cmp_...) or a session token (cms_...).")
_lock = threading.Lock()
ROLE_POLICY = "__comptroller_roles__"
"""Attribute on a ``require`` dependency: the roles it admits (empty: any signed-in principal)."""
INGEST_POLICY = "__comptroller_ingest__"


def app_state_db(request: Request) -> StateDB:
    """One state database per app: its engine pools connections across requests, and the
    migration check runs once rather than on every authenticated call."""
    app_state = request.app.state
    db = getattr(app_state, "state_db", None)
    if db is None:
        with _lock:
            db = getattr(app_state, "state_db", None)
            if db is None:
                db = StateDB(app_state.settings.state_url)
                app_state.state_db = db
    return db


def state_session(request: Request) -> Iterator[Session]:
    """A state session for one request; the caller commits what it changes."""
    with app_state_db(request).session() as session:
        yield session


StateSession = Annotated[Session, Depends(state_session)]


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, detail=message, headers={"WWW-Authenticate": "Bearer"})


def principal_from_request(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(_bearer)],
) -> Principal:
    """The authenticated principal; 401 when the header is absent, malformed or not valid."""
    cached = getattr(request.state, "principal", None)
    if isinstance(cached, Principal):
        return cached
    if credentials is None:
        raise _unauthorized("sign in: send Authorization: Bearer <API token or session token>")
    with app_state_db(request).session() as session, session.begin():
        principal = authenticate(session, credentials.credentials)
    if principal is None:
        raise _unauthorized("the bearer token is unknown, revoked or expired")
    request.state.principal = principal
    return principal


def require(*roles: str, ingest: bool = False) -> Any:
    """A dependency admitting principals with any of ``roles`` (none named: any signed-in
    principal). Ingest-scoped tokens pass only where ``ingest`` is True.

    Use as ``dependencies=[require(Role.FINOPS)]`` or ``p: Annotated[Principal, require(...)]``.
    """
    allowed = frozenset(Role(r).value for r in roles)

    def check(principal: Annotated[Principal, Depends(principal_from_request)]) -> Principal:
        if principal.scope == TokenScope.INGEST and not ingest:
            raise HTTPException(403, detail="this token may only send telemetry (scope ingest)")
        if allowed and not principal.has_role(*allowed):
            need = " or ".join(sorted(allowed | {Role.ADMIN.value}))
            raise HTTPException(403, detail=f"this needs the role {need}")
        return principal

    setattr(check, ROLE_POLICY, allowed)
    setattr(check, INGEST_POLICY, ingest)
    return Depends(check)


PUBLIC_POLICY = "__comptroller_public__"


def _open_to_all() -> None:
    """Declares a route open on purpose (health, login); it checks nothing."""


setattr(_open_to_all, PUBLIC_POLICY, True)


def public() -> Any:
    """``dependencies=[public()]``: this route needs no credentials. Every route declares either
    this or a ``require``; the RBAC test fails for a route that declares neither."""
    return Depends(_open_to_all)


def policy_of(dependency: Callable[..., Any]) -> frozenset[str] | None:
    """The roles a ``require`` dependency admits, or None if ``dependency`` is not one."""
    return getattr(dependency, ROLE_POLICY, None)


def is_public(dependency: Callable[..., Any]) -> bool:
    return getattr(dependency, PUBLIC_POLICY, False)


def ingest_allowed(dependency: Callable[..., Any]) -> bool:
    return getattr(dependency, INGEST_POLICY, False)


CurrentPrincipal = Annotated[Principal, require()]
"""Any signed-in principal (with a full-scope credential)."""
