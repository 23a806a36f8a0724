"""The budget tree in state, on SQLite and PostgreSQL: saved exactly, validated, audited."""

from __future__ import annotations

from decimal import Decimal

import pytest

from comptroller.budgets import store
from comptroller.budgets.model import Budget, BudgetBehaviour
from comptroller.errors import BudgetError, NotFoundError
from comptroller.governance import audit


def make(budget_id: str, amount: str, parent: str | None = None, **extra) -> Budget:
    fields = {"scope": "team", "scope_value": budget_id} | extra
    return Budget(id=budget_id, name=budget_id.title(), amount=Decimal(amount), parent_id=parent, **fields)


def save(state, *budgets: Budget) -> list[Budget]:
    with state.session() as session, session.begin():
        return [store.save_budget(session, b, actor="user:ana") for b in budgets]


def test_round_trip_keeps_every_field(state):
    original = make(
        "search",
        "1234.5678",
        behaviour=BudgetBehaviour.APPROVAL,
        fail_mode="open",
        thresholds=(Decimal("0.25"), Decimal("0.9")),
        period="weekly",
    )
    (saved,) = save(state, original)
    with state.session() as session:
        assert store.get_budget(session, "search") == saved == original
        assert store.list_budgets(session) == [original]
        entries = audit.list_entries(session, subject="budget:search")
    assert [e.action for e in entries] == ["budget.create"]
    assert entries[0].actor == "user:ana" and entries[0].detail["amount"] == "1234.5678"


def test_update_replaces_fields_and_is_audited_with_before_and_after(state):
    save(state, make("search", "100"))
    save(state, make("search", "150", behaviour=BudgetBehaviour.ALERT))
    with state.session() as session:
        assert store.get_budget(session, "search").amount == Decimal(150)
        update = audit.list_entries(session, action="budget.update")[0]
    assert update.detail["before"]["amount"] == "100.0000" and update.detail["after"]["amount"] == "150"


def test_tree_rules_name_the_field(state):
    save(state, make("org", "1000", scope="portfolio", scope_value=None), make("search", "600", parent="org"))
    with pytest.raises(BudgetError, match=r"^parent_id: no budget with id 'ghost'"):
        save(state, make("x", "1", parent="ghost"))
    with pytest.raises(BudgetError, match=r"^parent_id: budget 'org' cannot be its own parent"):
        save(state, make("org", "1000", parent="org", scope="portfolio", scope_value=None))
    with pytest.raises(BudgetError, match=r"^parent_id: .* would close a cycle"):
        save(state, make("org", "1000", parent="search", scope="portfolio", scope_value=None))
    with pytest.raises(
        BudgetError, match=r"^amount: 1200 exceeds the monthly amount 1000 of parent budget 'org'"
    ):
        save(state, make("growth", "1200", parent="org"))
    with pytest.raises(
        BudgetError, match=r"^amount: 500 is below the monthly amount 600 of child budget 'search'"
    ):
        save(state, make("org", "500", scope="portfolio", scope_value=None))
    # Another period is not compared, and children together may exceed their parent.
    save(
        state, make("agent-day", "5000", parent="search", period="daily"), make("growth", "900", parent="org")
    )
    with state.session() as session:
        assert [c.id for c in store.children(session, "org")] == ["growth", "search"]
        assert not audit.list_entries(session, subject="budget:x")


def test_delete_refuses_a_parent_then_deletes_leaves(state):
    save(state, make("org", "1000", scope="portfolio", scope_value=None), make("search", "600", parent="org"))
    with (
        state.session() as session,
        session.begin(),
        pytest.raises(BudgetError, match="child budgets \\('search'\\)"),
    ):
        store.delete_budget(session, "org", actor="user:ana")
    with state.session() as session, session.begin():
        store.delete_budget(session, "search", actor="user:ana")
        store.delete_budget(session, "org", actor="user:ana")
    with state.session() as session:
        assert store.list_budgets(session) == []
        assert [e.action for e in audit.list_entries(session, action="budget.delete")] == [
            "budget.delete"
        ] * 2
        with pytest.raises(NotFoundError, match="no budget with id 'org'"):
            store.get_budget(session, "org")


def test_amounts_finer_than_a_hundredth_of_a_cent_are_refused_not_rounded(state):
    with pytest.raises(BudgetError, match=r"amount: 10\.00005 has more than 4 decimal places"):
        save(state, make("search", "10.00005"))
    with state.session() as session:
        assert store.list_budgets(session) == []
    with pytest.raises(ValueError, match="amount"):
        make("tiny", "1.4e-45")  # below the gateway's micro-dollar resolution
