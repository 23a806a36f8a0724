"""Building the gateway's snapshot from state and publishing it.

Publishers are serialised by the version row: ``publish`` bumps it first (``UPDATE ...
RETURNING``: a row lock on PostgreSQL, the write lock on SQLite), then reads keys, budgets,
limits and switches, writes the file, announces on Redis, and only then commits. Two publishes
can therefore never interleave, and the file and the Redis key always end on the newest version.

Budget spend comes from the ledger, measured by ``budget_spend``. A change reuses each budget's
figure from the last measurement while it still belongs to the budget's current period and
measures only the budgets without one (new, changed, or in a new period), so stopping an agent
does not wait for the ledger. ``comptroller keys publish`` (or the REST publish) measures all
of them again; run it on a schedule to keep a restarted gateway's starting figures fresh.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Generic, TypeVar

from redis.exceptions import RedisError
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from comptroller.budgets.model import Budget
from comptroller.budgets.spend import budget_spend
from comptroller.budgets.store import list_budgets
from comptroller.config import Settings
from comptroller.context import Context
from comptroller.gateway.snapshot import ApprovalPass, KillSwitch, RateLimit, Snapshot, VirtualKey
from comptroller.gateway.snapshot_publish import publish_snapshot_redis, write_snapshot_file
from comptroller.governance.approvals import ONE_OFF_TTL, granted_one_offs
from comptroller.keys.kill_switches import list_kill_switches
from comptroller.keys.models import SnapshotState, VirtualKeyRow
from comptroller.keys.rate_limits import list_rate_limits
from comptroller.keys.specs import as_utc
from comptroller.ledger.store import Ledger

log = logging.getLogger(__name__)

SNAPSHOT_FILE = "gateway-snapshot.json"
STATE_ROW = 1

T = TypeVar("T")


def snapshot_path(settings: Settings) -> Path:
    """``$COMPTROLLER_HOME/gateway-snapshot.json``: what an embedded gateway watches."""
    return settings.home / SNAPSHOT_FILE


@dataclass(frozen=True, slots=True)
class PublishResult:
    version: int
    path: Path
    redis_published: bool
    redis_error: str | None = None
    budget_spent: dict[str, Decimal] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Applied(Generic[T]):
    """A committed change and the snapshot that carried it to the gateway."""

    result: T
    published: PublishResult


def virtual_keys(session: Session) -> list[VirtualKey]:
    """Revoked and expired keys stay in the snapshot, marked, so the gateway can say why it
    refuses them rather than calling them unknown."""
    rows = session.scalars(select(VirtualKeyRow).order_by(VirtualKeyRow.id))
    return [
        VirtualKey(
            id=row.id,
            key_hash=row.key_hash,
            name=row.name,
            attribution=dict(row.attribution or {}),
            models=tuple(row.models or ()),
            expires_at=as_utc(row.expires_at),
            revoked=row.revoked_at is not None,
            cache_opt_in=row.cache_opt_in,
            store_prompts=row.store_prompts,
            data_classes=tuple(row.data_classes or ()),
        )
        for row in rows
    ]


def used_passes(ledger: Ledger, pass_ids: Sequence[str]) -> set[str]:
    """Passes an admitted gateway request names in the ledger (its ``approval_request_id``).

    Until the request that used a pass is drained into the ledger, the snapshot keeps listing
    the pass and the gateway's own record of it (in memory or Redis) stops a second use. A ledger
    that cannot be read must not stop a publish (it may be carrying a kill switch), so every
    pass stays listed then."""
    if not pass_ids:
        return set()
    try:
        events = ledger.usage_events()
        found = events.filter(
            events["approval_request_id"].isin(list(pass_ids)), events["status"] != "blocked_approval"
        ).select("approval_request_id")
        return {row["approval_request_id"] for row in found.distinct().to_pyarrow().to_pylist()}
    except Exception as exc:
        log.warning("ledger unreadable; approval passes listed without checking their use: %s", exc)
        return set()


def approval_passes(session: Session, ledger: Callable[[], Ledger], now: datetime) -> list[ApprovalPass]:
    """One-off approvals of gateway blocks not yet used: the blocked request's key may send one
    more request past the budget, up to the amount asked for when one was."""
    rows = granted_one_offs(session, now)
    if not rows:
        return []  # the ledger is opened only when a pass may need checking
    used = used_passes(ledger(), [row.id for row in rows])
    passes = []
    for row in rows:
        if row.id in used or row.budget_id is None or row.decided_at is None:
            continue
        key_id = (row.detail or {}).get("attribution", {}).get("key")
        decided_at = as_utc(row.decided_at)
        assert decided_at is not None
        passes.append(
            ApprovalPass(
                id=row.id,
                budget_id=row.budget_id,
                match={"key": key_id} if key_id else {},
                max_amount=None if row.requested_amount is None else Decimal(row.requested_amount),
                expires_at=decided_at + ONE_OFF_TTL,
            )
        )
    return passes


def _reusable_spend(
    row: SnapshotState | None, budgets: Sequence[Budget], now: datetime
) -> dict[str, Decimal]:
    """The last measured spend of each budget that has one and has not entered a new period."""
    if row is None or row.budget_spent is None or row.spent_at is None:
        return {}
    measured_at = as_utc(row.spent_at)
    assert measured_at is not None
    return {
        budget.id: Decimal(str(row.budget_spent[budget.id]))
        for budget in budgets
        if budget.id in row.budget_spent and budget.period_start(measured_at) == budget.period_start(now)
    }


def current_spend(
    ctx: Context, *, refresh: bool, now: datetime, remeasure: Collection[str] = ()
) -> tuple[dict[str, Decimal], bool]:
    """Budget id -> spend this period, and whether anything was measured now.

    Without ``refresh``, stored figures are reused and only budgets without one (or named in
    ``remeasure``, e.g. a budget whose scope just changed) are measured."""
    with ctx.state.session() as session:
        budgets = list_budgets(session)
        row = session.get(SnapshotState, STATE_ROW)
    reused = {} if refresh else _reusable_spend(row, budgets, now)
    for budget_id in remeasure:
        reused.pop(budget_id, None)
    missing = [b for b in budgets if b.id not in reused]
    if not missing:
        return reused, False
    measured = budget_spend(ctx.ledger, missing, now, attribution=ctx.attribution())
    return reused | measured, True


def _next_version(session: Session) -> int:
    bump = (
        update(SnapshotState)
        .where(SnapshotState.id == STATE_ROW)
        .values(version=SnapshotState.version + 1)
        .returning(SnapshotState.version)
    )
    return int(session.execute(bump).scalar_one())


def _assemble(
    session: Session, ledger: Callable[[], Ledger], version: int, spent: dict[str, Decimal], now: datetime
) -> Snapshot:
    budgets = list_budgets(session)
    return Snapshot(
        version=version,
        generated_at=now,
        keys=virtual_keys(session),
        budgets=budgets,
        budget_spent={b.id: spent[b.id] for b in budgets if b.id in spent},
        rate_limits=[
            RateLimit(
                id=limit.id,
                scope=limit.scope.value,
                scope_value=limit.scope_value,
                requests_per_minute=limit.requests_per_minute,
                tokens_per_minute=limit.tokens_per_minute,
                max_concurrent=limit.max_concurrent,
            )
            for limit in list_rate_limits(session)
        ],
        kill_switches=[
            KillSwitch(
                id=switch.id,
                scope=switch.scope.value,
                scope_value=switch.scope_value,
                reason=switch.reason,
                engaged_at=switch.engaged_at,
                engaged_by=switch.engaged_by,
            )
            for switch in list_kill_switches(session, engaged_only=True)
        ],
        approval_passes=approval_passes(session, ledger, now),
    )


def build_snapshot(ctx: Context, *, refresh_spend: bool = True) -> Snapshot:
    """A snapshot at the next version, committed as taken but not published."""
    now = datetime.now(UTC)
    spent, _ = current_spend(ctx, refresh=refresh_spend, now=now)
    with ctx.state.session() as session, session.begin():
        return _assemble(session, lambda: ctx.ledger, _next_version(session), spent, now)


def publish(ctx: Context, *, refresh_spend: bool = True, remeasure: Collection[str] = ()) -> PublishResult:
    """Write the newest snapshot to the file and, when configured, to Redis.

    A Redis failure does not undo the change or the file: it is returned, for the caller to
    report, and the next publish carries everything again."""
    now = datetime.now(UTC)
    spent, measured = current_spend(ctx, refresh=refresh_spend, now=now, remeasure=remeasure)
    settings = ctx.settings
    with ctx.state.session() as session, session.begin():
        version = _next_version(session)
        snapshot = _assemble(session, lambda: ctx.ledger, version, spent, now)
        state = session.get(SnapshotState, STATE_ROW)
        assert state is not None
        state.published_at = now.replace(tzinfo=None)
        if measured:
            state.budget_spent = {k: str(v) for k, v in spent.items()}
            state.spent_at = now.replace(tzinfo=None)
        path = write_snapshot_file(snapshot_path(settings), snapshot)
        redis_error = None
        if settings.redis_url:
            try:
                asyncio.run(publish_snapshot_redis(settings.redis_url, settings.redis_namespace, snapshot))
            except (RedisError, OSError) as exc:
                redis_error = f"could not publish to {settings.redis_url}: {exc}"
    return PublishResult(
        version=version,
        path=path,
        redis_published=bool(settings.redis_url) and redis_error is None,
        redis_error=redis_error,
        budget_spent=snapshot.budget_spent,
    )


def apply_change(
    ctx: Context,
    change: Callable[[Session], T],
    *,
    refresh_spend: bool = False,
    remeasure: Collection[str] = (),
) -> Applied[T]:
    """Run ``change`` in one state transaction (its audit entries included), commit, then
    republish, so every change reaches the gateway in the same command or request."""
    with ctx.state.session() as session, session.begin():
        result = change(session)
    published = publish(ctx, refresh_spend=refresh_spend, remeasure=remeasure)
    return Applied(result=result, published=published)
