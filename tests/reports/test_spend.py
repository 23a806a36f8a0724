"""Spend by any dimensions, over any date range, in any of the four FOCUS costs."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from comptroller.attribution.specs import Attribution, OwnerSpec, RuleSpec
from comptroller.errors import QueryError
from comptroller.ingest.focus_ingest import ingest_focus
from comptroller.reports.spend import SpendQuery, spend
from tests.focus_fixtures import write_focus


def charge(start: str, end: str) -> dict[str, str]:
    return {"ChargePeriodStart": start, "ChargePeriodEnd": end}


FEBRUARY = {"BillingPeriodStart": "2025-02-01T00:00:00Z", "BillingPeriodEnd": "2025-03-01T00:00:00Z"}
LINES = [
    {
        "ResourceId": "a",
        "BilledCost": "1",
        "EffectiveCost": "2",
        "ListCost": "3",
        "ContractedCost": "4",
        "ServiceName": "Claude API",
        "Tags": {"team": "search", "product": "assistant"},
        **charge("2025-01-10T23:30:00Z", "2025-01-11T00:00:00Z"),
    },
    {
        "ResourceId": "b",
        "BilledCost": "10",
        "EffectiveCost": "20",
        "ListCost": "30",
        "ContractedCost": "40",
        "ServiceName": "GPT API",
        "Tags": {"team": "growth"},
        **charge("2025-01-11T00:00:00Z", "2025-01-12T00:00:00Z"),
    },
    {
        "ResourceId": "c",
        "cost": "100",
        "ServiceName": "Claude API",
        "Tags": {"team": "ml", "owner": "carol"},
        **charge("2025-01-09T00:00:00Z", "2025-01-10T00:00:00Z"),
    },
    {
        "ResourceId": "d",
        "cost": "1000",
        "ServiceName": "GPT API",
        "Tags": None,
        **charge("2025-01-31T23:59:59Z", "2025-02-01T00:00:00Z"),
    },
    {
        "ResourceId": "e",
        "cost": "10000",
        "ServiceName": "Claude API",
        "Tags": {"team": "search"},
        **FEBRUARY,
        **charge("2025-02-01T00:00:00Z", "2025-02-02T00:00:00Z"),
    },
]
COST_COLUMN = {
    "effective": "EffectiveCost",
    "billed": "BilledCost",
    "list": "ListCost",
    "contracted": "ContractedCost",
}


def amount(line: dict, column: str = "EffectiveCost") -> Decimal:
    return Decimal(line.get(column, line.get("cost")))


@pytest.fixture(scope="module")
def billing(module_ledger, tmp_path_factory):
    ingest_focus(module_ledger, [write_focus(tmp_path_factory.mktemp("focus") / "spend.csv", LINES)])
    return module_ledger


def grouped(ledger, attribution=None, **query) -> dict:
    report = spend(ledger, attribution or Attribution(), SpendQuery(**query))
    assert report.currency == "USD"
    assert report.total == sum((row["cost"] for row in report.rows), Decimal(0))
    return {tuple(row[name] for name in report.by): row["cost"] for row in report.rows}


def test_total_without_dimensions(billing):
    assert grouped(billing) == {(): sum(amount(line) for line in LINES)}


def test_by_business_dimension(billing):
    assert grouped(billing, by=("team",)) == {
        ("search",): Decimal(10002),
        ("growth",): Decimal(20),
        ("ml",): Decimal(100),
        (None,): Decimal(1000),
    }


def test_by_focus_column(billing):
    assert grouped(billing, by=("ServiceName",)) == {
        ("Claude API",): Decimal(10102),
        ("GPT API",): Decimal(1020),
    }


def test_by_tag(billing):
    assert grouped(billing, by=("tag:product",)) == {("assistant",): Decimal(2), (None,): Decimal(11120)}


def test_by_several_dimensions(billing):
    assert grouped(billing, by=("team", "ServiceName", "tag:owner")) == {
        ("search", "Claude API", None): Decimal(10002),
        ("growth", "GPT API", None): Decimal(20),
        ("ml", "Claude API", "carol"): Decimal(100),
        (None, "GPT API", None): Decimal(1000),
    }


def test_rows_are_ordered_by_cost_descending(billing):
    report = spend(billing, Attribution(), SpendQuery(by=("ResourceId",)))
    assert [row["ResourceId"] for row in report.rows] == ["e", "d", "c", "b", "a"]


@pytest.mark.parametrize(
    ("start", "end", "resources"),
    [
        (date(2025, 1, 10), date(2025, 1, 10), {"a"}),
        (date(2025, 1, 11), date(2025, 1, 11), {"b"}),
        (date(2025, 1, 10), date(2025, 1, 31), {"a", "b", "d"}),
        (date(2025, 1, 10), date(2025, 1, 30), {"a", "b"}),
        (None, date(2025, 1, 9), {"c"}),
        (date(2025, 2, 1), None, {"e"}),
        (date(2025, 1, 1), date(2025, 2, 1), {"a", "b", "c", "d", "e"}),
        (date(2025, 3, 1), date(2025, 3, 31), set()),
    ],
)
def test_date_range_includes_the_end_day(billing, start, end, resources):
    found = grouped(billing, by=("ResourceId",), start=start, end=end)
    assert {key[0] for key in found} == resources


@pytest.mark.parametrize("cost", list(COST_COLUMN))
def test_cost_picks_its_column(billing, cost):
    column = COST_COLUMN[cost]
    expected = {(line["ResourceId"],): amount(line, column) for line in LINES}
    assert grouped(billing, by=("ResourceId",), cost=cost) == expected


def test_unknown_cost_is_a_query_error(billing):
    with pytest.raises(QueryError, match="amortized"):
        spend(billing, Attribution(), SpendQuery(cost="amortized"))


@pytest.mark.parametrize("dimension", ["nope", "tag:", "servicename", "Team"])
def test_unknown_dimension_is_a_query_error(billing, dimension):
    with pytest.raises(QueryError, match="unknown dimension"):
        spend(billing, Attribution(), SpendQuery(by=("team", dimension)))


def test_unknown_filter_dimension_is_a_query_error(billing):
    with pytest.raises(QueryError, match="nope"):
        spend(billing, Attribution(), SpendQuery(filters={"nope": "x"}))


def test_filters(billing):
    assert grouped(billing, by=("ResourceId",), filters={"team": "search"}) == {
        ("e",): Decimal(10000),
        ("a",): Decimal(2),
    }
    assert grouped(billing, by=("ResourceId",), filters={"team": ""}) == {("d",): Decimal(1000)}
    assert grouped(billing, filters={"tag:owner": "carol"}) == {(): Decimal(100)}


OWNERS = Attribution(
    owners=(
        OwnerSpec(dimension="team", value="search", owner="alice"),
        OwnerSpec(dimension="team", value="growth", owner="bob"),
    )
)


def test_owners_resolve_through_assignments(billing):
    assert grouped(billing, OWNERS, by=("team", "owner")) == {
        ("search", "alice"): Decimal(10002),
        ("growth", "bob"): Decimal(20),
        ("ml", "carol"): Decimal(100),  # the line's own owner tag
        (None, None): Decimal(1000),
    }


def test_an_unowned_team_has_no_owner(billing):
    only_search = Attribution(owners=(OwnerSpec(dimension="team", value="search", owner="alice"),))
    found = grouped(billing, only_search, by=("team", "owner"))
    assert found[("growth", None)] == Decimal(20)
    assert grouped(billing, only_search, by=("owner",)) == {
        ("alice",): Decimal(10002),
        ("carol",): Decimal(100),
        (None,): Decimal(1020),
    }


def test_a_line_s_own_owner_tag_beats_an_assignment(billing):
    attribution = Attribution(owners=(*OWNERS.owners, OwnerSpec(dimension="team", value="ml", owner="zed")))
    assert grouped(billing, attribution, by=("team", "owner"))[("ml", "carol")] == Decimal(100)


def test_the_most_specific_owned_dimension_decides(billing):
    attribution = Attribution(
        owners=(*OWNERS.owners, OwnerSpec(dimension="product", value="assistant", owner="dana"))
    )
    found = grouped(billing, attribution, by=("ResourceId", "owner"))
    assert found[("a", "dana")] == Decimal(2)
    assert found[("e", "alice")] == Decimal(10000)


def test_owners_follow_rule_assigned_teams(billing):
    attribution = Attribution(
        rules=(RuleSpec(dimension="team", value="growth", condition="ResourceId = 'd'"),),
        owners=OWNERS.owners,
    )
    assert grouped(billing, attribution, by=("owner",))[("bob",)] == Decimal(1020)


def test_a_reversed_date_range_is_a_query_error(billing):
    with pytest.raises(QueryError):
        spend(billing, Attribution(), SpendQuery(start=date(2025, 2, 1), end=date(2025, 1, 1)))
