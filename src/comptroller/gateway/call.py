"""One request's state as it moves through the pipeline, and the spend event it becomes."""

from __future__ import annotations

import time
from datetime import datetime
from decimal import Decimal
from typing import Any

from comptroller.gateway.events import Outcome, SpendEvent
from comptroller.gateway.ports import Permit, Reservation
from comptroller.gateway.routing import Candidate
from comptroller.gateway.snapshot import VirtualKey
from comptroller.gateway.wire import Endpoint
from comptroller.pricing.usage import TokenUsage


class Call:
    """Mutable per-request record; plain attributes (slots) because it lives on the hot path."""

    __slots__ = (
        "approval_pass_ids",
        "approval_request_id",
        "attribution",
        "avoided_cost",
        "block_reason",
        "blocked_budget_id",
        "body",
        "budget_alerts",
        "cache_key",
        "cache_scope",
        "cache_text",
        "candidate",
        "contracted_cost",
        "endpoint",
        "error_type",
        "estimated_input",
        "fail_open_budget_ids",
        "key",
        "list_cost",
        "model",
        "outcome",
        "permit",
        "price_version",
        "pricing_flag",
        "prompt",
        "request_id",
        "reservation",
        "retries",
        "route",
        "started",
        "started_at",
        "stream",
        "tool_calls",
        "ttft_ms",
        "upstream_s",
        "usage",
        "worst",
    )

    def __init__(self, endpoint: Endpoint, request_id: str, started_at: datetime) -> None:
        self.started = time.perf_counter()
        self.started_at = started_at
        self.endpoint = endpoint
        self.request_id = request_id
        self.outcome = Outcome.OK
        self.body: dict[str, Any] = {}
        self.model = ""
        self.stream = False
        self.key: VirtualKey | None = None
        self.attribution: dict[str, str] = {}
        self.candidate: Candidate | None = None
        self.reservation: Reservation | None = None
        self.permit: Permit | None = None
        self.cache_key: str | None = None
        self.cache_scope: str | None = None
        self.cache_text: str | None = None
        self.estimated_input = 0
        self.usage: TokenUsage | None = None
        self.worst: TokenUsage | None = None
        self.tool_calls = 0
        self.retries = 0
        self.route: str | None = None
        self.upstream_s = 0.0
        self.ttft_ms: float | None = None
        self.list_cost: Decimal | None = None
        self.contracted_cost: Decimal | None = None
        self.avoided_cost: Decimal | None = None
        self.price_version: str | None = None
        self.pricing_flag: str | None = None
        self.error_type: str | None = None
        self.block_reason: str | None = None
        self.approval_request_id: str | None = None
        self.approval_pass_ids: tuple[str, ...] = ()
        self.blocked_budget_id: str | None = None
        self.budget_alerts: tuple[str, ...] = ()
        self.fail_open_budget_ids: tuple[str, ...] = ()
        self.prompt: Any = None

    def overhead_ms(self) -> float:
        return max(0.0, (time.perf_counter() - self.started - self.upstream_s) * 1000)

    def to_event(self) -> SpendEvent:
        usage = self.usage or TokenUsage()
        candidate = self.candidate
        return SpendEvent(
            event_id=self.request_id,
            timestamp=self.started_at,
            provider=candidate.provider if candidate else self.attribution.get("vendor", "unknown"),
            model=candidate.upstream_model if candidate else self.model,
            status=self.outcome,
            operation=self.endpoint.operation,
            api_key_id=self.key.id if self.key else None,
            request_id=self.request_id,
            uncached_input_tokens=usage.uncached_input,
            cache_read_tokens=usage.cache_read,
            cache_write_tokens=usage.cache_write,
            output_tokens=usage.output,
            reasoning_tokens=usage.reasoning,
            latency_ms=(time.perf_counter() - self.started) * 1000,
            time_to_first_token_ms=self.ttft_ms,
            overhead_ms=self.overhead_ms(),
            error_type=self.error_type,
            retries=self.retries,
            tool_calls=self.tool_calls,
            route=self.route,
            cache_hit=self.outcome is Outcome.CACHE_HIT,
            stream=self.stream,
            attribution=self.attribution,
            list_cost=self.list_cost,
            contracted_cost=self.contracted_cost,
            avoided_cost=self.avoided_cost,
            price_version=self.price_version,
            pricing_flag=self.pricing_flag,
            block_reason=self.block_reason,
            approval_request_id=self.approval_request_id,
            approval_pass_ids=self.approval_pass_ids,
            blocked_budget_id=self.blocked_budget_id,
            budget_alerts=self.budget_alerts,
            fail_open_budget_ids=self.fail_open_budget_ids,
            prompt=self.prompt,
        )
