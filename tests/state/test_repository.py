"""The state repository: rule positions, owner upserts and the ingest audit trail."""

from __future__ import annotations

import pytest

from comptroller.attribution.specs import OwnerSpec, RuleSpec
from comptroller.errors import NotFoundError
from comptroller.ingest.focus_ingest import DeliveryResult, FileResult
from comptroller.state.repository import (
    add_rule,
    list_deliveries,
    list_rules,
    load_attribution,
    record_delivery,
    record_rejection,
    remove_rule,
    set_owner,
    update_rule,
)


def rule(value: str) -> RuleSpec:
    return RuleSpec(dimension="team", value=value, condition=f"ResourceId = '{value}'")


def test_rules_keep_dense_positions(state):
    a = add_rule(state, rule("a"))
    b = add_rule(state, rule("b"))
    c = add_rule(state, rule("c"), position=2)
    first = add_rule(state, rule("first"), position=0)
    assert [r.value for r in list_rules(state)] == ["first", "a", "c", "b"]

    remove_rule(state, c.id)
    assert [r.value for r in list_rules(state)] == ["first", "a", "b"]
    assert [r.value for r in load_attribution(state).rules] == ["first", "a", "b"]
    assert {r.id for r in list_rules(state)} == {a.id, b.id, first.id}


def test_editing_or_removing_a_missing_rule_is_not_found(state):
    with pytest.raises(NotFoundError, match="42"):
        update_rule(state, 42, rule("x"))
    with pytest.raises(NotFoundError, match="42"):
        remove_rule(state, 42)


def test_set_owner_replaces_the_owner_of_a_value(state):
    set_owner(state, OwnerSpec(dimension="team", value="search", owner="alice"))
    set_owner(state, OwnerSpec(dimension="team", value="growth", owner="bob"))
    set_owner(state, OwnerSpec(dimension="team", value="search", owner="carol"))
    assert {(o.value, o.owner) for o in load_attribution(state).owners} == {
        ("search", "carol"),
        ("growth", "bob"),
    }


def test_deliveries_and_rejections_are_recorded(state):
    result = DeliveryResult(
        delivery_id="a" * 32,
        source="focus",
        files=(FileResult("/data/jan.csv", 3, "1.2", ("x_ResourceGroup",), "arrow"),),
        rows=3,
        replaced_rows=2,
        seconds=0.5,
    )
    record_delivery(state, result)
    record_rejection(state, "b" * 32, "focus", ["/data/bad.csv"], "row 3: bad decimal")

    recorded = {d.id: d for d in list_deliveries(state)}
    assert set(recorded) == {"a" * 32, "b" * 32}
    ok, bad = recorded["a" * 32], recorded["b" * 32]
    assert (ok.status, ok.rows, ok.replaced_rows, ok.seconds) == ("committed", 3, 2, 0.5)
    assert ok.files == [{"path": "/data/jan.csv", "rows": 3, "focus_version": "1.2", "reader": "arrow"}]
    assert (bad.status, bad.message, bad.files) == (
        "rejected",
        "row 3: bad decimal",
        [{"path": "/data/bad.csv"}],
    )
