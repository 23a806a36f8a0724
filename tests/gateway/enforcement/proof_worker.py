"""One gateway replica's share of the concurrency proof, run in its own process.

It builds its own ``RedisBudgetReserver`` (its own connections, its own event loop) and, for
each scenario, waits at a barrier for the other replica, then fires all of its requests at once:
reserve the worst case, wait like an upstream call, settle to the real cost. It reports what
each request did.
"""

from __future__ import annotations

import asyncio
import random
from datetime import UTC, datetime
from decimal import Decimal
from multiprocessing.queues import Queue
from multiprocessing.synchronize import Barrier
from typing import Any

from comptroller.budgets.model import Budget
from comptroller.gateway.enforcement.redis_backend import RedisBudgetReserver
from comptroller.gateway.ports import BudgetBlocked

Outcome = tuple[str, str, str]


async def _scenario(
    reserver: RedisBudgetReserver, budget: Budget, costs: list[tuple[str, str]], rng: random.Random
) -> list[Outcome]:
    async def one(reserve: Decimal, actual: Decimal) -> Outcome:
        try:
            reservation = await reserver.reserve([budget], reserve, datetime.now(UTC), "proof")
        except BudgetBlocked as exc:
            return ("blocked", str(reserve), type(exc).__name__)
        await asyncio.sleep(rng.uniform(0, 0.01))
        await reserver.settle(reservation, actual)
        return ("settled", str(reservation.amount), str(actual))

    return list(await asyncio.gather(*(one(Decimal(r), Decimal(a)) for r, a in costs)))


async def _drive(
    url: str,
    namespace: str,
    scenarios: list[tuple[dict[str, Any], list[tuple[str, str]]]],
    start: Barrier,
    seed: int,
) -> list[list[Outcome]]:
    reserver = RedisBudgetReserver(url, namespace)
    rng = random.Random(seed)
    outcomes = []
    try:
        for budget, costs in scenarios:
            await asyncio.to_thread(start.wait, 60)
            outcomes.append(await _scenario(reserver, Budget.model_validate(budget), costs, rng))
    finally:
        await reserver.aclose()
    return outcomes


def run_replica(
    url: str,
    namespace: str,
    scenarios: list[tuple[dict[str, Any], list[tuple[str, str]]]],
    start: Barrier,
    results: Queue,
    seed: int,
) -> None:
    results.put((seed, asyncio.run(_drive(url, namespace, scenarios, start, seed))))
