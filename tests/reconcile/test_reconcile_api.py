"""``GET /api/v1/reconcile`` on a real server over loopback."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from comptroller.api.app import create_app
from comptroller.config import Settings
from comptroller.context import Context
from tests.api.conftest import issue_token
from tests.live_server import serve
from tests.reconcile.telemetry import load_month


@pytest.fixture
def settings(tmp_path) -> Settings:
    settings = Settings.from_env(tmp_path / "home")
    with Context(settings) as ctx:
        load_month(ctx.ledger)
    return settings


@pytest.fixture
def server(settings) -> Iterator[str]:
    with serve(create_app(settings)) as url:
        yield url


def test_reconcile_endpoint_explains_gaps_and_checks_roles(server, settings):
    finops = {"Authorization": f"Bearer {issue_token(settings, 'fin', ('finops',))}"}
    reply = httpx.get(
        f"{server}/api/v1/reconcile", params={"provider": "openai", "month": "2025-03"}, headers=finops
    )
    assert reply.status_code == 200, reply.text
    body = reply.json()
    assert body["billed_total"] == pytest.approx(4.8953)
    explained = {(x["model"], x["project"]): x["explanation"] for x in body["lines"]}
    assert explained[("gpt-4o", "proj_legacy")] == "bypassed_gateway"
    assert body["gap_by_explanation"]["cache_pricing"] == pytest.approx(0.06)

    bad = httpx.get(
        f"{server}/api/v1/reconcile", params={"provider": "openai", "month": "03/2025"}, headers=finops
    )
    assert (bad.status_code, bad.json()["error"]["code"]) == (400, "query_error")
    assert (
        httpx.get(f"{server}/api/v1/reconcile", params={"provider": "openai", "month": "2025-03"}).status_code
        == 401
    )
