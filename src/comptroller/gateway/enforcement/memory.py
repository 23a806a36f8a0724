"""Budgets and rate limits for a single gateway replica, counted in process memory.

Every public coroutine does its work in one synchronous block with no ``await`` inside, so on the
event loop it runs to completion before any other request's step starts: the check of every
applying budget and the hold on every one of them happen as one atomic step, with no lock to
wait on. Amounts are integer micro-dollars, exactly as in the Redis backend.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from decimal import Decimal

from comptroller.budgets.model import Budget
from comptroller.gateway.enforcement import budget_rules, gcra
from comptroller.gateway.enforcement.money import cost_micros, hold_micros, to_usd
from comptroller.gateway.ports import Permit, RateLimited, Reservation
from comptroller.gateway.snapshot import ApprovalPass, RateLimit, Snapshot

CounterKey = tuple[str, datetime]  # budget id, period start


@dataclass
class _Counter:
    settled: int = 0
    held: int = 0
    baseline: int = 0
    baseline_version: int = -1

    def total(self) -> int:
        return budget_rules.counter_total(self.settled, self.held, self.baseline)


@dataclass
class _Hold:
    amount: int
    keys: tuple[CounterKey, ...]
    expires_at: float


@dataclass
class MemoryBudgetReserver:
    """``BudgetReserver`` for one process; seeded from each snapshot's ``budget_spent``.

    Holds that nobody settles or releases within ``hold_ttl_s`` are given back, as in Redis, so a
    leaked reservation cannot starve a budget for the rest of its period.
    """

    hold_ttl_s: float = budget_rules.DEFAULT_HOLD_TTL_S
    clock: Callable[[], float] = time.monotonic
    _counters: dict[CounterKey, _Counter] = field(default_factory=dict)
    _holds: dict[str, _Hold] = field(default_factory=dict)
    _next_sweep: float = 0.0
    # Approval passes used by this process. Kept while snapshots still list them (the ledger
    # has not yet seen the request that used them); lost on restart, see docs/gateway-enforcement.md.
    _used_passes: set[str] = field(default_factory=set)

    async def reserve(
        self,
        budgets: Sequence[Budget],
        amount: Decimal,
        at: datetime,
        request_id: str,
        passes: Sequence[ApprovalPass] = (),
    ) -> Reservation:
        self._sweep_expired()
        budgets = budget_rules.distinct(budgets)
        micros = hold_micros(amount)
        keys = tuple((b.id, budget_rules.period_start(b, at)) for b in budgets)
        counters = [self._counters.get(key) or self._counters.setdefault(key, _Counter()) for key in keys]
        before = [c.total() for c in counters]
        offered = (
            budget_rules.offered_passes(budgets, to_usd(micros), at, passes, self._used_passes)
            if passes
            else {}
        )
        spent: list[str] = []
        for budget, total in zip(budgets, before, strict=True):
            if budget_rules.blocks(budget) and not budget_rules.fits(budget, total, micros):
                granted = offered.get(budget.id)
                if granted is None:
                    raise budget_rules.blocked(budget, total)
                spent.append(granted.id)
        self._used_passes.update(spent)
        for counter in counters:
            counter.held += micros
        reservation_id = budget_rules.new_id("rsv")
        expires_at = self.clock() + self.hold_ttl_s
        self._holds[reservation_id] = _Hold(micros, keys, expires_at)
        return Reservation(
            id=reservation_id,
            amount=to_usd(micros),
            budget_ids=tuple(b.id for b in budgets),
            period_starts=tuple(key[1] for key in keys),
            alerts=budget_rules.alerts_for(budgets, before, micros),
            approval_pass_ids=tuple(spent),
        )

    async def settle(self, reservation: Reservation, actual: Decimal) -> None:
        hold = self._holds.pop(reservation.id, None)
        actual_micros = cost_micros(actual)
        for key in zip(reservation.budget_ids, reservation.period_starts, strict=True):
            counter = self._counters.get(key) or self._counters.setdefault(key, _Counter())
            if hold is not None:
                counter.held -= hold.amount
            counter.settled += actual_micros

    async def release(self, reservation: Reservation) -> None:
        hold = self._holds.pop(reservation.id, None)
        if hold is None:
            return
        for key in hold.keys:
            counter = self._counters.get(key)
            if counter is not None:
                counter.held -= hold.amount

    async def spent(self, budget: Budget, at: datetime) -> Decimal:
        self._sweep_expired()
        counter = self._counters.get((budget.id, budget_rules.period_start(budget, at)))
        return to_usd(counter.total() if counter else 0)

    def apply_snapshot(self, snapshot: Snapshot) -> None:
        """Take each budget's booked spend as the baseline of its period at snapshot time.

        A snapshot older than the baseline already applied is ignored; counters of periods that
        ended more than a day before the snapshot and hold nothing are dropped.
        """
        by_id = {b.id: b for b in snapshot.budgets}
        self._used_passes.intersection_update(p.id for p in snapshot.approval_passes)
        for budget_id, booked in snapshot.budget_spent.items():
            budget = by_id.get(budget_id)
            if budget is None:
                continue
            counter = self._counters.setdefault(
                (budget_id, budget.period_start(snapshot.generated_at)), _Counter()
            )
            if snapshot.version >= counter.baseline_version:
                counter.baseline = cost_micros(booked)
                counter.baseline_version = snapshot.version
        self._drop_ended_periods(by_id, snapshot.generated_at)

    def _drop_ended_periods(self, budgets: dict[str, Budget], now: datetime) -> None:
        cutoff = now - timedelta(days=1)
        for key, counter in list(self._counters.items()):
            budget = budgets.get(key[0])
            end = budget.period_end(key[1]) if budget else None
            if counter.held == 0 and (budget is None or (end is not None and end < cutoff)):
                del self._counters[key]

    def _sweep_expired(self) -> None:
        # Only in-flight reservations are in ``_holds``, so a scan every so often is cheap and
        # keeps nothing about settled ones.
        now = self.clock()
        if now < self._next_sweep:
            return
        self._next_sweep = now + min(1.0, self.hold_ttl_s / 4)
        expired = [rid for rid, hold in self._holds.items() if hold.expires_at <= now]
        for reservation_id in expired:
            hold = self._holds.pop(reservation_id)
            for key in hold.keys:
                counter = self._counters.get(key)
                if counter is not None:
                    counter.held -= hold.amount


def _slot(limit_id: str) -> str:
    return f"{limit_id}:slot"


def _tokens(limit_id: str) -> str:
    return f"{limit_id}:tokens"


@dataclass
class MemoryRateLimiter:
    """``RateLimiter`` for one process: GCRA for requests and tokens per minute, and counters of
    concurrent requests.

    A request is checked against every limit before any is charged, so a request refused by one
    limit uses none of the others' capacity.
    """

    clock: Callable[[], float] = time.monotonic
    _tat: dict[str, float] = field(default_factory=dict)
    _in_flight: dict[str, int] = field(default_factory=dict)
    _token_limits: dict[str, int] = field(default_factory=dict)

    async def acquire(self, limits: Sequence[RateLimit], estimated_tokens: int) -> Permit:
        now = self.clock()
        unique = list({limit.id: limit for limit in limits}.values())
        new_tats: dict[str, float] = {}
        for limit in unique:
            if limit.max_concurrent is not None and self._in_flight.get(limit.id, 0) >= limit.max_concurrent:
                raise RateLimited(limit, "concurrent requests", 1.0)
            if limit.requests_per_minute is not None:
                key = f"{limit.id}:rpm"
                decision = gcra.admit(self._tat.get(key), now, limit.requests_per_minute, 1)
                if not decision.admitted:
                    raise RateLimited(limit, "requests per minute", decision.retry_after_s)
                new_tats[key] = decision.new_tat
            if limit.tokens_per_minute is not None and estimated_tokens > 0:
                key = f"{limit.id}:tpm"
                decision = gcra.admit(self._tat.get(key), now, limit.tokens_per_minute, estimated_tokens)
                if not decision.admitted:
                    raise RateLimited(limit, "tokens per minute", decision.retry_after_s)
                new_tats[key] = decision.new_tat
        self._tat.update(new_tats)
        held: dict[str, int] = {}
        for limit in unique:
            if limit.max_concurrent is not None:
                self._in_flight[limit.id] = self._in_flight.get(limit.id, 0) + 1
                held[_slot(limit.id)] = 1
            if limit.tokens_per_minute is not None:
                self._token_limits[limit.id] = limit.tokens_per_minute
                held[_tokens(limit.id)] = estimated_tokens
        return Permit(
            limit_ids=tuple(limit.id for limit in unique),
            estimated_tokens=estimated_tokens,
            held=held,
            id=budget_rules.new_id("pmt"),
        )

    async def release(self, permit: Permit, actual_tokens: int) -> None:
        now = self.clock()
        for limit_id in permit.limit_ids:
            if permit.held.pop(_slot(limit_id), 0):
                self._in_flight[limit_id] = max(0, self._in_flight.get(limit_id, 0) - 1)
            counted = permit.held.pop(_tokens(limit_id), None)
            per_minute = self._token_limits.get(limit_id)
            if counted is None or per_minute is None or actual_tokens == counted:
                continue
            key = f"{limit_id}:tpm"
            tat = max(self._tat.get(key, now), now)
            self._tat[key] = max(now, tat + gcra.step(per_minute, actual_tokens - counted))
