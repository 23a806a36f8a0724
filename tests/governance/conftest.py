"""A real server per test module with one signed-in principal per role."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from comptroller.api.app import create_app
from comptroller.config import Settings
from comptroller.context import Context
from comptroller.governance import users
from tests.api.conftest import free_port

PRINCIPALS = {
    "admin": (("admin",), ()),
    "finops": (("finops",), ()),
    "approver": (("approver",), ()),
    "team_owner": (("team_owner",), ("search",)),
    "viewer": (("viewer",), ()),
    "norole": ((), ()),
}


@contextmanager
def serve(app: FastAPI) -> Iterator[str]:
    port = free_port()
    srv = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        srv.should_exit = True
        thread.join(5)


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
