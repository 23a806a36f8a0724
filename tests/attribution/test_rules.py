"""Virtual-tag rules: ordered, first match wins; only override rules beat a line's own tags."""

from __future__ import annotations

from comptroller.attribution.specs import Attribution, RuleSpec
from comptroller.reports.spend import SpendQuery, spend
from tests.attribution.lines import values_by_resource

ATLAS = "SubAccountName = 'Atlas'"  # r1 (tagged team=search) and r2 (untagged)


def rules(*specs: RuleSpec) -> Attribution:
    return Attribution(rules=specs)


def test_without_rules_lines_keep_their_own_tags(billing):
    assert values_by_resource(billing, Attribution()) == {
        "r1": "search",
        "r2": None,
        "r3": None,
        "r4": None,
        "r5": None,
    }


def test_a_rule_fills_only_untagged_lines(billing):
    found = values_by_resource(billing, rules(RuleSpec(dimension="team", value="atlas", condition=ATLAS)))
    assert found == {"r1": "search", "r2": "atlas", "r3": None, "r4": None, "r5": None}


def test_an_override_rule_wins_over_tags(billing):
    found = values_by_resource(
        billing, rules(RuleSpec(dimension="team", value="atlas", condition=ATLAS, override=True))
    )
    assert found == {"r1": "atlas", "r2": "atlas", "r3": None, "r4": None, "r5": None}


def test_first_matching_rule_wins(billing):
    first = RuleSpec(dimension="team", value="first", condition="ResourceId IN ('r2', 'r3')")
    second = RuleSpec(dimension="team", value="second", condition="ResourceId IN ('r3', 'r4')")

    assert values_by_resource(billing, rules(first, second)) == {
        "r1": "search",
        "r2": "first",
        "r3": "first",
        "r4": "second",
        "r5": None,
    }
    assert values_by_resource(billing, rules(second, first)) == {
        "r1": "search",
        "r2": "first",
        "r3": "second",
        "r4": "second",
        "r5": None,
    }


def test_a_non_override_rule_does_not_block_a_later_one_on_tagged_lines(billing):
    """A tagged line skips fill-only rules, so a later override rule can still claim it."""
    fill = RuleSpec(dimension="team", value="fill", condition=ATLAS)
    claim = RuleSpec(dimension="team", value="claim", condition="ResourceId = 'r1'", override=True)
    found = values_by_resource(billing, rules(fill, claim))
    assert (found["r1"], found["r2"]) == ("claim", "fill")


def test_rules_apply_only_to_their_own_dimension(billing):
    product = RuleSpec(dimension="product", value="vector", condition="ServiceName = 'Vector DB'")
    attribution = rules(product)
    assert values_by_resource(billing, attribution, "team")["r4"] is None
    assert values_by_resource(billing, attribution, "product") == {
        "r1": None,
        "r2": None,
        "r3": None,
        "r4": "vector",
        "r5": None,
    }


def test_rules_move_spend_between_values_and_keep_the_total(billing):
    plain = spend(billing, Attribution(), SpendQuery(by=("team",)))
    ruled = spend(
        billing,
        rules(RuleSpec(dimension="team", value="labs", condition="SubAccountName LIKE 'atlas%'")),
        SpendQuery(by=("team",)),
    )
    assert {r["team"]: r["cost"] for r in plain.rows} == {"search": 10, None: 300}
    assert {r["team"]: r["cost"] for r in ruled.rows} == {"search": 10, "labs": 160, None: 140}
    assert ruled.total == plain.total == 310
