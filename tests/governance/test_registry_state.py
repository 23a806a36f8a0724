"""The registry and its lifecycle on both state backends (SQLite and PostgreSQL)."""

from __future__ import annotations

from decimal import Decimal

import pytest

from comptroller.errors import ForbiddenError, GovernanceError
from comptroller.governance import audit, lifecycle, registry, users
from comptroller.governance.registry import UseCaseSpec, UseCaseStatus


def test_review_round_trip(state):
    with state.session() as s, s.begin():
        for name, roles in (("olga", ["team_owner"]), ("ann", ["approver"]), ("ben", ["approver"])):
            users.create_user(s, name, actor="test", roles=roles, teams=["search"] if name == "olga" else [])
    spec = UseCaseSpec(
        name="Refund agent",
        purpose="Refunds small orders",
        owner="olga@example.com",
        team="search",
        vendor="openai",
        model="gpt-4o",
        autonomy="autonomous",
        external_actions=True,
        expected_monthly_cost=Decimal("1234.5"),
        data_classes=["regulated", "personal", "regulated"],
    )
    with state.session() as s, s.begin():
        owner = users.principal_of(s, "olga")
        uid = registry.create_use_case(s, spec, owner).id
        lifecycle.submit(s, uid, owner)
    with state.session() as s, s.begin():
        lifecycle.review(s, uid, users.principal_of(s, "ann"), approve=True)
    with pytest.raises(GovernanceError), state.session() as s, s.begin():
        lifecycle.review(s, uid, users.principal_of(s, "ann"), approve=True)
    with pytest.raises(ForbiddenError), state.session() as s, s.begin():
        lifecycle.review(s, uid, users.principal_of(s, "olga"), approve=True)
    with state.session() as s, s.begin():
        row = lifecycle.review(s, uid, users.principal_of(s, "ben"), approve=True)
        assert row.status == UseCaseStatus.APPROVED
    with state.session() as s:
        row = registry.get_use_case(s, uid, users.principal_of(s, "ann"))
        assert row.data_classes == ["personal", "regulated"] and row.expected_monthly_cost == Decimal(
            "1234.50"
        )
        assert row.risk_tier == "critical" and "autonomous-regulated" in row.risk_reasons
        assert [r.reviewer for r in registry.reviews_of(s, row)] == ["ann", "ben"]
        actions = [e.action for e in audit.list_entries(s, action="use_case.")]
        assert actions[0] == "use_case.approved" and audit.verify(s).ok
