"""A real uvicorn server of the API on loopback, over a given state database, and API tokens."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx

from comptroller.api.app import create_app
from comptroller.config import Settings
from comptroller.governance import users
from comptroller.state.db import StateDB
from tests.live_server import serve as serve_app


def api_settings(folder: Path, state: StateDB) -> Settings:
    return Settings(home=folder, ledger_url=f"duckdb:///{folder / 'ledger.duckdb'}", state_url=state.url)


@contextmanager
def serve(settings: Settings) -> Iterator[str]:
    with serve_app(create_app(settings)) as url:
        yield url


def client(
    base_url: str, state: StateDB, username: str, roles: tuple[str, ...], teams: tuple[str, ...] = ()
) -> httpx.Client:
    """A client signed in as ``username`` (created with ``roles`` and ``teams`` on first use)."""
    with state.session() as session, session.begin():
        if username not in {u.username for u in users.list_users(session)}:
            users.create_user(session, username, actor="test", roles=roles, teams=teams)
        token = users.create_token(session, username, actor="test").secret
    return httpx.Client(base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=30)


ROLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "admin": (("admin",), ()),
    "finops": (("finops",), ()),
    "bot": (("team_owner",), ("support",)),
    "owner": (("team_owner",), ("search",)),
    "other": (("team_owner",), ("growth",)),
    "approver": (("approver",), ()),
    "viewer": (("viewer",), ()),
}


class People:
    """Clients signed in as the people of ``ROLES``, each created on first use."""

    def __init__(self, base_url: str, state: StateDB) -> None:
        self.base_url, self.state = base_url, state
        self.clients: dict[str, httpx.Client] = {}

    def __getitem__(self, who: str) -> httpx.Client:
        if who not in self.clients:
            roles, teams = ROLES[who]
            self.clients[who] = client(self.base_url, self.state, who, roles, teams)
        return self.clients[who]

    def close(self) -> None:
        for c in self.clients.values():
            c.close()
