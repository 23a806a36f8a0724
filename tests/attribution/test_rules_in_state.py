"""Rules live in the state database and apply at query time: editing one re-attributes history."""

from __future__ import annotations

import pytest

from comptroller.attribution.specs import AllocationSpec, OwnerSpec, RuleSpec
from comptroller.errors import NotFoundError, RuleError
from comptroller.reports.spend import SpendQuery, spend
from comptroller.state.repository import (
    add_allocation,
    add_rule,
    list_rules,
    load_attribution,
    remove_allocation,
    remove_rule,
    set_owner,
    update_rule,
)
from tests.attribution.lines import values_by_resource


def by_team(ledger, state) -> dict[str | None, int]:
    report = spend(ledger, load_attribution(state), SpendQuery(by=("team",)))
    return {row["team"]: row["cost"] for row in report.rows}


def test_editing_and_removing_a_rule_re_attributes_history(billing, state):
    assert by_team(billing, state) == {"search": 10, None: 300}

    rule = add_rule(state, RuleSpec(dimension="team", value="atlas", condition="SubAccountName = 'Atlas'"))
    assert by_team(billing, state) == {"search": 10, "atlas": 20, None: 280}

    update_rule(
        state, rule.id, RuleSpec(dimension="team", value="orion", condition="SubAccountName = 'Orion'")
    )
    assert by_team(billing, state) == {"search": 10, "orion": 40, None: 260}

    update_rule(
        state,
        rule.id,
        RuleSpec(dimension="team", value="orion", condition="SubAccountName = 'Orion'", override=True),
    )
    assert by_team(billing, state) == {"search": 10, "orion": 40, None: 260}

    remove_rule(state, rule.id)
    assert by_team(billing, state) == {"search": 10, None: 300}


def test_rule_order_in_state_decides_the_first_match(billing, state):
    broad = add_rule(state, RuleSpec(dimension="team", value="broad", condition="Tags IS NULL"))
    narrow = add_rule(
        state, RuleSpec(dimension="team", value="narrow", condition="ResourceId = 'r5'"), position=1
    )
    assert [r.id for r in list_rules(state)] == [narrow.id, broad.id]
    assert values_by_resource(billing, load_attribution(state)) == {
        "r1": "search",
        "r2": "broad",
        "r3": None,
        "r4": None,
        "r5": "narrow",
    }

    remove_rule(state, narrow.id)
    assert values_by_resource(billing, load_attribution(state))["r5"] == "broad"


def test_a_rule_naming_an_unknown_column_fails_at_query_time(billing, state):
    add_rule(state, RuleSpec(dimension="team", value="x", condition="NoSuchColumn = 'y'"))
    with pytest.raises(RuleError, match="NoSuchColumn"):
        spend(billing, load_attribution(state), SpendQuery(by=("team",)))


def test_owners_and_allocations_round_trip_through_state(billing, state):
    set_owner(state, OwnerSpec(dimension="team", value="search", owner="alice"))
    set_owner(state, OwnerSpec(dimension="team", value="search", owner="bob"))
    spec = AllocationSpec(
        name="platform",
        condition="tag('pool') = 'platform'",
        dimension="team",
        method="fixed",
        weights={"search": 1.0, "growth": 3.0},
    )
    add_allocation(state, spec)
    with pytest.raises(RuleError, match="platform"):
        add_allocation(state, spec)

    loaded = load_attribution(state)
    assert loaded.owners == (OwnerSpec(dimension="team", value="search", owner="bob"),)
    assert loaded.allocations == (spec,)

    remove_allocation(state, "platform")
    assert load_attribution(state).allocations == ()
    with pytest.raises(NotFoundError):
        remove_allocation(state, "platform")
