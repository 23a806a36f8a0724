"""A real server per test module with one signed-in principal per role."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from fastapi import FastAPI

from comptroller.api.app import create_app
from comptroller.config import Settings
from comptroller.context import Context
from comptroller.governance import users
from tests.live_server import serve

PRINCIPALS = {
    "admin": (("admin",), ()),
    "finops": (("finops",), ()),
    "approver": (("approver",), ()),
    "team_owner": (("team_owner",), ("search",)),
    "viewer": (("viewer",), ()),
    "norole": ((), ()),
}


@pytest.fixture(scope="module")
def gov_settings(tmp_path_factory) -> Settings:
    return Settings.from_env(tmp_path_factory.mktemp("gov") / "home")


@pytest.fixture(scope="module")
def tokens(gov_settings) -> dict[str, str]:
    """An API token per role (``ingest``: a finops token limited to the OTLP receiver)."""
    issued = {}
    with Context(gov_settings) as ctx, ctx.state.session() as session, session.begin():
        for name, (roles, teams) in PRINCIPALS.items():
            users.create_user(
                session, name, actor="test", roles=roles, teams=teams, password=f"{name}-password"
            )
            issued[name] = users.create_token(session, name, actor="test").secret
        issued["ingest"] = users.create_token(session, "finops", actor="test", scope="ingest").secret
    return issued


@pytest.fixture(scope="module")
def gov_app(gov_settings, tokens) -> FastAPI:
    return create_app(gov_settings)


@pytest.fixture(scope="module")
def gov_server(gov_app) -> Iterator[str]:
    with serve(gov_app) as url:
        yield url


@pytest.fixture(scope="module")
def client(gov_server) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=gov_server, timeout=30) as c:
        yield c


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
