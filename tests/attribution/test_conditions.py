"""Rule conditions: the supported SQL subset on both backends, and clear errors for the rest."""

from __future__ import annotations

import pytest

from comptroller.attribution.conditions import referenced_columns
from comptroller.attribution.specs import Attribution, RuleSpec
from comptroller.errors import RuleError
from comptroller.reports.spend import SpendQuery, spend
from tests.attribution.lines import RESOURCES, values_by_resource
from tests.focus_fixtures import ledger_totals


def matched(ledger, condition: str) -> set[str]:
    """ResourceIds an override rule with this condition claims."""
    rule = RuleSpec(dimension="team", value="matched", condition=condition, override=True)
    found = values_by_resource(ledger, Attribution(rules=(rule,)))
    return {rid for rid, value in found.items() if value == "matched"}


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("tag('env') = 'prod'", {"r1"}),
        ("tag('env') IN ('prod', 'dev')", {"r1", "r3"}),
        ("tag('team') IS NULL", {"r2", "r3", "r4", "r5"}),
        ("tag('pool') IS NOT NULL", {"r4"}),
        ("SubAccountName IN ('Orion', 'Shared')", {"r3", "r4"}),
        ("SubAccountName NOT IN ('Orion', 'Shared')", {"r1", "r2", "r5"}),
        ("SubAccountName LIKE 'Atlas%'", {"r1", "r2"}),
        ("SubAccountName LIKE '%labs'", {"r5"}),
        ("SubAccountName ILIKE 'atlas%'", {"r1", "r2", "r5"}),
        ("SubAccountName ILIKE 'ATLAS-%'", {"r5"}),
        ("Tags IS NULL", {"r2", "r5"}),
        ("Tags IS NOT NULL", {"r1", "r3", "r4"}),
        ("SubAccountName = 'Atlas' AND tag('env') = 'prod'", {"r1"}),
        ("SubAccountName = 'Orion' OR tag('pool') = 'platform'", {"r3", "r4"}),
        ("NOT SubAccountName = 'Atlas'", {"r3", "r4", "r5"}),
        ("NOT (SubAccountName = 'Atlas' OR Tags IS NULL)", {"r3", "r4"}),
        # SQL's three-valued logic: r2 has no env tag, so NOT (NULL = 'dev') is not true for it
        ("(SubAccountName = 'Atlas' OR SubAccountName = 'Orion') AND NOT tag('env') = 'dev'", {"r1"}),
        (
            "SubAccountName IN ('Atlas', 'Orion') AND (tag('env') IS NULL OR tag('env') <> 'dev')",
            {"r1", "r2"},
        ),
        ("team = 'search'", {"r1"}),
        ("EffectiveCost >= 40 AND EffectiveCost < 160", {"r3", "r4"}),
        ("BilledCost > 20.5", {"r3", "r4", "r5"}),
        ("ServiceName <> 'Vector DB'", {"r1", "r2", "r3", "r5"}),
        ("true", set(RESOURCES)),
    ],
)
def test_supported_conditions(billing, condition, expected):
    assert matched(billing, condition) == expected


@pytest.mark.parametrize(
    ("condition", "expected"),
    [
        ("SubAccountName NOT LIKE 'Atlas%'", {"r3", "r4", "r5"}),
        ("SubAccountName NOT ILIKE 'atlas%'", {"r3", "r4"}),
    ],
)
def test_negated_like(billing, condition, expected):
    assert matched(billing, condition) == expected


@pytest.mark.parametrize(
    ("condition", "mentions"),
    [
        ("NoSuchColumn = 'x'", "NoSuchColumn"),
        ("lower(SubAccountName) = 'atlas'", "LOWER(SubAccountName)"),
        ("c.SubAccountName = 'Atlas'", "c.SubAccountName"),
        ("EXISTS (SELECT 1 FROM cost_lines)", "SELECT"),
        ("SubAccountName = (SELECT max(SubAccountName) FROM cost_lines)", "SELECT"),
        ("SubAccountName IN (SELECT SubAccountName FROM cost_lines)", "SELECT"),
        ("SubAccountName BETWEEN 'A' AND 'B'", "BETWEEN"),
        ("tag(env) = 'prod'", "tag('team')"),
        ("tag('env', 'x') = 'prod'", "tag('team')"),
        ("SubAccountName = 'Atlas'; DROP TABLE cost_lines", "DROP"),
        ("SubAccountName ==", "not valid"),
    ],
)
def test_unsupported_conditions_raise_rule_error(billing, condition, mentions):
    before = ledger_totals(billing)
    with pytest.raises(RuleError) as info:
        rule = RuleSpec(dimension="team", value="x", condition=condition)
        spend(billing, Attribution(rules=(rule,)), SpendQuery(by=("team",)))
    assert mentions in str(info.value)
    assert ledger_totals(billing) == before


def test_referenced_columns_lists_plain_columns_only():
    assert referenced_columns("team = 'x' AND tag('env') = 'prod' OR ServiceName LIKE 'C%'") == {
        "team",
        "ServiceName",
    }
