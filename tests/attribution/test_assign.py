"""Assigning a row of the unowned queue writes a rule that owns exactly that row's spend."""

from __future__ import annotations

from decimal import Decimal

import pytest

from comptroller.attribution.assign import assignment_rule, group_condition
from comptroller.attribution.specs import Attribution
from comptroller.errors import RuleError
from comptroller.reports.coverage import unowned_spend
from tests.attribution.lines import values_by_resource


def test_assigning_the_top_row_owns_it_and_nothing_else(billing):
    queue = unowned_spend(billing, Attribution(), by=("team", "SubAccountName"))
    top = queue[0]
    assert top.group == {"team": None, "SubAccountName": "atlas-labs"} and top.cost == Decimal(160)

    rule = assignment_rule(top.group, value="dana")
    owners = values_by_resource(billing, Attribution(rules=(rule,)), "owner")
    assert owners == {"r1": None, "r2": None, "r3": None, "r4": None, "r5": "dana"}

    after = unowned_spend(billing, Attribution(rules=(rule,)), by=("team", "SubAccountName"))
    assert top.group not in [row.group for row in after]
    assert sum(r.cost for r in after) == sum(r.cost for r in queue) - top.cost


def test_values_are_quoted_and_empty_values_match_anything():
    assert (
        group_condition({"team": None, "SubAccountName": "O'Brien lab"}) == "SubAccountName = 'O''Brien lab'"
    )
    with pytest.raises(RuleError, match="match"):
        group_condition({"team": None, "SubAccountName": ""})


def test_a_team_assignment_is_a_team_rule(billing):
    rule = assignment_rule({"SubAccountName": "Orion"}, value="ml-platform", dimension="team")
    assert values_by_resource(billing, Attribution(rules=(rule,)))["r3"] == "ml-platform"
