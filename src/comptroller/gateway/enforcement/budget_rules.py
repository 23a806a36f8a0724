"""What both budget reservers decide the same way: when to block, what to alert, how to name it.

The counter of one budget period is ``max(baseline, settled) + held``. ``baseline`` is the spend
the ledger had booked when the control plane built its latest snapshot; ``settled`` is what this
gateway (every replica, with Redis) has settled since the counter was created. Taking the larger
of the two, rather than their sum, means spend the gateway already counted is never counted
again when it comes back from the ledger in a later snapshot; it can undercount only spend that
reached the ledger from elsewhere while the gateway's own recent spend was still on its way.
"""

from __future__ import annotations

import itertools
import secrets
import uuid
from collections.abc import Collection, Iterable, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from functools import lru_cache

from comptroller.budgets.model import Budget, BudgetBehaviour, BudgetPeriod
from comptroller.gateway.enforcement.money import limit_micros, to_usd
from comptroller.gateway.ports import BudgetBlocked
from comptroller.gateway.snapshot import ApprovalPass

# How long a reservation is held when nobody settles or releases it (a replica crashed, or a
# request outlived every timeout): longer than any upstream call may take.
DEFAULT_HOLD_TTL_S = 900.0


# Reservation and permit ids: a random per-process prefix and a counter are unique across
# replicas and cost far less than a uuid4 per request.
_PROCESS_PREFIX = secrets.token_hex(6)
_SEQUENCE = itertools.count()


def new_id(kind: str) -> str:
    """A fresh id such as ``rsv_3f9a0c1b2d4e1a``, unique across processes."""
    return f"{kind}_{_PROCESS_PREFIX}{next(_SEQUENCE):x}"


_PERIOD_STARTS: dict[tuple[BudgetPeriod, date | None, int], datetime] = {}


def period_start(budget: Budget, at: datetime) -> datetime:
    """``budget.period_start(at)``, remembered per period kind and UTC day (it is on the hot path)."""
    if at.tzinfo is None:
        at = at.replace(tzinfo=UTC)
    key = (budget.period, budget.starts_on, int(at.timestamp() // 86_400))
    found = _PERIOD_STARTS.get(key)
    if found is None:
        if len(_PERIOD_STARTS) > 4096:
            _PERIOD_STARTS.clear()
        found = _PERIOD_STARTS[key] = budget.period_start(at)
    return found


@lru_cache(maxsize=4096)
def _limit(amount: Decimal) -> int:
    return limit_micros(amount)


def limit_of(budget: Budget) -> int:
    """The budget's limit in micro-dollars."""
    return _limit(budget.amount)


def distinct(budgets: Sequence[Budget]) -> Sequence[Budget]:
    """The budgets with each id once: a budget named twice must not be charged twice."""
    if len({b.id for b in budgets}) == len(budgets):
        return budgets
    return list({b.id: b for b in budgets}.values())


def counter_total(settled: int, held: int, baseline: int) -> int:
    """Spend of one budget period in micro-dollars, as enforcement sees it."""
    return max(baseline, settled) + held


def blocks(budget: Budget) -> bool:
    """Whether running out of this budget stops a request (``alert`` budgets only notify)."""
    return budget.behaviour is not BudgetBehaviour.ALERT


def fits(budget: Budget, total: int, amount: int) -> bool:
    """Whether ``amount`` more keeps the period at or below the budget's limit."""
    return total + amount <= _limit(budget.amount)


def new_approval_request_id() -> str:
    """A fresh id a human can approve; the control plane looks it up by the blocked event."""
    return f"apr_{uuid.uuid4().hex}"


def blocked(budget: Budget, total: int) -> BudgetBlocked:
    """The error for a budget without room; approval budgets carry a new approval-request id."""
    remaining = max(Decimal(0), budget.amount - to_usd(total))
    approval = new_approval_request_id() if budget.behaviour is BudgetBehaviour.APPROVAL else None
    return BudgetBlocked(budget, remaining, approval)


def alert_label(budget: Budget, threshold: Decimal) -> str:
    """How a crossed threshold appears in ``Reservation.alerts``: ``"<budget id>@<fraction>"``."""
    return f"{budget.id}@{threshold.normalize()}"


def crossed_thresholds(budget: Budget, before: int, after: int) -> list[str]:
    """Thresholds of an ``alert`` budget that the step from ``before`` to ``after`` went over."""
    if budget.behaviour is not BudgetBehaviour.ALERT:
        return []
    limit = budget.amount
    low, high = to_usd(before), to_usd(after)
    return [alert_label(budget, t) for t in sorted(budget.thresholds) if low < limit * t <= high]


def alerts_for(budgets: Iterable[Budget], before: Iterable[int], amount: int) -> tuple[str, ...]:
    """Every threshold crossed by adding ``amount`` to each budget's total ``before``."""
    found: list[str] = []
    for budget, total in zip(budgets, before, strict=True):
        if budget.behaviour is BudgetBehaviour.ALERT:
            found.extend(crossed_thresholds(budget, total, total + amount))
    return tuple(found)


def offered_passes(
    budgets: Sequence[Budget],
    amount: Decimal,
    at: datetime,
    passes: Sequence[ApprovalPass],
    used: Collection[str],
) -> dict[str, ApprovalPass]:
    """Budget id -> the pass to spend if that approval budget lacks room: the first one granted
    for it that is unused, unexpired at ``at`` and large enough for ``amount``."""
    if not passes:
        return {}
    approval_ids = {b.id for b in budgets if b.behaviour is BudgetBehaviour.APPROVAL}
    offered: dict[str, ApprovalPass] = {}
    for granted in passes:
        if (
            granted.budget_id in approval_ids
            and granted.budget_id not in offered
            and granted.id not in used
            and granted.admits(amount, at)
        ):
            offered[granted.budget_id] = granted
    return offered
