"""The seams between the gateway's request pipeline and its enforcement backends.

Each has an in-process implementation (one replica) and a Redis one (several replicas).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Protocol

from comptroller.budgets.model import Budget, BudgetBehaviour
from comptroller.gateway.snapshot import ApprovalPass, KillSwitch, RateLimit


@dataclass(frozen=True)
class Reservation:
    """Worst-case cost held against every applying budget until the call settles."""

    id: str
    amount: Decimal
    budget_ids: tuple[str, ...]
    period_starts: tuple[datetime, ...]
    alerts: tuple[str, ...] = ()  # alert-behaviour budgets that this reservation took over a threshold
    # Fail-open budgets let through unchecked because the counter store was unreachable; the
    # request's spend event should say so.
    fail_open_budget_ids: tuple[str, ...] = ()
    # One-off approval passes this reservation used up to get past approval budgets.
    approval_pass_ids: tuple[str, ...] = ()


class BudgetBlocked(Exception):
    """A hard_cap or approval budget has no room; ``approval_request_id`` is set for approval."""

    def __init__(self, budget: Budget, remaining: Decimal, approval_request_id: str | None = None) -> None:
        self.budget = budget
        self.remaining = remaining
        self.approval_request_id = approval_request_id
        kind = "needs approval" if budget.behaviour is BudgetBehaviour.APPROVAL else "is exhausted"
        super().__init__(f"budget {budget.name!r} ({budget.scope.value}) {kind}: {remaining} USD left")


class CounterStoreUnavailable(Exception):
    """The shared counter store (Redis) cannot be reached."""


class BudgetUncheckable(BudgetBlocked):
    """A fail-closed budget blocks because the counter store that holds its spend is unreachable."""

    def __init__(self, budget: Budget) -> None:
        self.budget = budget
        self.remaining = Decimal(0)
        self.approval_request_id = None
        Exception.__init__(
            self,
            f"budget {budget.name!r} ({budget.scope.value}) fails closed and its spend counter "
            "is unreachable; retry when the counter store (Redis) is back",
        )


class BudgetReserver(Protocol):
    async def reserve(
        self,
        budgets: Sequence[Budget],
        amount: Decimal,
        at: datetime,
        request_id: str,
        passes: Sequence[ApprovalPass] = (),
    ) -> Reservation:
        """Hold ``amount`` on every budget in one atomic step, or raise BudgetBlocked.

        An approval budget without room lets the request through when one of ``passes`` (those
        matching the request) is granted for it and unused; the pass is used up in the same step.
        """
        ...

    async def settle(self, reservation: Reservation, actual: Decimal) -> None:
        """Replace the held amount by the real cost."""
        ...

    async def release(self, reservation: Reservation) -> None:
        """Give the held amount back (upstream failure, client cancel)."""
        ...

    async def spent(self, budget: Budget, at: datetime) -> Decimal:
        """Settled plus held spend of the budget's period containing ``at``."""
        ...


class RateLimited(Exception):
    def __init__(self, limit: RateLimit, what: str, retry_after_s: float) -> None:
        self.limit = limit
        self.what = what
        self.retry_after_s = retry_after_s
        super().__init__(f"rate limit {what} for {limit.scope}={limit.scope_value} reached")


@dataclass
class Permit:
    """What a request holds from the limiters: a concurrency slot and estimated tokens."""

    limit_ids: tuple[str, ...]
    estimated_tokens: int
    held: dict[str, int] = field(default_factory=dict)
    id: str = ""  # names the concurrency slot in a shared store, so a crashed replica's slot expires


class RateLimiter(Protocol):
    async def acquire(self, limits: Sequence[RateLimit], estimated_tokens: int) -> Permit:
        """Count the request and its estimated tokens, or raise RateLimited."""
        ...

    async def release(self, permit: Permit, actual_tokens: int) -> None:
        """Free the concurrency slot and correct the token count."""
        ...


class KillSwitchBoard(Protocol):
    def engaged(self, attribution: Mapping[str, str | None]) -> KillSwitch | None:
        """In-memory check on the hot path; replicas learn of changes by pub/sub."""
        ...
