"""One-off approval passes, run against the in-process and the Redis reserver alike."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from comptroller.budgets.model import Budget, BudgetBehaviour, BudgetScope
from comptroller.gateway.ports import BudgetBlocked
from comptroller.gateway.snapshot import ApprovalPass, Snapshot
from tests.gateway.enforcement.conftest import apply_snapshot
from tests.gateway.enforcement.test_budget_contract import budget as team_budget

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)


def gate(budget_id: str = "gate", amount: str = "1") -> Budget:
    return team_budget(budget_id, amount, BudgetBehaviour.APPROVAL)


def granted(pass_id: str = "apr_1", budget_id: str = "gate", **extra) -> ApprovalPass:
    return ApprovalPass(id=pass_id, budget_id=budget_id, expires_at=NOW + timedelta(hours=1), **extra)


async def exhaust(reserver, budget: Budget) -> None:
    await reserver.settle(await reserver.reserve([budget], budget.amount, NOW, "fill"), budget.amount)


async def test_a_pass_admits_one_blocked_request_and_is_used_up(reserver):
    budget = gate()
    await exhaust(reserver, budget)
    one_off = granted()
    admitted = await reserver.reserve([budget], Decimal("0.5"), NOW, "r1", passes=(one_off,))
    assert admitted.approval_pass_ids == ("apr_1",)
    assert await reserver.spent(budget, NOW) == Decimal("1.5")  # held against the budget all the same
    with pytest.raises(BudgetBlocked):
        await reserver.reserve([budget], Decimal("0.5"), NOW, "r2", passes=(one_off,))


async def test_a_pass_is_not_spent_while_the_budget_has_room(reserver):
    budget = gate()
    one_off = granted()
    roomy = await reserver.reserve([budget], Decimal("0.5"), NOW, "r1", passes=(one_off,))
    assert roomy.approval_pass_ids == ()
    await reserver.settle(roomy, Decimal("1"))
    used = await reserver.reserve([budget], Decimal("0.5"), NOW, "r2", passes=(one_off,))
    assert used.approval_pass_ids == ("apr_1",)


async def test_a_pass_does_not_admit_past_its_amount_or_expiry_or_for_another_budget(reserver):
    budget, other = gate(), gate("other")
    await exhaust(reserver, budget)
    small = granted("apr_small", max_amount=Decimal("0.1"))
    stale = ApprovalPass(id="apr_stale", budget_id="gate", expires_at=NOW - timedelta(seconds=1))
    elsewhere = granted("apr_other", budget_id="other")
    for offered in (small, stale, elsewhere):
        with pytest.raises(BudgetBlocked):
            await reserver.reserve([budget, other], Decimal("0.5"), NOW, "r", passes=(offered,))
    assert (
        await reserver.reserve([budget], Decimal("0.1"), NOW, "r", passes=(small,))
    ).approval_pass_ids == ("apr_small",)


async def test_a_refused_request_does_not_use_its_pass(reserver):
    budget = gate()
    cap = Budget(id="cap", name="cap", scope=BudgetScope.TEAM, scope_value="search", amount=Decimal("0.2"))
    await exhaust(reserver, budget)
    one_off = granted()
    with pytest.raises(BudgetBlocked) as blocked:
        await reserver.reserve([budget, cap], Decimal("0.5"), NOW, "r1", passes=(one_off,))
    assert blocked.value.budget.id == "cap"  # a hard cap is never passed
    admitted = await reserver.reserve([budget], Decimal("0.5"), NOW, "r2", passes=(one_off,))
    assert admitted.approval_pass_ids == ("apr_1",)


async def test_each_pass_admits_once_across_replicas(make_reserver):
    """Many requests on two replicas at once, two passes: exactly two are admitted."""
    budget = gate()
    first, second = make_reserver(), make_reserver()
    shared = make_reserver.backend == "redis"
    await exhaust(first, budget)
    if not shared:
        await exhaust(second, budget)
    passes = (granted("apr_a"), granted("apr_b"))

    async def attempt(replica, i: int) -> tuple[str, ...] | None:
        try:
            return (
                await replica.reserve([budget], Decimal("0.5"), NOW, f"r{i}", passes=passes)
            ).approval_pass_ids
        except BudgetBlocked:
            return None

    results = await asyncio.gather(*(attempt(first if i % 2 else second, i) for i in range(40)))
    used = [r for r in results if r is not None]
    if shared:
        assert sorted(used) == [("apr_a",), ("apr_b",)]
    else:  # one process each: every replica has its own memory
        assert len(used) == 4


async def test_a_used_pass_stays_used_while_a_snapshot_still_lists_it(reserver):
    budget = gate()
    await exhaust(reserver, budget)
    one_off = granted()
    snapshot = Snapshot(version=2, generated_at=NOW, budgets=[budget], approval_passes=[one_off])
    await apply_snapshot(reserver, snapshot)
    await reserver.reserve([budget], Decimal("0.5"), NOW, "r1", passes=(one_off,))
    await apply_snapshot(reserver, snapshot.model_copy(update={"version": 3}))
    with pytest.raises(BudgetBlocked):
        await reserver.reserve([budget], Decimal("0.5"), NOW, "r2", passes=(one_off,))
