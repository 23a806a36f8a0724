"""The request path: admit (auth, kill switch, limits, budget), serve from cache or upstream, account.

Order per request: auth and model scope -> kill switch -> route plan (pure, in memory; it names
the vendor that vendor budgets count) -> rate limits -> budget reservation at the worst-case
list price -> cache lookup (a hit settles at 0 and records the avoided cost) -> upstream with
fallbacks -> settle at the real cost (release on an upstream error) -> one spend event to the
spool. Whatever happens, ``close_out`` runs exactly once per request and spools exactly one
event.

Overshoot: a budget can be exceeded only by what a request costs beyond its reservation, summed
over the requests in flight when the budget runs out. A reservation covers input at one token
per four bytes of body and output up to the request's own cap, both at the dearest list rate,
so with an output cap and a text prompt the real cost stays within it. It can be exceeded when
the request sets no output cap and the answer runs past ``default_max_output_tokens``, when the
input tokenizes denser than four bytes a token (CJK text, images by URL), when a contract price
is above list, and for fail-open budgets while the counter store is unreachable.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
import secrets
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any, Protocol

import orjson

from comptroller.budgets.model import BudgetBehaviour
from comptroller.gateway.auth import (
    SnapshotIndex,
    attribution_for,
    check_usable,
    data_classes_for,
    region_for,
    secret_from_headers,
)
from comptroller.gateway.call import Call
from comptroller.gateway.config import GatewayConfig
from comptroller.gateway.costing import Costing
from comptroller.gateway.errors import GatewayError
from comptroller.gateway.events import Outcome, SpendEvent
from comptroller.gateway.metrics import Metrics
from comptroller.gateway.pii import Redactor
from comptroller.gateway.ports import (
    BudgetBlocked,
    BudgetReserver,
    BudgetUncheckable,
    CounterStoreUnavailable,
    KillSwitchBoard,
    RateLimited,
    RateLimiter,
)
from comptroller.gateway.prices import DeferredPricer, PriceSource
from comptroller.gateway.routing import Router
from comptroller.gateway.snapshot import Snapshot
from comptroller.gateway.wire import Endpoint, requested_output_cap
from comptroller.pricing.usage import TokenUsage

log = logging.getLogger(__name__)
_ZERO = Decimal(0)


class SnapshotProvider(Protocol):
    def current(self) -> Snapshot: ...


class EventSink(Protocol):
    def append(self, event: SpendEvent) -> None: ...


class Admission:
    """Auth, enforcement and accounting around a call; the upstream part lives in ``forward``."""

    def __init__(
        self,
        config: GatewayConfig,
        snapshots: SnapshotProvider,
        reserver: BudgetReserver,
        limiter: RateLimiter,
        kill_switches: KillSwitchBoard,
        spool: EventSink,
        pricer: PriceSource | None = None,
    ) -> None:
        self.config = config
        self.snapshots = snapshots
        self.reserver = reserver
        self.limiter = limiter
        self.kill_switches = kill_switches
        self.spool = spool
        self.pricer: PriceSource = pricer or DeferredPricer()
        self.router = Router(config, self.pricer)
        self.costing = Costing(config, self.pricer)
        self.redactor = Redactor(config.pii.detectors)
        self.metrics = Metrics()
        self._index = SnapshotIndex(snapshots.current())
        self._background: set[asyncio.Task[None]] = set()
        # Request ids: a random per-process prefix and a counter, unique without a uuid4 per call.
        self._id_prefix = secrets.token_hex(11)
        self._ids = itertools.count(1)

    def start_pricing(self) -> None:
        """Load the price catalog in the background (see ``gateway.prices``), then warm it."""
        if isinstance(self.pricer, DeferredPricer):
            self.pricer.start_loading(self.warm)
        else:
            self.warm()

    def warm(self) -> None:
        """Match every served model in the price catalog now, not on its first request."""
        now = datetime.now(UTC)
        sample = TokenUsage(uncached_input=1, output=1)
        for deployment in self.config.deployments:
            for upstream in set(deployment.models.values()):
                self.costing.ceiling(deployment, upstream, sample, now)
                self.costing.cost(deployment, upstream, sample, now)

    def index(self) -> SnapshotIndex:
        snapshot = self.snapshots.current()
        if snapshot is not self._index.snapshot:
            self._index = SnapshotIndex(snapshot)
        return self._index

    def new_call(self, endpoint: Endpoint) -> Call:
        return Call(endpoint, f"{self._id_prefix}{next(self._ids):010x}", datetime.now(UTC))

    # -- admission ------------------------------------------------------------------------------
    def parse(self, call: Call, raw: bytes) -> None:
        try:
            body = orjson.loads(raw)
        except orjson.JSONDecodeError:
            raise GatewayError(400, "invalid_json", "the request body is not valid JSON") from None
        if not isinstance(body, dict):
            raise GatewayError(400, "invalid_json", "the request body must be a JSON object")
        model = body.get("model")
        if not isinstance(model, str) or not model:
            raise GatewayError(400, "missing_model", "the request body needs a 'model' string")
        call.body = body
        call.model = model
        call.stream = body.get("stream") is True

    def authenticate(self, call: Call, headers: Mapping[str, str]) -> SnapshotIndex:
        index = self.index()
        key = index.find(secret_from_headers(headers))
        call.key = key
        call.attribution = attribution_for(key, headers, call.model)
        check_usable(key, call.started_at)
        if not key.allows(call.model):
            raise GatewayError(
                403, "model_not_allowed", f"key {key.name!r} may not call model {call.model!r}"
            )
        return index

    def plan(self, call: Call, headers: Mapping[str, str]) -> list[Any]:
        assert call.key is not None
        candidates = self.router.plan(
            call.model,
            call.endpoint.family,
            data_classes_for(call.key, headers),
            region_for(call.key, headers),
        )
        call.attribution["vendor"] = candidates[0].provider
        return candidates

    def check_kill_switch(self, call: Call) -> None:
        switch = self.kill_switches.engaged(call.attribution)
        if switch is not None:
            why = f": {switch.reason}" if switch.reason else ""
            raise GatewayError(
                403,
                "kill_switch_engaged",
                f"requests for {switch.scope} {switch.scope_value!r} are stopped by a kill switch{why}",
                Outcome.BLOCKED_KILL_SWITCH,
            )

    def estimate(self, call: Call, raw_size: int) -> None:
        """The worst case both the rate limiter (tokens) and the budgets (cost) hold."""
        cap = requested_output_cap(call.endpoint, call.body)
        call.worst = self.costing.worst_case_usage(raw_size, cap, call.endpoint.produces_output)
        call.estimated_input = call.worst.uncached_input

    async def acquire_limits(self, call: Call, index: SnapshotIndex) -> None:
        limits = index.applying_limits(call.attribution)
        worst = call.worst
        if not limits or worst is None:
            return
        try:
            call.permit = await self.limiter.acquire(limits, worst.total)
        except RateLimited as exc:
            raise GatewayError(
                429,
                "rate_limited",
                f"{exc}; retry after {exc.retry_after_s:.1f}s",
                Outcome.BLOCKED_RATE_LIMIT,
                retry_after_s=exc.retry_after_s,
            ) from None
        except CounterStoreUnavailable:
            log.warning("rate-limit store unreachable; request %s let through", call.request_id)

    async def reserve(self, call: Call, index: SnapshotIndex, candidates: list[Any]) -> None:
        budgets = index.applying_budgets(call.attribution)
        worst = call.worst
        if not budgets or worst is None:
            return
        first = candidates[0]
        amount = self.costing.ceiling(first.deployment, first.upstream_model, worst, call.started_at)
        passes = index.applying_passes(call.attribution)
        try:
            reservation = await self.reserver.reserve(
                budgets, amount, call.started_at, call.request_id, passes
            )
        except BudgetUncheckable as exc:
            raise GatewayError(
                503,
                "budget_store_unavailable",
                str(exc),
                Outcome.BLOCKED_BUDGET,
                retry_after_s=5,
                budget_id=exc.budget.id,
            ) from None
        except BudgetBlocked as exc:
            approval = exc.budget.behaviour is BudgetBehaviour.APPROVAL
            message = f"{exc}; this request may cost up to {amount:.6f} USD"
            if approval:
                message += f"; ask for approval quoting {exc.approval_request_id}"
            raise GatewayError(
                402,
                "budget_approval_required" if approval else "budget_exceeded",
                message,
                Outcome.BLOCKED_APPROVAL if approval else Outcome.BLOCKED_BUDGET,
                approval_request_id=exc.approval_request_id,
                budget_id=exc.budget.id,
            ) from None
        except CounterStoreUnavailable:
            closed = next((b for b in budgets if b.fail_mode.value == "closed"), None)
            if closed is not None:
                raise GatewayError(
                    503,
                    "budget_store_unavailable",
                    "the budget counter store is unreachable and a budget on this request fails closed",
                    Outcome.BLOCKED_BUDGET,
                    retry_after_s=5,
                    budget_id=closed.id,
                ) from None
            log.warning("budget store unreachable; fail-open request %s let through", call.request_id)
            call.fail_open_budget_ids = tuple(b.id for b in budgets)
            return
        call.reservation = reservation
        call.budget_alerts = reservation.alerts
        call.fail_open_budget_ids = reservation.fail_open_budget_ids
        if reservation.approval_pass_ids:
            # One pass per approval budget it got past; the ledger's approval_request_id column
            # names the first (nearly always the only one), the event's tags all of them.
            call.approval_request_id = reservation.approval_pass_ids[0]
            call.approval_pass_ids = reservation.approval_pass_ids

    # -- accounting -----------------------------------------------------------------------------
    def price(self, call: Call, usage: TokenUsage) -> None:
        """Set the call's usage and costs (from the deployment that served it)."""
        call.usage = usage
        assert call.candidate is not None
        cost = self.costing.cost(
            call.candidate.deployment, call.candidate.upstream_model, usage, call.started_at
        )
        call.list_cost = cost.list_cost
        call.contracted_cost = cost.contracted_cost
        call.price_version = cost.price_version
        call.pricing_flag = cost.flag

    def budget_cost(self, call: Call) -> Decimal:
        if call.candidate is None or call.usage is None:
            return _ZERO
        if call.contracted_cost is not None:
            return call.contracted_cost
        return self.costing.cost(
            call.candidate.deployment, call.candidate.upstream_model, call.usage, call.started_at
        ).budget_cost

    async def close_out(self, call: Call) -> None:
        """Settle or release the reservation and the permit, then spool the event."""
        reservation, call.reservation = call.reservation, None
        if reservation is not None:
            try:
                if call.outcome in (Outcome.OK, Outcome.CLIENT_DISCONNECT) or (
                    call.outcome is Outcome.UPSTREAM_ERROR and call.usage is not None
                ):
                    await self.reserver.settle(reservation, self.budget_cost(call))
                elif call.outcome is Outcome.CACHE_HIT:
                    await self.reserver.settle(reservation, _ZERO)
                else:
                    await self.reserver.release(reservation)
            except CounterStoreUnavailable:
                log.warning("budget store unreachable settling %s; its hold expires", reservation.id)
        permit, call.permit = call.permit, None
        if permit is not None:
            try:
                await self.limiter.release(permit, call.usage.total if call.usage else 0)
            except CounterStoreUnavailable:
                log.warning("rate-limit store unreachable releasing %s", permit.id)
        self.record(call)

    def close_out_later(self, call: Call) -> None:
        """For a cancelled request: the task cannot await any more, so a new one finishes it."""
        task = asyncio.get_running_loop().create_task(self.close_out(call))
        self._background.add(task)
        task.add_done_callback(self._background.discard)

    def record(self, call: Call) -> None:
        if call.key is not None and call.key.store_prompts and call.body:
            call.prompt = call.body
        event = call.to_event()
        self.metrics.observe(
            event.status.value,
            call.endpoint.operation,
            event.model,
            (call.usage.items() if call.usage else ()),
            call.contracted_cost,
            call.avoided_cost,
            event.overhead_ms,
        )
        try:
            self.spool.append(event)
        except Exception:
            log.exception("spend event %s could not be spooled", event.event_id)

    async def budget_remaining(self) -> list[tuple[str, str, Decimal]]:
        now = datetime.now(UTC)
        out = []
        for budget in self.index().budgets:
            try:
                spent = await self.reserver.spent(budget, now)
            except CounterStoreUnavailable:
                continue
            out.append((budget.id, budget.name, budget.amount - spent))
        return out
