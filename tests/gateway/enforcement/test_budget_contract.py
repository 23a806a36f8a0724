"""The ``BudgetReserver`` contract, run against the in-process and the Redis backend alike."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from comptroller.budgets.model import Budget, BudgetBehaviour, BudgetPeriod, BudgetScope
from comptroller.gateway.ports import BudgetBlocked
from comptroller.gateway.snapshot import Snapshot
from tests.gateway.enforcement.conftest import apply_snapshot

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 3, 14, 12, 0, tzinfo=UTC)


def budget(
    budget_id: str,
    amount: str,
    behaviour: BudgetBehaviour = BudgetBehaviour.HARD_CAP,
    period: BudgetPeriod = BudgetPeriod.MONTHLY,
    **extra,
) -> Budget:
    return Budget(
        id=budget_id,
        name=f"budget {budget_id}",
        scope=BudgetScope.TEAM,
        scope_value="search",
        amount=Decimal(amount),
        behaviour=behaviour,
        period=period,
        **extra,
    )


async def test_reserve_settle_release_arithmetic(reserver):
    cap = budget("cap", "10")
    first = await reserver.reserve([cap], Decimal("2.5"), NOW, "r1")
    second = await reserver.reserve([cap], Decimal("1.25"), NOW, "r2")
    assert await reserver.spent(cap, NOW) == Decimal("3.75")
    await reserver.settle(first, Decimal("0.4"))
    assert await reserver.spent(cap, NOW) == Decimal("1.65")
    await reserver.release(second)
    assert await reserver.spent(cap, NOW) == Decimal("0.4")
    await reserver.release(second)  # a second release gives nothing back twice
    assert await reserver.spent(cap, NOW) == Decimal("0.4")


async def test_amounts_are_exact_to_the_micro_dollar(reserver):
    cap = budget("micro", "1")
    held = await reserver.reserve([cap], Decimal("0.0000011"), NOW, "r")
    assert held.amount == Decimal("0.000002")  # holds round up
    await reserver.settle(held, Decimal("0.0000014"))
    assert await reserver.spent(cap, NOW) == Decimal("0.000001")
    for i in range(200):
        each = await reserver.reserve([cap], Decimal("0.000123"), NOW, f"r{i}")
        await reserver.settle(each, Decimal("0.000123"))
    assert await reserver.spent(cap, NOW) == Decimal("0.024601")


async def test_reservation_is_atomic_across_budgets(reserver):
    wide, narrow = budget("wide", "10"), budget("narrow", "5")
    await reserver.reserve([wide, narrow], Decimal("3"), NOW, "r1")
    with pytest.raises(BudgetBlocked) as blocked:
        await reserver.reserve([wide, narrow], Decimal("3"), NOW, "r2")
    assert blocked.value.budget.id == "narrow"
    assert blocked.value.remaining == Decimal("2")
    # Nothing of the refused request was held on the budget that had room.
    assert await reserver.spent(wide, NOW) == Decimal("3")
    assert await reserver.spent(narrow, NOW) == Decimal("3")
    await reserver.reserve([wide, narrow], Decimal("2"), NOW, "r3")  # exactly fills narrow
    assert await reserver.spent(narrow, NOW) == Decimal("5")


async def test_concurrent_reservations_never_exceed_the_budget(reserver):
    cap = budget("busy", "50")

    async def attempt(i: int) -> str:
        try:
            reservation = await reserver.reserve([cap], Decimal("1"), NOW, f"r{i}")
        except BudgetBlocked as exc:
            return str(exc)
        await asyncio.sleep(0)
        await reserver.settle(reservation, Decimal("1"))
        return "admitted"

    results = Counter(await asyncio.gather(*(attempt(i) for i in range(120))))
    assert results["admitted"] == 50, results
    assert await reserver.spent(cap, NOW) == Decimal("50")


async def test_alert_budgets_let_through_and_report_thresholds(reserver):
    watch = budget("watch", "10", BudgetBehaviour.ALERT)
    assert (await reserver.reserve([watch], Decimal("4"), NOW, "r1")).alerts == ()
    assert (await reserver.reserve([watch], Decimal("1"), NOW, "r2")).alerts == ("watch@0.5",)
    assert (await reserver.reserve([watch], Decimal("5"), NOW, "r3")).alerts == ("watch@0.8", "watch@1")
    over = await reserver.reserve([watch], Decimal("100"), NOW, "r4")
    assert over.alerts == ()
    assert await reserver.spent(watch, NOW) == Decimal("110")


async def test_custom_thresholds_and_blocking_budgets_do_not_alert(reserver):
    watch = budget("w2", "100", BudgetBehaviour.ALERT, thresholds=(Decimal("0.25"), Decimal("1.5")))
    cap = budget("c2", "1000")
    first = await reserver.reserve([watch, cap], Decimal("30"), NOW, "r1")
    assert first.alerts == ("w2@0.25",)
    second = await reserver.reserve([watch, cap], Decimal("130"), NOW, "r2")
    assert second.alerts == ("w2@1.5",)


async def test_approval_budgets_block_with_fresh_request_ids(reserver):
    gate = budget("gate", "1", BudgetBehaviour.APPROVAL)
    await reserver.reserve([gate], Decimal("1"), NOW, "r1")
    ids = set()
    for i in range(2):
        with pytest.raises(BudgetBlocked) as blocked:
            await reserver.reserve([gate], Decimal("0.5"), NOW, f"r{i + 2}")
        assert blocked.value.approval_request_id.startswith("apr_")
        assert "needs approval" in str(blocked.value)
        ids.add(blocked.value.approval_request_id)
    assert len(ids) == 2


async def test_hard_cap_blocks_without_approval_id(reserver):
    cap = budget("hard", "1")
    with pytest.raises(BudgetBlocked) as blocked:
        await reserver.reserve([cap], Decimal("1.000001"), NOW, "r")
    assert blocked.value.approval_request_id is None
    assert "is exhausted" in str(blocked.value)


async def test_a_new_period_starts_fresh(reserver):
    daily = budget("daily", "5", period=BudgetPeriod.DAILY)
    monday = await reserver.reserve([daily], Decimal("5"), NOW, "r1")
    with pytest.raises(BudgetBlocked):
        await reserver.reserve([daily], Decimal("1"), NOW, "r2")
    tomorrow = NOW + timedelta(days=1)
    await reserver.reserve([daily], Decimal("5"), tomorrow, "r3")
    # A call that started yesterday settles into yesterday's period.
    await reserver.settle(monday, Decimal("4"))
    assert await reserver.spent(daily, NOW) == Decimal("4")
    assert await reserver.spent(daily, tomorrow) == Decimal("5")


async def test_snapshot_baseline_counts_once(make_reserver):
    cap = budget("seeded", "10")
    replica_a, replica_b = make_reserver(), make_reserver()
    snapshot = Snapshot(version=3, generated_at=NOW, budgets=[cap], budget_spent={"seeded": Decimal("7")})
    for replica in (replica_a, replica_b, replica_a):
        await apply_snapshot(replica, snapshot)
    assert await replica_a.spent(cap, NOW) == Decimal("7")
    with pytest.raises(BudgetBlocked):
        await replica_a.reserve([cap], Decimal("3.5"), NOW, "r1")
    held = await replica_a.reserve([cap], Decimal("3"), NOW, "r2")
    await replica_a.settle(held, Decimal("2"))
    # The ledger's figure and the gateway's own settled spend are not added up.
    assert await replica_a.spent(cap, NOW) == Decimal("7")
    older = Snapshot(version=2, generated_at=NOW, budgets=[cap], budget_spent={"seeded": Decimal("1")})
    await apply_snapshot(replica_a, older)
    assert await replica_a.spent(cap, NOW) == Decimal("7")
    newer = Snapshot(version=4, generated_at=NOW, budgets=[cap], budget_spent={"seeded": Decimal("9.5")})
    await apply_snapshot(replica_a, newer)
    assert await replica_a.spent(cap, NOW) == Decimal("9.5")


async def test_unsettled_holds_expire(make_reserver):
    reserver = make_reserver(hold_ttl_s=0.3)
    cap = budget("leaky", "1")
    await reserver.reserve([cap], Decimal("1"), NOW, "lost")
    with pytest.raises(BudgetBlocked):
        await reserver.reserve([cap], Decimal("1"), NOW, "r2")
    await asyncio.sleep(0.45)
    again = await reserver.reserve([cap], Decimal("1"), NOW, "r3")
    await reserver.settle(again, Decimal("0.75"))
    assert await reserver.spent(cap, NOW) == Decimal("0.75")


async def test_no_budgets_means_nothing_to_hold(reserver):
    reservation = await reserver.reserve([], Decimal("5"), NOW, "r")
    assert reservation.budget_ids == ()
    await reserver.settle(reservation, Decimal("5"))
    await reserver.release(reservation)


async def test_a_budget_named_twice_is_charged_once(reserver):
    cap = budget("twice", "3")
    reservation = await reserver.reserve([cap, cap], Decimal("2"), NOW, "r")
    assert reservation.budget_ids == ("twice",)
    assert await reserver.spent(cap, NOW) == Decimal("2")
    await reserver.settle(reservation, Decimal("1"))
    assert await reserver.spent(cap, NOW) == Decimal("1")
