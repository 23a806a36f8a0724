"""The reports behind the console, on DuckDB and PostgreSQL: trend, cost lines, rule preview,
overview and the report cache."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from comptroller.attribution.specs import Attribution, RuleSpec
from comptroller.errors import QueryError
from comptroller.ingest.focus_ingest import ingest_focus
from comptroller.ledger.store import open_ledger
from comptroller.reports.cache import ReportCache, duckdb_file_version, ledger_version
from comptroller.reports.cost_lines import cost_lines
from comptroller.reports.overview import overview
from comptroller.reports.preview import preview_rule
from comptroller.reports.spend import SpendQuery
from comptroller.reports.trend import spend_trend
from tests.focus_fixtures import write_focus
from tests.reports.test_spend import LINES

NONE = Attribution()


@pytest.fixture(scope="module")
def billing(module_ledger, tmp_path_factory):
    ingest_focus(module_ledger, [write_focus(tmp_path_factory.mktemp("focus") / "spend.csv", LINES)])
    return module_ledger


def periods(report) -> dict:
    return {(r["period"], *(r[d] for d in report.by)): r["cost"] for r in report.rows}


def test_trend_per_day_week_and_month(billing):
    monthly = spend_trend(billing, NONE, SpendQuery(), "month")
    assert periods(monthly) == {(date(2025, 1, 1),): Decimal(1122), (date(2025, 2, 1),): Decimal(10000)}
    weekly = spend_trend(billing, NONE, SpendQuery(), "week")  # weeks start on Monday
    assert periods(weekly) == {(date(2025, 1, 6),): Decimal(122), (date(2025, 1, 27),): Decimal(11000)}
    daily = spend_trend(
        billing, NONE, SpendQuery(by=("team",), start=date(2025, 1, 10), end=date(2025, 1, 11))
    )
    assert periods(daily) == {
        (date(2025, 1, 10), "search"): Decimal(2),
        (date(2025, 1, 11), "growth"): Decimal(20),
    }
    assert daily.total == Decimal(22)


def test_trend_by_two_dimensions_with_a_filter(billing):
    report = spend_trend(
        billing, NONE, SpendQuery(by=("team", "ServiceName"), filters={"ServiceName": "Claude API"}), "month"
    )
    assert periods(report) == {
        (date(2025, 1, 1), "search", "Claude API"): Decimal(2),
        (date(2025, 1, 1), "ml", "Claude API"): Decimal(100),
        (date(2025, 2, 1), "search", "Claude API"): Decimal(10000),
    }
    assert report.as_json()["rows"][0]["period"] == "2025-01-01"


def test_trend_refuses_what_it_cannot_answer(billing):
    with pytest.raises(QueryError, match="grain"):
        spend_trend(billing, NONE, SpendQuery(), "hour")
    with pytest.raises(QueryError, match="at most 2"):
        spend_trend(billing, NONE, SpendQuery(by=("team", "model", "vendor")))
    with pytest.raises(QueryError, match="colour"):
        spend_trend(billing, NONE, SpendQuery(by=("colour",)))


def test_trend_restricted_to_teams(billing):
    report = spend_trend(billing, NONE, SpendQuery(), "month", teams={"search", "ml"})
    assert report.total == Decimal(10102)


def test_cost_lines_page_largest_first_with_count_and_sum(billing):
    first = cost_lines(billing, NONE, SpendQuery(), limit=2)
    assert (first.total_lines, first.total_cost) == (5, Decimal(11122))
    assert [r["cost"] for r in first.rows] == [Decimal(10000), Decimal(1000)]
    second = cost_lines(billing, NONE, SpendQuery(), limit=2, offset=2)
    assert [r["cost"] for r in second.rows] == [Decimal(100), Decimal(20)]
    assert set(first.rows[0]) >= {"ChargePeriodStart", "ServiceName", "team", "owner", "cost"}
    assert first.as_json()["rows"][0]["cost"] == 10000.0


def test_cost_lines_under_an_unset_value_and_a_period(billing):
    unowned = cost_lines(billing, NONE, SpendQuery(filters={"team": ""}))
    assert (unowned.total_lines, unowned.total_cost) == (1, Decimal(1000))
    january_search = cost_lines(billing, NONE, SpendQuery(filters={"team": "search"}, end=date(2025, 1, 31)))
    assert [r["cost"] for r in january_search.rows] == [Decimal(2)]
    assert cost_lines(billing, NONE, SpendQuery(), teams={"growth"}).total_cost == Decimal(20)
    with pytest.raises(QueryError, match="limit"):
        cost_lines(billing, NONE, SpendQuery(), limit=0)


def test_rule_preview_shows_totals_before_and_after_without_saving(billing):
    rule = RuleSpec(dimension="team", value="platform", condition="ResourceId IN ('a', 'd')", override=True)
    preview = preview_rule(billing, NONE, rule)
    rows = {r.value: (r.before, r.after) for r in preview.rows}
    assert rows["platform"] == (Decimal(0), Decimal(1002))
    assert rows["search"] == (Decimal(10002), Decimal(10000))
    assert rows[None] == (Decimal(1000), Decimal(0))
    assert preview.moved == Decimal(1002) and preview.total == Decimal(11122)
    assert [r.value for r in preview.rows] == ["search", "platform", None, "ml", "growth"]
    gentle = preview_rule(billing, NONE, rule.model_copy(update={"override": False}))
    assert {r.value: r.delta for r in gentle.rows}["platform"] == Decimal(1000)


def test_overview_compares_this_month_with_last(billing):
    view = overview(billing, NONE, date(2025, 2, 1))
    assert (view.this_month, view.last_month, view.last_month_to_date) == (
        Decimal(10000),
        Decimal(1122),
        Decimal(0),
    )
    assert view.run_rate == Decimal(280000)
    assert view.top["team"] == [{"value": "search", "cost": Decimal(10000)}]
    assert sum(layer["this"] for layer in view.layers) == Decimal(10000)
    assert sum(r["cost"] for r in view.trend) == Decimal(11122)
    assert view.coverage["team"] == 1.0
    assert view.as_json()["month_start"] == "2025-02-01"
    owners_only = overview(billing, NONE, date(2025, 1, 31), teams={"ml"})
    assert owners_only.this_month == Decimal(100)


def test_cache_reuses_answers_until_the_duckdb_file_changes(tmp_path):
    url = f"duckdb:///{tmp_path / 'ledger.duckdb'}"
    with open_ledger(url):
        pass
    cache = ReportCache(size=2)
    calls: list[int] = []

    def compute() -> int:
        calls.append(1)
        return len(calls)

    version = duckdb_file_version(url)
    assert version is not None and ledger_version(url, lambda: pytest.fail("no ledger needed")) == version
    assert cache.get_or_compute(version, NONE, "q", compute) == 1
    assert cache.get_or_compute(version, NONE, "q", compute) == 1
    ruled = Attribution(rules=(RuleSpec(dimension="team", value="x", condition="1 = 1"),))
    assert cache.get_or_compute(version, ruled, "q", compute) == 2
    with open_ledger(url) as ledger:
        ingest_focus(ledger, [write_focus(tmp_path / "spend.csv", LINES)])
    changed = duckdb_file_version(url)
    assert changed != version
    assert cache.get_or_compute(changed, NONE, "q", compute) == 3
    assert duckdb_file_version("postgresql://localhost/x") is None
