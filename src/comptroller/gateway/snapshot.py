"""What the control plane tells the gateway: keys, budgets, limits and kill switches.

The gateway never reads a database per request. The control plane builds a ``Snapshot`` from
state and publishes it (a JSON file in the embedded setup, a Redis key plus a pub/sub message
in production); every replica holds the latest one in memory, so auth and enforcement survive
a database outage.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal

from pydantic import BaseModel, ConfigDict, Field

from comptroller.budgets.model import Budget

KEY_PREFIX = "sk-cmp-"
ATTRIBUTION_FIELDS: tuple[str, ...] = (
    "team",
    "product",
    "function",
    "workflow",
    "agent",
    "feature",
    "environment",
    "owner",
    "customer",
    "customer_segment",
)


def hash_key(secret: str) -> str:
    """Keys are stored and compared only as SHA-256 hex digests; the secret is shown once."""
    return hashlib.sha256(secret.encode()).hexdigest()


class VirtualKey(BaseModel):
    """A gateway key: who calls, what they may call, and the attribution their spend carries."""

    model_config = ConfigDict(frozen=True)

    id: str
    key_hash: str
    name: str
    attribution: dict[str, str] = Field(default_factory=dict)
    models: tuple[str, ...] = ()  # empty: every model
    expires_at: datetime | None = None
    revoked: bool = False
    cache_opt_in: bool = False
    store_prompts: bool = False
    data_classes: tuple[str, ...] = ()  # e.g. ("personal",): route only to deployments allowed them

    def usable(self, now: datetime | None = None) -> bool:
        now = now or datetime.now(UTC)
        expires = self.expires_at
        if expires is not None and expires.tzinfo is None:
            expires = expires.replace(tzinfo=UTC)
        return not self.revoked and (expires is None or expires > now)

    def allows(self, model: str) -> bool:
        return not self.models or model in self.models


class RateLimit(BaseModel):
    """Requests and tokens per minute and concurrent requests for one key, team or model."""

    model_config = ConfigDict(frozen=True)

    id: str
    scope: str  # "key" | "team" | "model"
    scope_value: str
    requests_per_minute: int | None = None
    tokens_per_minute: int | None = None
    max_concurrent: int | None = None

    def applies_to(self, attribution: Mapping[str, str | None]) -> bool:
        return attribution.get(self.scope) == self.scope_value


class KillSwitch(BaseModel):
    """Stops every request whose attribution matches ``scope`` = ``scope_value``."""

    model_config = ConfigDict(frozen=True)

    id: str
    scope: str  # "key" | "agent" | "workflow" | "team"
    scope_value: str
    reason: str = ""
    engaged_at: datetime
    engaged_by: str = ""

    def applies_to(self, attribution: Mapping[str, str | None]) -> bool:
        return attribution.get(self.scope) == self.scope_value


class ApprovalPass(BaseModel):
    """A human's one-off yes to a request an ``approval`` budget blocked.

    The next request that the budget would block and whose attribution matches ``match`` (the
    blocked request's key, usually) is admitted once, and the pass is used up. It does not
    raise the budget: the request is still held and settled against it, so the period shows the
    overspend that was approved.
    """

    model_config = ConfigDict(frozen=True)

    id: str  # the approval-request id the blocked request was given (``apr_...``)
    budget_id: str
    match: dict[str, str] = Field(default_factory=dict)  # attribution the request must carry
    max_amount: Decimal | None = None  # largest reservation it admits; None: any one request
    expires_at: datetime

    def applies_to(self, attribution: Mapping[str, str | None]) -> bool:
        return all(attribution.get(name) == value for name, value in self.match.items())

    def admits(self, amount: Decimal, now: datetime) -> bool:
        return now < self.expires_at and (self.max_amount is None or amount <= self.max_amount)


class Snapshot(BaseModel):
    """The gateway's whole configuration from the control plane, at one version."""

    version: int = 0
    generated_at: datetime = Field(default_factory=lambda: datetime.now(UTC))
    keys: list[VirtualKey] = Field(default_factory=list)
    budgets: list[Budget] = Field(default_factory=list)
    # Spend already booked in each budget's current period before this snapshot (budget id ->
    # USD), so a restarted replica's in-memory counters start from the ledger, not from zero.
    budget_spent: dict[str, Decimal] = Field(default_factory=dict)
    rate_limits: list[RateLimit] = Field(default_factory=list)
    kill_switches: list[KillSwitch] = Field(default_factory=list)
    # Granted one-off passes not yet seen used in the ledger; the gateway remembers which it
    # used meanwhile (in Redis across replicas), so a pass listed again is not used twice.
    approval_passes: list[ApprovalPass] = Field(default_factory=list)

    def key_by_hash(self) -> dict[str, VirtualKey]:
        return {key.key_hash: key for key in self.keys}
