"""What budgets and limits do when the shared counter store cannot be reached."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from comptroller.budgets.model import Budget, BudgetBehaviour, BudgetScope, FailMode
from comptroller.gateway.enforcement.redis_backend import RedisBudgetReserver, RedisRateLimiter
from comptroller.gateway.ports import BudgetBlocked, BudgetUncheckable, RateLimited
from comptroller.gateway.snapshot import RateLimit
from tests.gateway.enforcement.conftest import REDIS_URL, UNREACHABLE_URL
from tests.gateway.enforcement.tcp_proxy import CuttableProxy

pytestmark = pytest.mark.anyio

NOW = datetime(2026, 5, 2, 9, 30, tzinfo=UTC)


def budget(
    budget_id: str, fail_mode: FailMode, behaviour: BudgetBehaviour = BudgetBehaviour.HARD_CAP
) -> Budget:
    return Budget(
        id=budget_id,
        name=f"budget {budget_id}",
        scope=BudgetScope.AGENT,
        scope_value="triage-bot",
        amount=Decimal(5),
        fail_mode=fail_mode,
        behaviour=behaviour,
    )


@pytest.fixture
async def unreachable(namespace):
    reserver = RedisBudgetReserver(UNREACHABLE_URL, namespace)
    yield reserver
    await reserver.aclose()


async def test_fail_closed_budget_blocks_with_a_clear_reason(unreachable):
    closed = budget("closed", FailMode.CLOSED)
    with pytest.raises(BudgetUncheckable) as blocked:
        await unreachable.reserve([closed], Decimal(1), NOW, "r")
    assert isinstance(blocked.value, BudgetBlocked)
    assert "fails closed" in str(blocked.value) and "unreachable" in str(blocked.value)
    assert blocked.value.budget.id == "closed"


async def test_fail_open_budget_passes_and_is_marked(unreachable):
    opened = budget("open", FailMode.OPEN)
    watch = budget("watch", FailMode.CLOSED, BudgetBehaviour.ALERT)  # alert budgets never block
    reservation = await unreachable.reserve([opened, watch], Decimal(1), NOW, "r")
    assert reservation.fail_open_budget_ids == ("open", "watch")
    await unreachable.settle(reservation, Decimal("0.5"))
    await unreachable.release(reservation)
    assert unreachable.pending_settlements == 1


async def test_one_fail_closed_budget_blocks_the_request(unreachable):
    with pytest.raises(BudgetUncheckable) as blocked:
        await unreachable.reserve(
            [budget("open", FailMode.OPEN), budget("closed", FailMode.CLOSED)], Decimal(1), NOW, "r"
        )
    assert blocked.value.budget.id == "closed"


async def test_an_outage_costs_one_connection_attempt_per_interval(unreachable):
    opened = budget("open", FailMode.OPEN)
    started = time.perf_counter()
    for i in range(200):
        await unreachable.reserve([opened], Decimal(1), NOW, f"r{i}")
    assert time.perf_counter() - started < 0.5


async def test_rate_limits_fall_back_to_this_replica(namespace):
    limiter = RedisRateLimiter(UNREACHABLE_URL, namespace)
    try:
        one = RateLimit(id="solo", scope="key", scope_value="k", max_concurrent=1)
        permit = await limiter.acquire([one], 10)
        with pytest.raises(RateLimited):
            await limiter.acquire([one], 10)
        await limiter.release(permit, 12)
        await limiter.acquire([one], 10)
    finally:
        await limiter.aclose()


async def test_settlements_made_during_an_outage_are_replayed(namespace):
    proxy = await CuttableProxy().start()
    reserver = RedisBudgetReserver(proxy.url, namespace, retry_interval_s=0.05)
    observer = RedisBudgetReserver(REDIS_URL, namespace)
    try:
        opened = budget("replayed", FailMode.OPEN)
        before = await reserver.reserve([opened], Decimal(2), NOW, "r1")
        await proxy.cut()
        await reserver.settle(before, Decimal("1.5"))
        during = await reserver.reserve([opened], Decimal(1), NOW, "r2")
        assert during.fail_open_budget_ids == ("replayed",)
        await reserver.settle(during, Decimal("0.25"))
        assert reserver.pending_settlements == 2
        assert await observer.spent(opened, NOW) == Decimal(2)  # still the hold from before
        await proxy.restore()
        await asyncio.sleep(0.1)
        after = await reserver.reserve([opened], Decimal(1), NOW, "r3")
        assert reserver.pending_settlements == 0
        await reserver.release(after)
        assert await observer.spent(opened, NOW) == Decimal("1.75")
    finally:
        await reserver.aclose()
        await observer.aclose()
        await proxy.cut()
