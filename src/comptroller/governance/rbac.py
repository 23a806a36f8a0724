"""Roles, and who a request is: the ``Principal`` every authorisation decision reads."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """Least privilege by default: ``viewer`` reads everything and changes nothing; ``team_owner``
    reads and changes only what belongs to their teams; ``approver`` reviews use cases and
    approval requests; ``finops`` manages attribution, budgets and keys; ``admin`` passes every
    check (users, tokens, audit)."""

    ADMIN = "admin"
    FINOPS = "finops"
    APPROVER = "approver"
    TEAM_OWNER = "team_owner"
    VIEWER = "viewer"


GLOBAL_READERS = frozenset({Role.ADMIN, Role.FINOPS, Role.APPROVER, Role.VIEWER})
"""Roles that see every team's data; a ``team_owner`` alone sees only their own teams."""


def parse_roles(values: Iterable[str]) -> tuple[Role, ...]:
    """Known roles in a stable order; an unknown name is an error that lists the valid ones."""
    roles = []
    for value in values:
        try:
            roles.append(Role(value.strip()))
        except ValueError:
            valid = ", ".join(r.value for r in Role)
            raise ValueError(f"unknown role {value!r}; choose from {valid}") from None
    return tuple(sorted(set(roles), key=list(Role).index))


class TokenScope(StrEnum):
    """``ingest`` tokens authenticate only at ingestion endpoints (the OTLP receiver), so a
    collector's credential cannot read spend even when its user could."""

    ALL = "all"
    INGEST = "ingest"


@dataclass(frozen=True, slots=True)
class Principal:
    user_id: int
    username: str
    roles: frozenset[str]
    teams: frozenset[str]
    credential_id: str = ""
    credential_kind: str = "api"
    scope: str = TokenScope.ALL

    @property
    def actor(self) -> str:
        """How the audit log names this principal."""
        return f"user:{self.username}"

    def has_role(self, *roles: str) -> bool:
        """True with any of ``roles``; admin has them all."""
        return Role.ADMIN in self.roles or any(r in self.roles for r in roles)

    @property
    def sees_all_teams(self) -> bool:
        return any(r in self.roles for r in GLOBAL_READERS)

    def can_access_team(self, team: str | None) -> bool:
        """Global readers see every team (and untagged spend); a team owner only their own."""
        if self.sees_all_teams:
            return True
        return team is not None and team in self.teams

    @property
    def team_scope(self) -> frozenset[str] | None:
        """None when unrestricted, else the teams whose data this principal may see."""
        return None if self.sees_all_teams else self.teams

    def as_json(self) -> dict[str, object]:
        return {
            "user_id": self.user_id,
            "username": self.username,
            "roles": sorted(self.roles, key=_role_order),
            "teams": sorted(self.teams),
            "credential": {"id": self.credential_id, "kind": self.credential_kind, "scope": self.scope},
        }


def _role_order(role: str) -> int:
    names = [r.value for r in Role]
    return names.index(role) if role in names else len(names)


READ_ROLES = (Role.VIEWER, Role.APPROVER, Role.FINOPS, Role.TEAM_OWNER)
"""Every role reads; what a team owner reads is narrowed to their teams by the endpoint."""
GLOBAL_READ_ROLES = (Role.VIEWER, Role.APPROVER, Role.FINOPS)
"""Roles for cross-team views (coverage, the unowned queue, deliveries)."""
