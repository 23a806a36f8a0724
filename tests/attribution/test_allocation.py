"""Shared-cost allocation: even, proportional and fixed splits that keep every cent traceable."""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import date
from decimal import Decimal

import pytest

from comptroller.attribution.specs import AllocationSpec, Attribution
from comptroller.errors import RuleError
from comptroller.ingest.focus_ingest import ingest_focus
from comptroller.reports.spend import SpendQuery, attributed_lines, spend
from tests.focus_fixtures import write_focus

CENT = Decimal("0.01")
SHARED = "tag('pool') = 'platform'"
FEBRUARY = {
    "BillingPeriodStart": "2025-02-01T00:00:00Z",
    "BillingPeriodEnd": "2025-03-01T00:00:00Z",
    "ChargePeriodStart": "2025-02-03T00:00:00Z",
    "ChargePeriodEnd": "2025-02-04T00:00:00Z",
}
# January: two teams with direct spend and two shared lines; February: a shared line only.
LINES = [
    {"ResourceId": "d-search", "cost": "30", "PricingQuantity": "1", "Tags": {"team": "search"}},
    {"ResourceId": "d-growth", "cost": "10", "PricingQuantity": "3", "Tags": {"team": "growth"}},
    {"ResourceId": "s-jan-1", "cost": "10.01", "PricingQuantity": "2", "Tags": {"pool": "platform"}},
    {"ResourceId": "s-jan-2", "cost": "5", "PricingQuantity": "2", "Tags": {"pool": "platform"}},
    {"ResourceId": "s-feb", "cost": "7", "PricingQuantity": "2", "Tags": {"pool": "platform"}, **FEBRUARY},
]
COST = {line["ResourceId"]: Decimal(line["cost"]) for line in LINES}
JAN_SHARED = COST["s-jan-1"] + COST["s-jan-2"]
TOTAL = sum(COST.values(), Decimal(0))


@pytest.fixture(scope="module")
def billing(module_ledger, tmp_path_factory):
    ingest_focus(module_ledger, [write_focus(tmp_path_factory.mktemp("focus") / "shared.csv", LINES)])
    return module_ledger


def allocation(method: str, **options) -> Attribution:
    spec = AllocationSpec(
        name=f"platform-{method}", condition=SHARED, dimension="team", method=method, **options
    )
    return Attribution(allocations=(spec,))


def by_team(ledger, attribution: Attribution, cost: str = "effective") -> dict[str | None, Decimal]:
    report = spend(ledger, attribution, SpendQuery(by=("team",), cost=cost))
    assert report.total.quantize(CENT) == TOTAL.quantize(CENT)
    return {row["team"]: row["cost"].quantize(CENT) for row in report.rows}


def cents(value: Decimal) -> Decimal:
    return value.quantize(CENT)


def allocated_lines(ledger, attribution: Attribution) -> list[dict]:
    table = attributed_lines(ledger, attribution, ["team"], SpendQuery(), ["EffectiveCost"])
    columns = ["ResourceId", "team", "EffectiveCost", "PricingQuantity", "AllocatedMethodId"]
    return table.select(*columns, "AllocatedMethodDetails").to_pyarrow().to_pylist()


def test_even_split_across_teams_with_direct_spend(billing):
    half = JAN_SHARED / 2
    assert by_team(billing, allocation("even")) == {
        "search": cents(COST["d-search"] + half),
        "growth": cents(COST["d-growth"] + half),
        None: cents(COST["s-feb"]),
    }


def test_even_split_across_named_targets_covers_every_period(billing):
    third = (JAN_SHARED + COST["s-feb"]) / 3
    found = by_team(billing, allocation("even", targets=("search", "growth", "ml")))
    assert found == {
        "search": cents(COST["d-search"] + third),
        "growth": cents(COST["d-growth"] + third),
        "ml": cents(third),
    }


def test_proportional_split_by_direct_cost(billing):
    direct = COST["d-search"] + COST["d-growth"]
    assert by_team(billing, allocation("proportional")) == {
        "search": cents(COST["d-search"] + JAN_SHARED * COST["d-search"] / direct),
        "growth": cents(COST["d-growth"] + JAN_SHARED * COST["d-growth"] / direct),
        None: cents(COST["s-feb"]),
    }


def test_proportional_split_by_a_metric(billing):
    # PricingQuantity: search 1, growth 3
    assert by_team(billing, allocation("proportional", metric="PricingQuantity")) == {
        "search": cents(COST["d-search"] + JAN_SHARED / 4),
        "growth": cents(COST["d-growth"] + JAN_SHARED * 3 / 4),
        None: cents(COST["s-feb"]),
    }


def test_proportional_by_an_unknown_metric_is_a_rule_error(billing):
    with pytest.raises(RuleError, match="NoSuchMetric"):
        by_team(billing, allocation("proportional", metric="NoSuchMetric"))


def test_fixed_weights(billing):
    shared = JAN_SHARED + COST["s-feb"]
    assert by_team(billing, allocation("fixed", weights={"search": 1, "growth": 3})) == {
        "search": cents(COST["d-search"] + shared / 4),
        "growth": cents(COST["d-growth"] + shared * 3 / 4),
    }


@pytest.mark.parametrize(
    "attribution",
    [
        allocation("even"),
        allocation("even", targets=("search", "growth", "ml")),
        allocation("proportional"),
        allocation("fixed", weights={"search": 1, "growth": 1, "ml": 1}),
    ],
    ids=["even", "even-targets", "proportional", "fixed-thirds"],
)
def test_totals_before_and_after_allocation_are_equal_to_the_cent(billing, attribution):
    for cost in ("effective", "billed", "list", "contracted"):
        before = spend(billing, Attribution(), SpendQuery(cost=cost)).total
        after = spend(billing, attribution, SpendQuery(by=("team",), cost=cost)).total
        assert cents(after) == cents(before) == cents(TOTAL), cost


@pytest.mark.parametrize(
    "attribution",
    [
        allocation("even"),
        allocation("even", targets=("search", "growth", "ml")),
        allocation("proportional"),
        allocation("fixed", weights={"search": 2, "growth": 1, "ml": 4}),
    ],
    ids=["even", "even-targets", "proportional", "fixed"],
)
def test_allocated_lines_carry_focus_1_3_details_whose_ratios_sum_to_one(billing, attribution):
    spec = attribution.allocations[0]
    ratios: dict[str, float] = defaultdict(float)
    amounts: dict[str, Decimal] = defaultdict(Decimal)
    for line in allocated_lines(billing, attribution):
        origin = line["ResourceId"]
        if line["AllocatedMethodId"] is None:
            assert line["AllocatedMethodDetails"] is None
            continue
        assert line["AllocatedMethodId"] == spec.name
        details = json.loads(line["AllocatedMethodDetails"])
        ratio = details["Elements"][0]["AllocatedRatio"]
        assert 0 < ratio <= 1
        assert abs(line["EffectiveCost"] - COST[origin] * Decimal(str(ratio))) < Decimal("1e-9")
        assert abs(line["PricingQuantity"] - 2 * Decimal(str(ratio))) < Decimal("1e-9")
        ratios[origin] += ratio
        amounts[origin] += line["EffectiveCost"]

    assert {"s-jan-1", "s-jan-2"} <= set(ratios)
    for origin, total in ratios.items():
        assert origin.startswith("s-")
        assert abs(total - 1) < 1e-9, origin
        assert cents(amounts[origin]) == cents(COST[origin])


def test_a_period_without_targets_keeps_its_shared_line_unallocated(billing):
    for method in ("even", "proportional"):
        lines = [
            line for line in allocated_lines(billing, allocation(method)) if line["ResourceId"] == "s-feb"
        ]
        assert len(lines) == 1
        (line,) = lines
        assert line["team"] is None
        assert line["EffectiveCost"] == COST["s-feb"]
        assert line["AllocatedMethodId"] is None and line["AllocatedMethodDetails"] is None


def test_direct_lines_are_not_touched(billing):
    lines = allocated_lines(billing, allocation("proportional"))
    direct = {line["ResourceId"]: line for line in lines if line["ResourceId"].startswith("d-")}
    assert {rid: (line["team"], line["EffectiveCost"]) for rid, line in direct.items()} == {
        "d-search": ("search", COST["d-search"]),
        "d-growth": ("growth", COST["d-growth"]),
    }


def test_allocation_can_be_switched_off_per_query(billing):
    report = spend(billing, allocation("even"), SpendQuery(by=("team",), allocate=False))
    assert {row["team"]: row["cost"] for row in report.rows} == {
        "search": COST["d-search"],
        "growth": COST["d-growth"],
        None: JAN_SHARED + COST["s-feb"],
    }


def test_allocation_within_a_date_range_uses_that_range_only(billing):
    report = spend(
        billing, allocation("even"), SpendQuery(by=("team",), start=date(2025, 2, 1), end=date(2025, 2, 28))
    )
    assert {row["team"]: row["cost"] for row in report.rows} == {None: COST["s-feb"]}


def test_filtering_on_the_allocated_dimension_includes_allocated_parts(billing):
    report = spend(billing, allocation("even"), SpendQuery(filters={"team": "search"}))
    assert cents(report.total) == cents(COST["d-search"] + JAN_SHARED / 2)
