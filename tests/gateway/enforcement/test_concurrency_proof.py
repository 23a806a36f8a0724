"""Budgets hold under concurrency across processes: two replicas, one Redis, 200 requests.

Each request reserves its worst case and settles to its real cost. With every real cost at most
its reservation the budget is never exceeded (overshoot bound 0). When real costs can exceed
reservations (an input-token estimate that was low), the overshoot is at most the sum, over the
requests admitted, of what each cost beyond its reservation.
"""

from __future__ import annotations

import asyncio
import multiprocessing
import random
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from comptroller.budgets.model import Budget, BudgetScope
from comptroller.gateway.enforcement.redis_backend import RedisBudgetReserver
from tests.gateway.enforcement.conftest import REDIS_URL, drop_namespace
from tests.gateway.enforcement.proof_worker import Outcome, run_replica

pytestmark = pytest.mark.anyio

REQUESTS_PER_REPLICA = 100
SCENARIOS = ("exact", "cheaper", "underestimated")


def costs(rng: random.Random, scenario: str) -> list[tuple[str, str]]:
    """(reserved, actual) per request; a dollar reserved each, so the budget fits 50."""
    if scenario == "exact":
        return [("1", "1")] * REQUESTS_PER_REPLICA
    if scenario == "cheaper":
        return [("1", f"{rng.uniform(0.2, 1):.6f}") for _ in range(REQUESTS_PER_REPLICA)]
    # Every request may cost up to half again its reservation: input tokens underestimated.
    return [("1", f"{rng.uniform(0.9, 1.5):.6f}") for _ in range(REQUESTS_PER_REPLICA)]


def fits_fifty(scenario: str) -> Budget:
    return Budget(id=f"proof-{scenario}", name="fits fifty", scope=BudgetScope.PORTFOLIO, amount=Decimal(50))


@pytest.fixture(scope="module")
def proof() -> Iterator[tuple[str, dict[str, list[Outcome]]]]:
    """Runs every scenario once in two processes (in step, through a barrier)."""
    namespace = f"test-enforcement-proof-{uuid.uuid4().hex[:12]}"
    context = multiprocessing.get_context("spawn")
    start, results = context.Barrier(2), context.Queue()
    rng = random.Random("two-process-proof")
    replicas = []
    for seed in (1, 2):
        scenarios = [(fits_fifty(s).model_dump(mode="json"), costs(rng, s)) for s in SCENARIOS]
        replicas.append(
            context.Process(target=run_replica, args=(REDIS_URL, namespace, scenarios, start, results, seed))
        )
    for process in replicas:
        process.start()
    try:
        reports = dict([results.get(timeout=120), results.get(timeout=120)])
    finally:
        for process in replicas:
            process.join(timeout=30)
    assert [p.exitcode for p in replicas] == [0, 0]
    assert set(reports) == {1, 2}  # two distinct processes reported
    yield namespace, {s: reports[1][i] + reports[2][i] for i, s in enumerate(SCENARIOS)}
    asyncio.run(drop_namespace(namespace))


@pytest.mark.parametrize("scenario", SCENARIOS)
async def test_two_processes_share_one_budget(proof, scenario):
    namespace, by_scenario = proof
    budget, outcomes = fits_fifty(scenario), by_scenario[scenario]
    assert len(outcomes) == 2 * REQUESTS_PER_REPLICA
    settled = [(Decimal(r), Decimal(a)) for kind, r, a in outcomes if kind == "settled"]
    blocked = [o for o in outcomes if o[0] == "blocked"]
    assert {o[2] for o in blocked} <= {"BudgetBlocked"}  # blocked for room, never for an outage

    observer = RedisBudgetReserver(REDIS_URL, namespace)
    try:
        counted = await observer.spent(budget, datetime.now(UTC))
    finally:
        await observer.aclose()
    spend = sum((actual for _, actual in settled), Decimal(0))
    assert counted == spend  # every settlement reached the shared counter, none twice

    bound = sum((max(Decimal(0), actual - reserved) for reserved, actual in settled), Decimal(0))
    overshoot = max(Decimal(0), spend - budget.amount)
    print(f"{scenario}: admitted {len(settled)}, spend {spend}, overshoot {overshoot}, bound {bound}")
    assert overshoot <= bound
    if scenario == "exact":
        assert len(settled) == 50 and spend == Decimal(50) and bound == 0
    if scenario == "cheaper":
        assert bound == 0 and spend <= budget.amount and len(settled) > 50
