"""``GET /api/v1/reconcile`` on a real server over loopback."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from comptroller.api.app import create_app
from comptroller.config import Settings
from comptroller.context import Context
from tests.api.conftest import free_port, issue_token
from tests.reconcile.telemetry import load_month


@pytest.fixture
def settings(tmp_path) -> Settings:
    settings = Settings.from_env(tmp_path / "home")
    with Context(settings) as ctx:
        load_month(ctx.ledger)
    return settings


@pytest.fixture
def server(settings) -> Iterator[str]:
    port = free_port()
    srv = uvicorn.Server(
        uvicorn.Config(create_app(settings), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=srv.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not srv.started and time.monotonic() < deadline:
        time.sleep(0.02)
    yield f"http://127.0.0.1:{port}"
    srv.should_exit = True
    thread.join(5)


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
