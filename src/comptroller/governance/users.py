"""Users, API tokens and login sessions. Secrets are random, shown once, and stored only as
SHA-256 hashes (they carry 256 bits, so a fast hash suffices); passwords use scrypt."""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import delete, or_, select
from sqlalchemy.orm import Session

from comptroller.errors import GovernanceError, NotFoundError
from comptroller.governance import audit
from comptroller.governance.models import Credential, User
from comptroller.governance.passwords import check_password, hash_password
from comptroller.governance.rbac import Principal, TokenScope, parse_roles
from comptroller.state.models import utcnow

API_TOKEN_PREFIX = "cmp_"
SESSION_PREFIX = "cms_"
SESSION_TTL = timedelta(hours=12)
USED_AT_RESOLUTION = timedelta(minutes=1)
"""``last_used_at`` is written at most this often per credential, not on every request."""
USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{0,63}$")
TEAM = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._ -]{0,127}$")


def hash_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def check_username(username: str) -> str:
    if not USERNAME.match(username):
        raise GovernanceError(
            f"username {username!r}: use 1-64 lowercase letters, digits, '.', '_', '-' or '@'"
        )
    return username


def check_teams(teams: Iterable[str]) -> list[str]:
    clean = []
    for team in teams:
        if not TEAM.match(team):
            raise GovernanceError(f"team {team!r}: use letters, digits, spaces, '.', '_' or '-'")
        clean.append(team)
    return sorted(set(clean))


def check_role_names(roles: Iterable[str]) -> list[str]:
    try:
        return [r.value for r in parse_roles(roles)]
    except ValueError as exc:
        raise GovernanceError(str(exc)) from None


def get_user(session: Session, username: str) -> User:
    user = session.scalar(select(User).where(User.username == username))
    if user is None:
        raise NotFoundError(f"no user named {username!r}")
    return user


def create_user(
    session: Session,
    username: str,
    *,
    actor: str,
    password: str | None = None,
    roles: Iterable[str] = (),
    teams: Iterable[str] = (),
) -> User:
    check_username(username)
    if session.scalar(select(User.id).where(User.username == username)) is not None:
        raise GovernanceError(f"a user named {username!r} exists already")
    if password is not None and len(password) < 8:
        raise GovernanceError("password: use at least 8 characters")
    user = User(
        username=username,
        password_hash=hash_password(password) if password else None,
        roles=check_role_names(roles),
        teams=check_teams(teams),
    )
    session.add(user)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="user.create",
        subject=f"user:{username}",
        detail={"roles": user.roles, "teams": user.teams, "password": password is not None},
    )
    return user


def list_users(session: Session) -> list[User]:
    return list(session.scalars(select(User).order_by(User.username)))


def change_access(
    session: Session,
    username: str,
    *,
    actor: str,
    grant: bool,
    roles: Iterable[str] = (),
    teams: Iterable[str] = (),
) -> User:
    """Add (``grant``) or remove roles and team memberships; one audit entry per change."""
    user = get_user(session, username)
    roles, teams = check_role_names(roles), check_teams(teams)
    if not roles and not teams:
        raise GovernanceError("name at least one role or team to grant or revoke")
    if grant:
        new_roles = check_role_names([*user.roles, *roles])
        new_teams = sorted({*user.teams, *teams})
    else:
        new_roles = [r for r in user.roles if r not in roles]
        new_teams = [t for t in user.teams if t not in teams]
    user.roles, user.teams = new_roles, new_teams
    audit.record(
        session,
        actor=actor,
        action="user.grant" if grant else "user.revoke",
        subject=f"user:{username}",
        detail={"roles": roles, "teams": teams, "now": {"roles": new_roles, "teams": new_teams}},
    )
    session.flush()
    return user


def set_password(session: Session, username: str, password: str, *, actor: str) -> None:
    if len(password) < 8:
        raise GovernanceError("password: use at least 8 characters")
    user = get_user(session, username)
    user.password_hash = hash_password(password)
    for cred in _live_credentials(session, user.id, kind="session"):
        cred.revoked_at = utcnow()
    audit.record(session, actor=actor, action="user.password", subject=f"user:{username}")


def set_disabled(session: Session, username: str, disabled: bool, *, actor: str) -> User:
    """A disabled user's tokens and sessions stop working at once; enabling restores the tokens
    (sessions are ended for good)."""
    user = get_user(session, username)
    if user.disabled != disabled:
        user.disabled = disabled
        if disabled:
            for cred in _live_credentials(session, user.id, kind="session"):
                cred.revoked_at = utcnow()
        audit.record(
            session,
            actor=actor,
            action="user.disable" if disabled else "user.enable",
            subject=f"user:{username}",
        )
    session.flush()
    return user


@dataclass(frozen=True, slots=True)
class IssuedSecret:
    """A new credential and its secret; the secret exists only here and is never stored."""

    credential: Credential
    secret: str


def _issue(
    session: Session,
    user: User,
    *,
    kind: str,
    name: str,
    scope: str,
    expires_at: datetime | None,
) -> IssuedSecret:
    prefix = API_TOKEN_PREFIX if kind == "api" else SESSION_PREFIX
    secret = prefix + secrets.token_urlsafe(32)
    cred = Credential(
        id=secrets.token_hex(6),
        user_id=user.id,
        kind=kind,
        name=name,
        scope=scope,
        token_hash=hash_secret(secret),
        expires_at=expires_at,
    )
    session.add(cred)
    session.flush()
    return IssuedSecret(cred, secret)


def create_token(
    session: Session,
    username: str,
    *,
    actor: str,
    name: str = "",
    scope: str = TokenScope.ALL,
    expires_in: timedelta | None = None,
) -> IssuedSecret:
    """An API token for ``username``; ``scope='ingest'`` limits it to the ingestion endpoints."""
    try:
        scope = TokenScope(scope).value
    except ValueError:
        raise GovernanceError(f"scope {scope!r}: choose all or ingest") from None
    user = get_user(session, username)
    expires_at = utcnow() + expires_in if expires_in else None
    issued = _issue(session, user, kind="api", name=name, scope=scope, expires_at=expires_at)
    audit.record(
        session,
        actor=actor,
        action="token.create",
        subject=f"user:{username}",
        detail={"token": issued.credential.id, "name": name, "scope": scope},
    )
    return issued


def list_tokens(session: Session, username: str | None = None) -> list[tuple[Credential, str]]:
    """API tokens (not sessions) with their user's name, newest first."""
    query = (
        select(Credential, User.username)
        .join(User, User.id == Credential.user_id)
        .where(Credential.kind == "api")
        .order_by(Credential.created_at.desc())
    )
    if username:
        query = query.where(User.username == username)
    return [(cred, name) for cred, name in session.execute(query)]


def revoke_token(session: Session, token_id: str, *, actor: str, username: str | None = None) -> Credential:
    """Revoke an API token; with ``username``, only if it is theirs (else it is not found)."""
    query = select(Credential, User.username).join(User, User.id == Credential.user_id)
    query = query.where(Credential.id == token_id, Credential.kind == "api")
    if username:
        query = query.where(User.username == username)
    row = session.execute(query).one_or_none()
    if row is None:
        raise NotFoundError(f"no API token with id {token_id!r}")
    cred, owner = row
    if cred.revoked_at is None:
        cred.revoked_at = utcnow()
        audit.record(
            session, actor=actor, action="token.revoke", subject=f"user:{owner}", detail={"token": token_id}
        )
    return cred


def login(session: Session, username: str, password: str) -> IssuedSecret | None:
    """A session for a right password; None for any wrong username, password or disabled user,
    so a caller cannot tell which was wrong."""
    user = session.scalar(select(User).where(User.username == username))
    if user is None or user.disabled or not check_password(password, user.password_hash):
        return None
    session.execute(
        delete(Credential).where(
            Credential.user_id == user.id,
            Credential.kind == "session",
            or_(Credential.expires_at <= utcnow(), Credential.revoked_at.is_not(None)),
        )
    )
    issued = _issue(
        session, user, kind="session", name="login", scope=TokenScope.ALL, expires_at=utcnow() + SESSION_TTL
    )
    audit.record(
        session,
        actor=f"user:{username}",
        action="auth.login",
        subject=f"user:{username}",
        detail={"session": issued.credential.id},
    )
    return issued


def end_session(session: Session, credential_id: str) -> bool:
    cred = session.get(Credential, credential_id)
    if cred is None or cred.kind != "session" or cred.revoked_at is not None:
        return False
    cred.revoked_at = utcnow()
    return True


def authenticate(session: Session, secret: str) -> Principal | None:
    """The principal behind a bearer secret, or None if unknown, revoked, expired or disabled."""
    if not secret.startswith((API_TOKEN_PREFIX, SESSION_PREFIX)):
        return None
    row = session.execute(
        select(Credential, User)
        .join(User, User.id == Credential.user_id)
        .where(Credential.token_hash == hash_secret(secret))
    ).one_or_none()
    if row is None:
        return None
    cred, user = row
    now = utcnow()
    if (
        cred.revoked_at is not None
        or user.disabled
        or (cred.expires_at is not None and cred.expires_at <= now)
    ):
        return None
    if cred.last_used_at is None or now - cred.last_used_at >= USED_AT_RESOLUTION:
        cred.last_used_at = now
    return Principal(
        user_id=user.id,
        username=user.username,
        roles=frozenset(user.roles),
        teams=frozenset(user.teams),
        credential_id=cred.id,
        credential_kind=cred.kind,
        scope=cred.scope,
    )


def principal_of(session: Session, username: str) -> Principal:
    """A user as a principal without a credential: for the CLI, which acts as a named reviewer."""
    user = get_user(session, username)
    if user.disabled:
        raise GovernanceError(f"user {username!r} is disabled")
    return Principal(
        user_id=user.id,
        username=user.username,
        roles=frozenset(user.roles),
        teams=frozenset(user.teams),
        credential_kind="cli",
    )


def _live_credentials(session: Session, user_id: int, *, kind: str) -> list[Credential]:
    return list(
        session.scalars(
            select(Credential).where(
                Credential.user_id == user_id, Credential.kind == kind, Credential.revoked_at.is_(None)
            )
        )
    )


def user_json(user: User) -> dict[str, Any]:
    return {
        "id": user.id,
        "username": user.username,
        "roles": user.roles,
        "teams": user.teams,
        "disabled": user.disabled,
        "has_password": user.password_hash is not None,
        "created_at": user.created_at.isoformat() + "Z",
    }


def token_json(cred: Credential, username: str) -> dict[str, Any]:
    def ts(value: datetime | None) -> str | None:
        return value.isoformat() + "Z" if value else None

    return {
        "id": cred.id,
        "username": username,
        "name": cred.name,
        "scope": cred.scope,
        "created_at": ts(cred.created_at),
        "expires_at": ts(cred.expires_at),
        "last_used_at": ts(cred.last_used_at),
        "revoked_at": ts(cred.revoked_at),
    }
