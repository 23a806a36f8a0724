"""Sending a notification to every subscribed channel, with retries and a delivery log.

Sends run concurrently and outside any database transaction: a slow SMTP server must not hold
the state database's write lock. The log is written afterwards, one row per channel.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine, Sequence
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import select

from comptroller.errors import ConfigError
from comptroller.notify.base import Channel, DeliveryFailed
from comptroller.notify.message import Notification, NotificationKind
from comptroller.notify.models import NotificationChannelRow, NotificationDeliveryRow
from comptroller.notify.registry import build_channel
from comptroller.state.db import StateDB

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff: waits of ``first_delay_s``, then times ``factor``, between attempts."""

    attempts: int = 3
    first_delay_s: float = 0.5
    factor: float = 4.0


@dataclass(frozen=True, slots=True)
class DeliveryResult:
    channel_id: str
    channel_name: str
    delivered: bool
    attempts: int
    error: str | None = None
    skipped: bool = False  # already delivered under the same dedupe key


async def send_with_retries(
    channel: Channel, notification: Notification, policy: RetryPolicy
) -> tuple[int, str | None]:
    """(attempts made, last error or None on success)."""
    delay = policy.first_delay_s
    for attempt in range(1, policy.attempts + 1):
        try:
            await channel.send(notification)
            return attempt, None
        except DeliveryFailed as exc:
            if not exc.retryable or attempt == policy.attempts:
                return attempt, str(exc)
        await asyncio.sleep(delay)
        delay *= policy.factor
    raise AssertionError("unreachable: the loop returns on its last attempt")


def run_sync(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine from synchronous code, also when the calling thread already runs a loop."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(coroutine)
    box: dict[str, Any] = {}

    def target() -> None:
        try:
            box["result"] = asyncio.run(coroutine)
        except BaseException as exc:
            box["error"] = exc

    thread = threading.Thread(target=target)
    thread.start()
    thread.join()
    if "error" in box:
        raise box["error"]
    return box["result"]


def subscribed(
    rows: Sequence[NotificationChannelRow], kind: NotificationKind
) -> list[NotificationChannelRow]:
    return [r for r in rows if r.enabled and (not r.kinds or kind.value in r.kinds)]


def targets(
    state: StateDB,
    kind: NotificationKind,
    *,
    channel_ids: Sequence[str] | None = None,
    dedupe_key: str | None = None,
) -> tuple[list[NotificationChannelRow], set[str]]:
    """(channels to address, ids of those that already had ``dedupe_key`` delivered)."""
    with state.session() as session:
        query = select(NotificationChannelRow).order_by(NotificationChannelRow.name)
        if channel_ids is not None:
            rows = list(session.scalars(query.where(NotificationChannelRow.id.in_(channel_ids))))
        else:
            rows = subscribed(list(session.scalars(query)), kind)
        if dedupe_key is None:
            return rows, set()
        done = session.scalars(
            select(NotificationDeliveryRow.channel_id).where(
                NotificationDeliveryRow.dedupe_key == dedupe_key,
                NotificationDeliveryRow.status == "delivered",
            )
        )
        return rows, set(done)


def skipped(rows: Sequence[NotificationChannelRow], done: set[str]) -> list[DeliveryResult]:
    return [DeliveryResult(r.id, r.name, True, 0, skipped=True) for r in rows if r.id in done]


def notify(
    state: StateDB,
    notification: Notification,
    *,
    channel_ids: Sequence[str] | None = None,
    dedupe_key: str | None = None,
    policy: RetryPolicy | None = None,
) -> list[DeliveryResult]:
    """Send to the enabled channels subscribed to the notification's kind (or to the channels
    named, whatever they subscribe to), once per ``dedupe_key`` and channel."""
    policy = policy or RetryPolicy()
    rows, done = targets(state, notification.kind, channel_ids=channel_ids, dedupe_key=dedupe_key)
    pending = [r for r in rows if r.id not in done]
    outcomes = run_sync(_send_all(pending, notification, policy))
    results = skipped(rows, done)
    with state.session() as session, session.begin():
        for row, (attempts, error) in zip(pending, outcomes, strict=True):
            session.add(
                NotificationDeliveryRow(
                    channel_id=row.id,
                    kind=notification.kind.value,
                    subject=notification.subject[:300],
                    dedupe_key=dedupe_key,
                    status="failed" if error else "delivered",
                    attempts=attempts,
                    error=error,
                )
            )
            results.append(DeliveryResult(row.id, row.name, error is None, attempts, error))
    return results


async def _send_all(
    rows: Sequence[NotificationChannelRow], notification: Notification, policy: RetryPolicy
) -> list[tuple[int, str | None]]:
    async def one(row: NotificationChannelRow) -> tuple[int, str | None]:
        try:
            channel = build_channel(row.type, row.config)
        except ConfigError as exc:  # a stored config a newer schema refuses: log it, keep going
            return 0, exc.message
        return await send_with_retries(channel, notification, policy)

    return list(await asyncio.gather(*(one(r) for r in rows)))


def list_deliveries(
    state: StateDB, *, channel_id: str | None = None, limit: int = 50
) -> list[NotificationDeliveryRow]:
    with state.session() as session:
        query = select(NotificationDeliveryRow).order_by(NotificationDeliveryRow.id.desc()).limit(limit)
        if channel_id:
            query = query.where(NotificationDeliveryRow.channel_id == channel_id)
        return list(session.scalars(query))
