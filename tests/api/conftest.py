"""A real uvicorn server on loopback, shared by the API and OTLP receiver tests."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from comptroller.api.app import create_app
from comptroller.config import Settings
from comptroller.context import Context
from comptroller.governance import users
from comptroller.ingest.focus_ingest import ingest_focus
from tests.export.test_focus_export import focus_csv
from tests.live_server import serve


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings.from_env(tmp_path / "home")


@pytest.fixture
def server(tmp_path, settings) -> Iterator[str]:
    with Context(settings) as ctx:
        ingest_focus(
            ctx.ledger,
            [
                focus_csv(
                    tmp_path / "aws.csv",
                    [("10", "Atlas Nimbus", "i-1", ""), ("5", "Orion", "i-2", '{"team":"growth"}')],
                )
            ],
        )
    with serve(create_app(settings)) as url:
        yield url


def issue_token(
    settings: Settings, username: str, roles: tuple[str, ...], teams: tuple[str, ...] = ()
) -> str:
    """A user with ``roles`` (created on first use) and a new API token of theirs."""
    with Context(settings) as ctx, ctx.state.session() as session, session.begin():
        if username not in {u.username for u in users.list_users(session)}:
            users.create_user(session, username, actor="test", roles=roles, teams=teams)
        return users.create_token(session, username, actor="test").secret


@pytest.fixture
def admin_token(settings) -> str:
    return issue_token(settings, "root", ("admin",))


@pytest.fixture
def api(server, admin_token) -> Iterator[httpx.Client]:
    """A client of the running server, signed in as an admin."""
    with httpx.Client(base_url=server, headers={"Authorization": f"Bearer {admin_token}"}) as client:
        yield client


@pytest.fixture
def ingest_token(settings) -> str:
    """What a collector holds: a finops user's token limited to the OTLP receiver."""
    with Context(settings) as ctx, ctx.state.session() as session, session.begin():
        users.create_user(session, "collector", actor="test", roles=("finops",))
        return users.create_token(session, "collector", actor="test", scope="ingest").secret


@pytest.fixture
def otlp(server, ingest_token) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server, headers={"Authorization": f"Bearer {ingest_token}"}) as client:
        yield client
