"""Users of the demo enterprise, so the console can be signed into right after ``comptroller
demo``. Their passwords are public by design; never run the demo against a real deployment."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from comptroller.governance.models import User
from comptroller.governance.rbac import Role
from comptroller.governance.users import create_user


@dataclass(frozen=True, slots=True)
class DemoUser:
    username: str
    roles: tuple[Role, ...]
    teams: tuple[str, ...] = ()

    @property
    def password(self) -> str:
        return f"{self.username}-demo"


DEMO_USERS: tuple[DemoUser, ...] = (
    DemoUser("admin", (Role.ADMIN,)),
    DemoUser("finops", (Role.FINOPS,)),
    DemoUser("approver", (Role.APPROVER,)),
    DemoUser("compliance", (Role.APPROVER,)),
    DemoUser("search-owner", (Role.TEAM_OWNER,), ("search",)),
    DemoUser("viewer", (Role.VIEWER,)),
)
"""Two approvers, because a critical use case needs two distinct approvals."""


def ensure_demo_users(session: Session) -> list[DemoUser]:
    """Create the demo users that do not exist yet; existing ones (and their passwords) are kept."""
    existing = set(session.scalars(select(User.username)))
    for user in DEMO_USERS:
        if user.username not in existing:
            create_user(
                session,
                user.username,
                actor="system:demo",
                password=user.password,
                roles=[r.value for r in user.roles],
                teams=user.teams,
            )
    return list(DEMO_USERS)


def demo_credentials_text() -> str:
    lines = ["demo sign-in (username / password / roles):"]
    for user in DEMO_USERS:
        teams = f" of {', '.join(user.teams)}" if user.teams else ""
        lines.append(f"  {user.username} / {user.password} / {', '.join(user.roles)}{teams}")
    return "\n".join(lines)
