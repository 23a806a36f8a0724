"""Threshold and forecast alerts over a small ledger: fired once per period, sent to channels,
and the daily digest. State on SQLite and PostgreSQL; the ledger is a DuckDB file."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from comptroller.budgets.alert_models import BudgetAlertRow
from comptroller.budgets.alerts import Burn, burns, evaluate_alerts, record_alerts
from comptroller.budgets.digest import build_digest, send_digest
from comptroller.budgets.forecast import linear_forecast
from comptroller.budgets.model import Budget
from comptroller.budgets.status import status_of
from comptroller.budgets.store import save_budget
from comptroller.governance.approvals import request_budget_increase
from comptroller.governance.audit import list_entries
from comptroller.ingest.focus_ingest import ingest_focus
from comptroller.ledger.store import open_ledger
from comptroller.notify.store import ChannelSpec, create_channel
from tests.conftest import STATE_BACKENDS
from tests.export.test_focus_export import focus_csv
from tests.notify.receivers import WebhookReceiver
from tests.notify.state_helpers import clear_state, open_module_state

MID_MARCH = datetime(2025, 3, 15, 12, tzinfo=UTC)  # 14.5 of 31 days passed


@pytest.fixture(scope="module", params=STATE_BACKENDS)
def module_state(request, tmp_path_factory):
    yield from open_module_state(request, tmp_path_factory)


@pytest.fixture
def state(module_state):
    return clear_state(module_state)


@pytest.fixture(scope="module")
def ledger(tmp_path_factory):
    """March 2025 cloud lines: search 60, growth 30, untagged 10."""
    folder = tmp_path_factory.mktemp("alerts-ledger")
    opened = open_ledger(f"duckdb:///{folder / 'ledger.duckdb'}")
    rows = [
        ("60", "Atlas", "i-1", '{"team":"search"}'),
        ("30", "Orion", "i-2", '{"team":"growth"}'),
        ("10", "Shared", "i-3", ""),
    ]
    ingest_focus(opened, [focus_csv(folder / "march.csv", rows)])
    yield opened
    opened.close()


def add_budget(state, budget_id, scope, value, amount, **extra):
    budget = Budget(
        id=budget_id, name=budget_id, scope=scope, scope_value=value, amount=Decimal(amount), **extra
    )
    with state.session() as session, session.begin():
        save_budget(session, budget, actor="user:ann")
    return budget


def add_hook(state, url, kinds):
    with state.session() as session, session.begin():
        create_channel(
            session,
            ChannelSpec(name=f"hook-{kinds[0]}", type="webhook", config={"url": url}, kinds=kinds),
            actor="a",
        )


def test_linear_forecast_is_the_run_rate_and_waits_for_a_tenth_of_the_period():
    budget = Budget(id="b", name="b", scope="portfolio", amount=Decimal(100))
    forecast = linear_forecast(budget, Decimal(60), MID_MARCH)
    assert forecast is not None and forecast.exceeds
    assert forecast.projected == (Decimal(60) / (Decimal("14.5") / 31)).quantize(Decimal("0.01"))
    assert linear_forecast(budget, Decimal(60), datetime(2025, 3, 2, tzinfo=UTC)) is None
    total = Budget(id="t", name="t", scope="portfolio", amount=Decimal(100), period="total")
    assert linear_forecast(total, Decimal(60), MID_MARCH) is None


def test_thresholds_and_forecast_fire_once_per_period(state, ledger):
    add_budget(state, "search", "team", "search", 100, behaviour="alert")
    add_budget(state, "growth", "team", "growth", 100)
    add_budget(state, "all", "portfolio", None, 80, thresholds=(Decimal("0.5"), Decimal("0.8"), Decimal("1")))
    with WebhookReceiver() as hook:
        add_hook(state, hook.url, ["alert"])
        first = evaluate_alerts(state, ledger, MID_MARCH)
        again = evaluate_alerts(state, ledger, MID_MARCH)
    fired = sorted((a.budget.id, a.kind, a.threshold) for a in first.fired)
    assert fired == [
        ("all", "threshold", Decimal("0.5")),
        ("all", "threshold", Decimal("0.8")),
        ("all", "threshold", Decimal("1")),
        ("search", "forecast", Decimal(0)),
        ("search", "threshold", Decimal("0.5")),
    ]
    assert again.fired == [] and again.deliveries == []
    subjects = sorted(r.json()["subject"] for r in hook.received)
    assert subjects == [
        "Budget 'all' reached 100%",
        "Budget 'search' reached 50% and is forecast to exceed its amount",
    ]
    with state.session() as session:
        assert len(list_entries(session, action="budget.alert")) == 5
        assert session.query(BudgetAlertRow).count() == 5


def burn(budget, spent, at):
    """A budget's burn without a ledger: the spend is given."""
    return Burn(status_of(budget, Decimal(spent), at), linear_forecast(budget, Decimal(spent), at))


def fire(state, budget, spent, at):
    with state.session() as session, session.begin():
        return [(a.kind, a.threshold) for a in record_alerts(session, burn(budget, spent, at), at)]


def test_each_alert_fires_once_per_period_and_again_in_the_next(state):
    budget = Budget(id="b", name="b", scope="team", scope_value="search", amount=Decimal(100))
    assert fire(state, budget, 55, MID_MARCH) == [("threshold", Decimal("0.5")), ("forecast", Decimal(0))]
    assert fire(state, budget, 85, MID_MARCH) == [("threshold", Decimal("0.8"))]
    assert fire(state, budget, 120, datetime(2025, 3, 20, tzinfo=UTC)) == [("threshold", Decimal("1"))]
    assert fire(state, budget, 120, datetime(2025, 3, 21, tzinfo=UTC)) == []
    assert fire(state, budget, 10, datetime(2025, 4, 2, tzinfo=UTC)) == []  # too early to forecast
    assert fire(state, budget, 60, datetime(2025, 4, 15, tzinfo=UTC)) == [
        ("threshold", Decimal("0.5")),
        ("forecast", Decimal(0)),
    ]


def test_daily_budgets_start_over_each_day(state):
    budget = Budget(id="d", name="d", scope="agent", scope_value="bot", amount=Decimal(10), period="daily")
    assert fire(state, budget, 6, datetime(2025, 3, 1, 20, tzinfo=UTC)) == [("threshold", Decimal("0.5"))]
    assert fire(state, budget, 6, datetime(2025, 3, 1, 23, tzinfo=UTC)) == []
    assert fire(state, budget, 6, datetime(2025, 3, 2, 20, tzinfo=UTC)) == [("threshold", Decimal("0.5"))]


def test_burns_rank_budgets_with_their_forecast(state, ledger):
    budgets = [
        add_budget(state, "search", "team", "search", 100),
        add_budget(state, "growth", "team", "growth", 300),
    ]
    by_id = {b.budget.id: b for b in burns(ledger, budgets, MID_MARCH)}
    assert by_id["search"].spend == Decimal(60) and by_id["growth"].spend == Decimal(30)
    assert by_id["search"].forecast.exceeds and not by_id["growth"].forecast.exceeds


def test_digest_lists_top_budgets_alerts_of_the_day_and_pending_approvals(state, ledger):
    add_budget(state, "search", "team", "search", 100)
    add_budget(state, "growth", "team", "growth", 300)
    tiny = add_budget(state, "x", "portfolio", None, 10)
    with state.session() as session, session.begin():
        request_budget_increase(session, "growth", Decimal(400), requester="user:bob", reason="launch")
        record_alerts(session, burn(tiny, 9, MID_MARCH), MID_MARCH)
    digest = build_digest(state, ledger, MID_MARCH)
    top, alerts, approvals = digest.sections
    assert top.lines[0].startswith("x: USD 100.00 of 10.00 (1000%")
    assert top.lines[1].startswith("search: USD 60.00 of 100.00 (60%, monthly), forecast 128.28")
    assert top.lines[2].startswith("growth: USD 30.00 of 300.00 (10%")
    assert alerts.lines == ("x: 50% reached", "x: 80% reached", "x: forecast 19.24 over 10.00")
    assert len(approvals.lines) == 1 and "launch" in approvals.lines[0]
    assert "1 at or over their amount" in digest.summary
    assert build_digest(state, ledger, datetime(2025, 3, 16, tzinfo=UTC)).sections[1].lines == ()


def test_digest_is_sent_once_a_day_per_digest_channel(state, ledger):
    add_budget(state, "search", "team", "search", 100)
    with WebhookReceiver() as digests, WebhookReceiver() as alerts:
        add_hook(state, digests.url, ["digest"])
        add_hook(state, alerts.url, ["alert"])
        first = send_digest(state, ledger, MID_MARCH)
        second = send_digest(state, ledger, MID_MARCH)
    assert [r.delivered for r in first] == [True] and [r.skipped for r in second] == [True]
    assert len(digests.received) == 1 and alerts.received == []
    body = digests.received[0].json()
    assert body["kind"] == "digest" and body["payload"]["day"] == "2025-03-15"
