"""Random sequences of reserve, settle and release give the same answers on both backends.

Hypothesis drives the in-process reserver and the Redis one with the same operations and
compares every decision (admitted or which budget refused, alerts raised) and every budget's
spend after each step; it also checks the budget invariant: with real costs at most their
reservations, no blocking budget's spend ever exceeds its amount.
"""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from comptroller.budgets.model import Budget, BudgetBehaviour, BudgetScope
from comptroller.gateway.enforcement.memory import MemoryBudgetReserver
from comptroller.gateway.enforcement.redis_backend import RedisBudgetReserver
from comptroller.gateway.ports import BudgetBlocked, Reservation
from tests.gateway.enforcement.conftest import REDIS_URL, drop_namespace

NOW = datetime(2026, 7, 1, 8, 0, tzinfo=UTC)
BUDGETS = [
    Budget(id="cap", name="cap", scope=BudgetScope.TEAM, scope_value="t", amount=Decimal("5")),
    Budget(
        id="gate",
        name="gate",
        scope=BudgetScope.TEAM,
        scope_value="t",
        amount=Decimal("3.5"),
        behaviour=BudgetBehaviour.APPROVAL,
    ),
    Budget(
        id="watch",
        name="watch",
        scope=BudgetScope.TEAM,
        scope_value="t",
        amount=Decimal("4"),
        behaviour=BudgetBehaviour.ALERT,
    ),
]

money = st.integers(min_value=1, max_value=2_000_000).map(lambda micros: Decimal(micros).scaleb(-6))
reserve = st.tuples(st.just("reserve"), st.sets(st.integers(0, 2), min_size=1), money)
settle = st.tuples(st.just("settle"), st.integers(0, 50), st.floats(0, 1))
release = st.tuples(st.just("release"), st.integers(0, 50), st.just(0.0))
operations = st.lists(st.one_of(reserve, settle, release), min_size=1, max_size=25)


async def replay(ops: list[tuple]) -> None:
    namespace = f"test-enforcement-agree-{uuid.uuid4().hex[:12]}"
    memory, shared = MemoryBudgetReserver(), RedisBudgetReserver(REDIS_URL, namespace)
    open_pairs: list[tuple[Reservation, Reservation]] = []
    try:
        for op, arg, value in ops:
            if op == "reserve":
                chosen = [BUDGETS[i] for i in sorted(arg)]
                outcomes = []
                for engine in (memory, shared):
                    try:
                        outcomes.append(await engine.reserve(chosen, value, NOW, "r"))
                    except BudgetBlocked as exc:
                        outcomes.append(exc)
                mine, theirs = outcomes
                if isinstance(mine, BudgetBlocked):
                    assert isinstance(theirs, BudgetBlocked) and theirs.budget.id == mine.budget.id
                    assert theirs.remaining == mine.remaining
                    assert (theirs.approval_request_id is None) == (mine.approval_request_id is None)
                else:
                    assert isinstance(theirs, Reservation), theirs
                    assert (theirs.amount, theirs.alerts) == (mine.amount, mine.alerts)
                    open_pairs.append((mine, theirs))
            elif open_pairs:
                mine, theirs = open_pairs.pop(arg % len(open_pairs))
                if op == "settle":
                    actual = (mine.amount * Decimal(str(value))).quantize(Decimal("0.000001"))
                    await memory.settle(mine, actual)
                    await shared.settle(theirs, actual)
                else:
                    await memory.release(mine)
                    await shared.release(theirs)
            for budget in BUDGETS:
                spent = await memory.spent(budget, NOW)
                assert await shared.spent(budget, NOW) == spent, budget.id
                if budget.behaviour is not BudgetBehaviour.ALERT:
                    assert spent <= budget.amount
    finally:
        await shared.aclose()
        await drop_namespace(namespace)


@settings(max_examples=40, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])
@given(operations)
def test_memory_and_redis_backends_agree(ops):
    asyncio.run(replay(ops))
