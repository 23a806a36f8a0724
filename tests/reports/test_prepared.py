"""Reports from SQL compiled once per shape answer exactly as the whole Ibis expression does."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from comptroller.attribution.specs import AllocationMethod, AllocationSpec, Attribution, RuleSpec
from comptroller.reports import prepared
from comptroller.reports.spend import SpendQuery, attributed_lines, spend
from comptroller.reports.trend import spend_trend
from tests.reconcile.telemetry import ANTHROPIC_BILL_TOTAL, OPENAI_BILL_TOTAL, UNBILLED_DAY_TOTAL, load_month

ATTRIBUTION = Attribution(
    rules=(RuleSpec(dimension="team", value="billing", condition="x_Source = 'openai_costs'"),),
    allocations=(
        AllocationSpec(
            name="split",
            condition="ProviderName = 'Anthropic'",
            dimension="team",
            method=AllocationMethod.FIXED,
            weights={"search": 3, "growth": 1},
        ),
    ),
)


def plain(ledger, query: SpendQuery) -> dict:
    """The same report computed by the whole Ibis expression, with no compiled template."""
    table = attributed_lines(ledger, ATTRIBUTION, list(query.by), query, ["EffectiveCost"])
    grouped = table.group_by(list(query.by)).aggregate(cost=table["EffectiveCost"].sum())
    return {tuple(r[d] for d in query.by): r["cost"] for r in grouped.to_pyarrow().to_pylist()}


def report(ledger, query: SpendQuery) -> dict:
    return {tuple(r[d] for d in query.by): r["cost"] for r in spend(ledger, ATTRIBUTION, query).rows}


def test_each_period_and_filter_reuses_one_compiled_shape_with_the_same_answers(ledger):
    load_month(ledger)
    questions = [
        SpendQuery(by=("team",), start=date(2025, 3, d), end=date(2025, 3, d + 1)) for d in (1, 2, 3)
    ] + [SpendQuery(by=("team",), start=date(2025, 3, 1), end=date(2025, 3, 31), filters={"team": "search"})]
    shapes = []
    for query in questions:
        assert report(ledger, query) == plain(ledger, query)
        shapes.append(len(prepared._templates))
    assert shapes[1:] == [shapes[0]] * (len(shapes) - 1)
    month = report(ledger, SpendQuery(by=("team",), start=date(2025, 3, 1), end=date(2025, 3, 31)))
    assert abs(
        sum(month.values()) - (OPENAI_BILL_TOTAL + UNBILLED_DAY_TOTAL + ANTHROPIC_BILL_TOTAL)
    ) < Decimal("0.000001")


def test_a_fixed_split_and_a_trend_match_the_whole_expression(ledger):
    load_month(ledger)
    query = SpendQuery(by=("team",), start=date(2025, 3, 1), end=date(2025, 3, 31))
    teams = report(ledger, query)
    assert teams == plain(ledger, query)
    assert {("search",), ("growth",)} <= teams.keys()
    trend = spend_trend(ledger, ATTRIBUTION, query, "month")
    assert abs(trend.total - sum(teams.values())) < Decimal("0.000001")


def test_precedence_starts_when_a_bill_arrives_after_telemetry(ledger):
    load_month(ledger, bills=False)
    month = SpendQuery(by=("ProviderName",), start=date(2025, 3, 1), end=date(2025, 3, 31))
    telemetry_only = report(ledger, month)
    assert telemetry_only == plain(ledger, month)
    load_month(ledger, telemetry=False)
    both = report(ledger, month)
    assert both == plain(ledger, month)
    assert abs(both[("OpenAI",)] - (OPENAI_BILL_TOTAL + UNBILLED_DAY_TOTAL)) < Decimal("0.000001")


def test_any_dimension_and_an_open_or_closed_period_share_the_compiled_shape(ledger):
    load_month(ledger)
    report(ledger, SpendQuery(by=("team",)))
    compiled = len(prepared._templates)
    for query in (
        SpendQuery(by=("customer", "workflow")),
        SpendQuery(by=("risk_tier",), start=date(2025, 3, 2)),
        SpendQuery(by=("feature",), end=date(2025, 3, 20), filters={"function": ""}),
        SpendQuery(by=("agent", "environment"), start=date(2025, 3, 2), end=date(2025, 3, 20)),
    ):
        assert report(ledger, query) == plain(ledger, query)
        assert len(prepared._templates) == compiled, query
