"""Trends answered from a period's daily totals match the direct query exactly, read the ledger
once per period (in the background, after the period's first question), and follow the ledger
when it changes."""

from __future__ import annotations

from datetime import date

import pytest

from comptroller.reports import cube, prepared
from comptroller.reports.spend import SpendQuery
from comptroller.reports.trend import spend_trend
from tests.reconcile.telemetry import load_month
from tests.reports.test_prepared import ATTRIBUTION

MARCH = {"start": date(2025, 3, 1), "end": date(2025, 3, 31)}
QUESTIONS = [
    (SpendQuery(by=("team",), **MARCH), "day"),
    (SpendQuery(by=("ProviderName", "model"), **MARCH), "week"),
    (SpendQuery(by=("model",), filters={"team": "search"}, **MARCH), "month"),
    (SpendQuery(by=("team",), filters={"owner": ""}, cost="list", **MARCH), "week"),
    (SpendQuery(by=("vendor",), start=date(2025, 3, 3), end=date(2025, 3, 9), allocate=False), "day"),
    (SpendQuery(), "month"),
]


@pytest.fixture(autouse=True)
def no_cubes():
    cube.clear()
    yield
    cube.clear()


def direct(ledger, query: SpendQuery, grain: str, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(cube, "COLUMNS", frozenset())
        return spend_trend(ledger, ATTRIBUTION, query, grain)


@pytest.mark.parametrize("ledger_url", ["duckdb"], indirect=True)
def test_every_split_of_a_period_matches_the_direct_query(ledger, monkeypatch):
    load_month(ledger)
    for query, grain in QUESTIONS:
        expected = direct(ledger, query, grain, monkeypatch)
        first = spend_trend(ledger, ATTRIBUTION, query, grain)  # may start the period's cube
        cube.settle()
        assert first == expected, (query, grain)
        assert spend_trend(ledger, ATTRIBUTION, query, grain) == expected, (query, grain)
    assert len(cube._cubes) == 4
    assert all(c is not None and c.rows > 0 for c in cube._cubes.values())


@pytest.mark.parametrize("ledger_url", ["duckdb"], indirect=True)
def test_later_questions_of_a_period_do_not_read_the_ledger(ledger, monkeypatch):
    load_month(ledger)
    first = spend_trend(ledger, ATTRIBUTION, SpendQuery(by=("team",), **MARCH), "week")
    cube.settle()
    expected = direct(ledger, SpendQuery(by=("model", "ProviderName"), **MARCH), "day", monkeypatch)
    monkeypatch.setattr(prepared, "_run", lambda *_: pytest.fail("the ledger was queried"))
    monkeypatch.setattr(cube, "_build", lambda *_: pytest.fail("the cube was built again"))
    assert (
        spend_trend(ledger, ATTRIBUTION, SpendQuery(by=("model", "ProviderName"), **MARCH), "day") == expected
    )
    assert spend_trend(ledger, ATTRIBUTION, SpendQuery(by=("team",), **MARCH), "week") == first


@pytest.mark.parametrize("ledger_url", ["duckdb"], indirect=True)
def test_a_change_to_the_ledger_makes_a_new_cube(ledger, monkeypatch):
    load_month(ledger, bills=False)
    query = SpendQuery(by=("ProviderName",), **MARCH)
    spend_trend(ledger, ATTRIBUTION, query, "month")
    cube.settle()
    telemetry_only = spend_trend(ledger, ATTRIBUTION, query, "month")
    load_month(ledger, telemetry=False)
    spend_trend(ledger, ATTRIBUTION, query, "month")
    cube.settle()
    both = spend_trend(ledger, ATTRIBUTION, query, "month")
    assert both != telemetry_only
    assert both == direct(ledger, query, "month", monkeypatch)
    assert len(cube._cubes) == 2


def test_tags_and_other_ledgers_take_the_direct_query(ledger):
    load_month(ledger)
    spend_trend(ledger, ATTRIBUTION, SpendQuery(by=("tag:env",), **MARCH), "week")
    spend_trend(ledger, ATTRIBUTION, SpendQuery(by=("team",), filters={"BillingAccountId": "x"}), "week")
    cube.settle()
    kept = len(cube._cubes)
    spend_trend(ledger, ATTRIBUTION, SpendQuery(by=("team",), **MARCH), "week")
    cube.settle()
    assert kept == 0
    assert len(cube._cubes) == (1 if ledger.dialect == "duckdb" else 0)
