"""Budgets and rate limits counted in Redis, exact across every replica that shares it.

Each operation is one Lua script (``lua_scripts``), registered once and called by EVALSHA, so
checking every applying budget and holding on all of them is one atomic step for the whole
fleet. A reservation's hold carries an expiry; the reserve script sweeps expired holds of the
budgets it touches first, which gives back what a crashed replica held.

When Redis cannot be reached each budget does what its ``fail_mode`` says: fail-closed budgets
block with ``BudgetUncheckable``; fail-open budgets let the request through, and the reservation
lists them in ``fail_open_budget_ids`` so the spend event can say it was not checked. After a
failure the store is not tried again for ``retry_interval_s``, so an outage costs one failed
connection attempt per interval rather than one per request. Settlements that fail are kept
(up to ``max_pending``) and replayed once Redis answers again; rate limits fall back to an
in-process limiter for the duration, so they are enforced per replica rather than not at all.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import redis.asyncio as redis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import RedisError

from comptroller.budgets.model import Budget, FailMode
from comptroller.gateway.enforcement import budget_rules, lua_scripts
from comptroller.gateway.enforcement.memory import MemoryRateLimiter
from comptroller.gateway.enforcement.money import cost_micros, hold_micros, to_usd
from comptroller.gateway.ports import (
    BudgetUncheckable,
    CounterStoreUnavailable,
    Permit,
    RateLimited,
    Reservation,
)
from comptroller.gateway.snapshot import ApprovalPass, RateLimit, Snapshot

log = logging.getLogger(__name__)

# Counters outlive their period by this much, for settlements of calls that straddle its end.
PERIOD_GRACE = timedelta(days=2)


def connect(
    url: str, *, connect_timeout_s: float = 2.0, timeout_s: float = 2.0, max_connections: int = 32
) -> redis.Redis:
    """A client over a bounded pool that reports errors at once instead of retrying.

    Requests wait (up to ``timeout_s``) for one of ``max_connections`` connections rather than
    each opening its own: Redis runs one script at a time anyway, and a burst of new connections
    is what times out first under load. No retries, because a retried script whose reply was
    lost would be applied twice.
    """
    pool = redis.BlockingConnectionPool.from_url(
        url,
        max_connections=max_connections,
        timeout=timeout_s,
        socket_connect_timeout=connect_timeout_s,
        socket_timeout=timeout_s,
        retry=Retry(NoBackoff(), 0),
    )
    return redis.Redis.from_pool(pool)


class _Breaker:
    """Remembers a failure of the store for a short while so requests do not each wait on it."""

    def __init__(self, retry_interval_s: float, warn_every_s: float = 10.0) -> None:
        self.retry_interval_s = retry_interval_s
        self.warn_every_s = warn_every_s
        self._open_until = 0.0
        self._warned_at = -warn_every_s

    def warn(self, message: str, *args: object) -> None:
        """Log an outage's consequences once per ``warn_every_s``, not once per request."""
        now = time.monotonic()
        if now - self._warned_at >= self.warn_every_s:
            self._warned_at = now
            log.warning(message, *args)

    async def call(self, script: Any, keys: list[str], args: list[Any]) -> Any:
        if time.monotonic() < self._open_until:
            raise CounterStoreUnavailable("counter store marked unreachable after a recent failure")
        try:
            return await script(keys=keys, args=args)
        except (RedisError, OSError) as exc:
            self._open_until = time.monotonic() + self.retry_interval_s
            raise CounterStoreUnavailable(f"counter store unreachable: {exc}") from exc


@dataclass(frozen=True)
class _Pending:
    keys: list[str]
    args: list[Any]


class RedisBudgetReserver:
    """``BudgetReserver`` over Redis; several replicas with the same ``namespace`` share budgets."""

    def __init__(
        self,
        url: str,
        namespace: str,
        *,
        hold_ttl_s: float = budget_rules.DEFAULT_HOLD_TTL_S,
        retry_interval_s: float = 1.0,
        max_pending: int = 100_000,
        client: redis.Redis | None = None,
    ) -> None:
        self.namespace = namespace
        self.hold_ttl_s = hold_ttl_s
        self._client = client or connect(url)
        self._breaker = _Breaker(retry_interval_s)
        self._pending: deque[_Pending] = deque(maxlen=max_pending)
        self._reserve = self._client.register_script(lua_scripts.RESERVE)
        self._settle = self._client.register_script(lua_scripts.SETTLE)
        self._release = self._client.register_script(lua_scripts.RELEASE)
        self._spent = self._client.register_script(lua_scripts.SPENT)
        self._seed = self._client.register_script(lua_scripts.SEED)
        # Passes known to be used (here or, as Redis answered, elsewhere), so they are not offered.
        self._used_passes: set[str] = set()

    async def aclose(self) -> None:
        await self._client.aclose()

    def _counter_key(self, budget_id: str, period_start: datetime) -> str:
        return f"{{{self.namespace}}}:budget:{budget_id}:{int(period_start.timestamp())}"

    def _keys(self, budget_ids: Sequence[str], period_starts: Sequence[datetime]) -> list[str]:
        keys: list[str] = []
        for budget_id, start in zip(budget_ids, period_starts, strict=True):
            counter = self._counter_key(budget_id, start)
            keys += [counter, f"{counter}:holds"]
        return keys

    @staticmethod
    def _expire_at(budget: Budget, period_start: datetime) -> int:
        end = budget.period_end(period_start)
        if end is None:
            return 0
        # A period in the past (a late settlement, a replayed one) still keeps its counter a while.
        return int((max(end, datetime.now(UTC)) + PERIOD_GRACE).timestamp())

    @staticmethod
    def _pass_expire_at(granted: ApprovalPass) -> int:
        """The used-marker outlives the pass, so no clock skew between replicas revives it."""
        return int((max(granted.expires_at, datetime.now(UTC)) + PERIOD_GRACE).timestamp())

    def _pass_key(self, pass_id: str) -> str:
        return f"{{{self.namespace}}}:approval_pass:{pass_id}"

    async def reserve(
        self,
        budgets: Sequence[Budget],
        amount: Decimal,
        at: datetime,
        request_id: str,
        passes: Sequence[ApprovalPass] = (),
    ) -> Reservation:
        budgets = budget_rules.distinct(budgets)
        micros = hold_micros(amount)
        starts = [budget_rules.period_start(b, at) for b in budgets]
        reservation_id = budget_rules.new_id("rsv")
        budget_ids = tuple(b.id for b in budgets)
        alerts: tuple[str, ...] = ()
        fail_open: tuple[str, ...] = ()
        spent: tuple[str, ...] = ()
        if budgets:
            offered = (
                budget_rules.offered_passes(budgets, to_usd(micros), at, passes, self._used_passes)
                if passes
                else {}
            )
            while True:
                keys, args = self._reserve_call(budgets, starts, micros, reservation_id, offered)
                try:
                    result = await self._breaker.call(self._reserve, keys, args)
                except CounterStoreUnavailable as exc:
                    self._check_without_store(budgets, exc)
                    fail_open = budget_ids
                    break
                if self._pending:
                    await self._replay_pending()
                if int(result[0]) == 1:
                    n = len(budgets)
                    alerts = budget_rules.alerts_for(budgets, [int(t) for t in result[1 : n + 1]], micros)
                    spent = tuple(
                        offered[b.id].id
                        for b, used in zip(budgets, result[n + 1 :], strict=True)
                        if int(used)
                    )
                    self._used_passes.update(spent)
                    break
                full = budgets[int(result[1]) - 1]
                if int(result[3]) == 0:
                    raise budget_rules.blocked(full, int(result[2]))
                # Another replica used the pass first: remember it and try the next one granted.
                self._used_passes.add(offered[full.id].id)
                offered = budget_rules.offered_passes(budgets, to_usd(micros), at, passes, self._used_passes)
        return Reservation(
            id=reservation_id,
            amount=to_usd(micros),
            budget_ids=budget_ids,
            period_starts=tuple(starts),
            alerts=alerts,
            fail_open_budget_ids=fail_open,
            approval_pass_ids=spent,
        )

    def _reserve_call(
        self,
        budgets: Sequence[Budget],
        starts: Sequence[datetime],
        micros: int,
        reservation_id: str,
        offered: dict[str, ApprovalPass],
    ) -> tuple[list[str], list[Any]]:
        args: list[Any] = [micros, f"{micros}:{reservation_id}", int(self.hold_ttl_s * 1000)]
        pass_keys: list[str] = []
        for budget, start in zip(budgets, starts, strict=True):
            granted = offered.get(budget.id)
            args += [budget_rules.limit_of(budget) if budget_rules.blocks(budget) else -1]
            args += [self._expire_at(budget, start)]
            args += [self._pass_expire_at(granted) if granted else 0]
            pass_keys.append(self._pass_key(granted.id if granted else ""))
        return self._keys([b.id for b in budgets], starts) + pass_keys, args

    def _check_without_store(self, budgets: Sequence[Budget], exc: CounterStoreUnavailable) -> None:
        for budget in budgets:
            # An alert budget never blocks, so it lets requests through whatever its fail mode.
            if budget.fail_mode is FailMode.CLOSED and budget_rules.blocks(budget):
                raise BudgetUncheckable(budget) from exc
        self._breaker.warn("fail-open budgets pass unchecked: %s", exc)

    async def settle(self, reservation: Reservation, actual: Decimal) -> None:
        if not reservation.budget_ids:
            return
        held = hold_micros(reservation.amount)
        keys = self._keys(reservation.budget_ids, reservation.period_starts)
        args: list[Any] = [f"{held}:{reservation.id}", held, cost_micros(actual), "0"]
        try:
            await self._breaker.call(self._settle, keys, args)
        except CounterStoreUnavailable as exc:
            self._breaker.warn("settlements kept for replay (%d waiting): %s", len(self._pending) + 1, exc)
            # A held reservation replays "only if still held", since the failed attempt may have
            # run; a fail-open one never had a hold to go by.
            args[3] = "0" if reservation.fail_open_budget_ids else "1"
            self._pending.append(_Pending(keys, args))

    async def release(self, reservation: Reservation) -> None:
        if not reservation.budget_ids:
            return
        held = hold_micros(reservation.amount)
        keys = self._keys(reservation.budget_ids, reservation.period_starts)
        try:
            await self._breaker.call(self._release, keys, [f"{held}:{reservation.id}", held])
        except CounterStoreUnavailable as exc:
            # The hold expires with its ttl; nothing else to do.
            self._breaker.warn("releases left to hold expiry: %s", exc)

    async def spent(self, budget: Budget, at: datetime) -> Decimal:
        keys = self._keys([budget.id], [budget_rules.period_start(budget, at)])
        return to_usd(int(await self._breaker.call(self._spent, keys, [])))

    async def apply_snapshot(self, snapshot: Snapshot) -> None:
        """Store each budget's booked spend as its period's baseline, guarded by version.

        Called by every replica for every snapshot; a failure is logged and left for the next
        snapshot, since the counters themselves stay correct without it.
        """
        by_id = {b.id: b for b in snapshot.budgets}
        self._used_passes.intersection_update(p.id for p in snapshot.approval_passes)
        keys: list[str] = []
        args: list[Any] = [snapshot.version]
        for budget_id, booked in snapshot.budget_spent.items():
            budget = by_id.get(budget_id)
            if budget is None:
                continue
            start = budget.period_start(snapshot.generated_at)
            keys.append(self._counter_key(budget_id, start))
            args += [cost_micros(booked), self._expire_at(budget, start)]
        if not keys:
            return
        try:
            await self._breaker.call(self._seed, keys, args)
        except CounterStoreUnavailable as exc:
            log.warning("budget baselines of snapshot %s not stored: %s", snapshot.version, exc)

    async def _replay_pending(self) -> None:
        try:
            while self._pending:
                pending = self._pending[0]
                await self._breaker.call(self._settle, pending.keys, pending.args)
                self._pending.popleft()
        except CounterStoreUnavailable as exc:
            self._breaker.warn(
                "%d settlements still waiting for the counter store: %s", len(self._pending), exc
            )

    @property
    def pending_settlements(self) -> int:
        """Settlements waiting for Redis to come back."""
        return len(self._pending)


_KINDS = {1: "requests per minute", 2: "tokens per minute", 3: "concurrent requests"}


class RedisRateLimiter:
    """``RateLimiter`` over Redis: GCRA per minute and concurrency slots shared by all replicas.

    Concurrency slots expire after ``slot_ttl_s`` so a crashed replica's slots come back. While
    Redis is unreachable, requests are limited by an in-process ``MemoryRateLimiter``.
    """

    def __init__(
        self,
        url: str,
        namespace: str,
        *,
        slot_ttl_s: float = budget_rules.DEFAULT_HOLD_TTL_S,
        retry_interval_s: float = 1.0,
        client: redis.Redis | None = None,
    ) -> None:
        self.namespace = namespace
        self.slot_ttl_s = slot_ttl_s
        self._client = client or connect(url)
        self._breaker = _Breaker(retry_interval_s)
        self._acquire = self._client.register_script(lua_scripts.ACQUIRE)
        self._release = self._client.register_script(lua_scripts.LIMIT_RELEASE)
        self._fallback = MemoryRateLimiter()
        self._token_limits: dict[str, int] = {}

    async def aclose(self) -> None:
        await self._client.aclose()

    def _key(self, limit_id: str, kind: str) -> str:
        return f"{{{self.namespace}}}:limit:{limit_id}:{kind}"

    async def acquire(self, limits: Sequence[RateLimit], estimated_tokens: int) -> Permit:
        unique = list({limit.id: limit for limit in limits}.values())
        permit_id = budget_rules.new_id("pmt")
        keys: list[str] = []
        args: list[Any] = [permit_id, max(0, estimated_tokens), int(self.slot_ttl_s * 1000)]
        for limit in unique:
            keys += [self._key(limit.id, "rpm"), self._key(limit.id, "tpm"), self._key(limit.id, "slots")]
            args += [limit.requests_per_minute or 0, limit.tokens_per_minute or 0]
            args += [-1 if limit.max_concurrent is None else limit.max_concurrent]
        if not unique:
            return Permit(limit_ids=(), estimated_tokens=estimated_tokens, id=permit_id)
        try:
            result = await self._breaker.call(self._acquire, keys, args)
        except CounterStoreUnavailable as exc:
            self._breaker.warn("rate limits enforced per replica while the store is unreachable: %s", exc)
            permit = await self._fallback.acquire(unique, estimated_tokens)
            permit.held["local"] = 1
            return permit
        if int(result[0]) == 0:
            limit = unique[int(result[1]) - 1]
            raise RateLimited(limit, _KINDS[int(result[2])], int(result[3]) / 1_000_000)
        held: dict[str, int] = {}
        for limit in unique:
            if limit.max_concurrent is not None:
                held[f"{limit.id}:slot"] = 1
            if limit.tokens_per_minute is not None:
                self._token_limits[limit.id] = limit.tokens_per_minute
                held[f"{limit.id}:tokens"] = estimated_tokens
        return Permit(
            limit_ids=tuple(limit.id for limit in unique),
            estimated_tokens=estimated_tokens,
            held=held,
            id=permit_id,
        )

    async def release(self, permit: Permit, actual_tokens: int) -> None:
        if permit.held.pop("local", 0):
            await self._fallback.release(permit, actual_tokens)
            return
        if not permit.held:
            return
        keys: list[str] = []
        args: list[Any] = [permit.id, actual_tokens - permit.estimated_tokens]
        for limit_id in permit.limit_ids:
            keys += [self._key(limit_id, "tpm"), self._key(limit_id, "slots")]
            counted = f"{limit_id}:tokens" in permit.held
            args += [self._token_limits.get(limit_id, 0) if counted else 0]
            args += [1 if f"{limit_id}:slot" in permit.held else 0]
        permit.held.clear()
        try:
            await self._breaker.call(self._release, keys, args)
        except CounterStoreUnavailable as exc:
            self._breaker.warn("concurrency slots left to expire: %s", exc)
