"""Notification channels and the alert endpoints over HTTP, against real receivers."""

from __future__ import annotations

from decimal import Decimal

import pytest

from comptroller.budgets.model import Budget
from comptroller.budgets.store import save_budget
from tests.notify.receivers import WebhookReceiver
from tests.notify.server import People, api_settings, serve
from tests.notify.state_helpers import open_module_state


@pytest.fixture(scope="module", params=["sqlite"])
def module_state(request, tmp_path_factory):
    """HTTP, roles and wiring are what this module tests, so it runs on the embedded state only;
    the same logic runs on PostgreSQL in the unit tests beside it."""
    yield from open_module_state(request, tmp_path_factory)


@pytest.fixture(scope="module")
def server(module_state, tmp_path_factory):
    with serve(api_settings(tmp_path_factory.mktemp("notify-api"), module_state)) as url:
        yield url


@pytest.fixture
def people(server, state):
    made = People(server, state)
    yield made
    made.close()


def test_channel_crud_shows_secrets_masked_and_keeps_them(people):
    with WebhookReceiver() as hook:
        url = hook.url + "/secret/path/token1234"
        spec = {"name": "finops-hook", "type": "webhook", "config": {"url": url, "secret": "0123456789"}}
        assert people["viewer"].post("/api/v1/notification-channels", json=spec).status_code == 403
        created = people["finops"].post("/api/v1/notification-channels", json=spec)
        assert created.status_code == 201
        shown = created.json()
        assert shown["config"] == {
            "url": f"{hook.url}/****1234",
            "secret": "****",
            "headers": {},
            "timeout_s": 10.0,
        }
        assert people["viewer"].get("/api/v1/notification-channels").json() == [shown]
        edited = people["finops"].put(
            f"/api/v1/notification-channels/{shown['id']}",
            json={**spec, "config": shown["config"], "kinds": ["digest"]},
        )
        assert edited.json()["kinds"] == ["digest"]
        tested = people["finops"].post(f"/api/v1/notification-channels/{shown['id']}/test").json()
        assert tested["delivered"] is True
    assert hook.received[0].path == "/secret/path/token1234"
    assert "X-Comptroller-Signature" in hook.received[0].headers
    log = people["viewer"].get("/api/v1/notification-deliveries").json()
    assert [(d["kind"], d["status"]) for d in log] == [("test", "delivered")]
    bad = people["finops"].post("/api/v1/notification-channels", json={**spec, "name": "x", "type": "pager"})
    assert bad.status_code == 400 and "choose one of" in bad.json()["error"]["message"]
    assert people["finops"].delete(f"/api/v1/notification-channels/{shown['id']}").status_code == 204
    assert people["viewer"].get("/api/v1/notification-channels").json() == []


def test_evaluate_fires_alerts_and_the_digest_is_shown(people, state):
    budget = Budget(id="all", name="all", scope="portfolio", amount=Decimal("0.01"), period="total")
    with state.session() as session, session.begin():
        save_budget(session, budget, actor="user:finops")
    # an empty ledger spends nothing: nothing fires, and evaluating twice is harmless
    first = people["finops"].post("/api/v1/alerts/evaluate").json()
    assert first["fired"] == [] and first["budgets"][0]["spent"] == "0.0000"
    assert people["viewer"].post("/api/v1/alerts/evaluate").status_code == 403
    assert people["viewer"].get("/api/v1/alerts").json() == []
    digest = people["viewer"].get("/api/v1/alerts/digest").json()
    assert digest["kind"] == "digest" and digest["sections"][0]["lines"][0].startswith(
        "all: USD 0.00 of 0.01"
    )
    assert people["finops"].post("/api/v1/alerts/digest").json() == []  # no digest channel
