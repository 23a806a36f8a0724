"""Spend events: one per request the gateway sees, whatever became of it.

Field names follow the ledger's usage-event columns so the drain maps them one to one; the
gateway-only fields (blocking, avoided cost) land in the columns of the same name.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    OK = "ok"
    UPSTREAM_ERROR = "upstream_error"
    BLOCKED_BUDGET = "blocked_budget"
    BLOCKED_APPROVAL = "blocked_approval"
    BLOCKED_RATE_LIMIT = "blocked_rate_limit"
    BLOCKED_KILL_SWITCH = "blocked_kill_switch"
    BLOCKED_POLICY = "blocked_policy"  # auth, model scope, routing constraints
    CACHE_HIT = "cache_hit"
    CLIENT_DISCONNECT = "client_disconnect"


@dataclass
class SpendEvent:
    event_id: str
    timestamp: datetime
    provider: str
    model: str
    status: Outcome
    operation: str | None = None  # chat, responses, embeddings, messages
    api_key_id: str | None = None
    request_id: str | None = None
    trace_id: str | None = None
    uncached_input_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    latency_ms: float | None = None
    time_to_first_token_ms: float | None = None
    overhead_ms: float | None = None
    error_type: str | None = None
    retries: int = 0
    tool_calls: int = 0
    service_tier: str | None = None
    route: str | None = None  # deployment chosen and why, e.g. "openai-east (alias smart, fallback 1)"
    cache_hit: bool = False
    stream: bool = False
    attribution: dict[str, str] = field(default_factory=dict)
    list_cost: Decimal | None = None
    contracted_cost: Decimal | None = None
    avoided_cost: Decimal | None = None  # what a cache hit saved
    currency: str = "USD"
    price_version: str | None = None
    pricing_flag: str | None = None  # e.g. "unknown_model"
    block_reason: str | None = None
    # Blocked on approval: the id a human approves. Admitted: the approval whose one-off pass
    # let the request past its approval budget (the control plane retires the pass on seeing it).
    approval_request_id: str | None = None
    approval_pass_ids: tuple[str, ...] = ()  # one-off passes this request used
    blocked_budget_id: str | None = None  # the budget that refused the request
    budget_alerts: tuple[str, ...] = ()  # "<budget id>@<fraction>" thresholds this request crossed
    fail_open_budget_ids: tuple[str, ...] = ()  # budgets let through unchecked (counter store down)
    prompt: Any = None  # only when the key opts in to storing prompts

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)
