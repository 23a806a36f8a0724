"""Where a gateway replica gets its snapshot: a watched JSON file, or Redis with pub/sub.

Both sources keep the last good snapshot in memory and never drop it for an error, so keys,
budgets and kill switches keep working while the file is being replaced or Redis is down.
Callbacks registered with ``on_change`` run after each new snapshot becomes current (also for
the first one loaded by ``start``); a callback may be a plain function or a coroutine function.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import os
import random
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING

from pydantic import ValidationError

from comptroller.gateway.snapshot import Snapshot
from comptroller.gateway.snapshot_publish import snapshot_channel, snapshot_key, snapshot_version_key

if TYPE_CHECKING:
    from redis.asyncio.client import PubSub

log = logging.getLogger(__name__)

SnapshotCallback = Callable[[Snapshot], Awaitable[None] | None]


class _SnapshotHolder:
    """The current snapshot and the callbacks told when it changes."""

    def __init__(self) -> None:
        self._current = Snapshot()
        self._loaded = False
        self._callbacks: list[SnapshotCallback] = []

    def current(self) -> Snapshot:
        return self._current

    def on_change(self, callback: SnapshotCallback) -> None:
        self._callbacks.append(callback)

    async def _apply(self, snapshot: Snapshot) -> None:
        self._current = snapshot
        self._loaded = True
        for callback in self._callbacks:
            try:
                result = callback(snapshot)
                if inspect.isawaitable(result):
                    await result
            except Exception:
                log.exception("snapshot callback %r failed on version %s", callback, snapshot.version)


class FileSnapshotSource(_SnapshotHolder):
    """Reads the snapshot file the control plane replaces atomically; polls its identity.

    ``os.stat`` every ``poll_interval_s`` (250 ms by default) is cheaper and more portable than
    inotify and still applies a change well within a second. A missing or unreadable file leaves
    the last good snapshot (an empty one before any was read) in place.
    """

    def __init__(self, path: str | os.PathLike[str], poll_interval_s: float = 0.25) -> None:
        super().__init__()
        self.path = Path(path)
        self._path_str = os.fspath(self.path)  # os.stat on a str skips pathlib's wrapping
        self.poll_interval_s = poll_interval_s
        self._seen: tuple[int, int, int] | None = None
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        await self._check()
        if not self._loaded:
            log.warning("snapshot file %s not readable yet; starting with an empty snapshot", self.path)
        self._task = asyncio.create_task(self._poll(), name=f"snapshot-file:{self.path}")

    async def stop(self) -> None:
        await _cancel(self._task)
        self._task = None

    async def _poll(self) -> None:
        while True:
            await asyncio.sleep(self.poll_interval_s)
            await self._check()

    async def _check(self) -> None:
        try:
            stat = os.stat(self._path_str)
        except FileNotFoundError:
            return
        identity = (stat.st_mtime_ns, stat.st_size, stat.st_ino)
        if identity == self._seen:
            return
        try:
            snapshot = Snapshot.model_validate_json(self.path.read_bytes())
        except (OSError, ValidationError) as exc:
            log.error(
                "snapshot file %s unreadable, keeping version %s: %s", self.path, self._current.version, exc
            )
            return
        finally:
            self._seen = identity
        await self._apply(snapshot)


class RedisSnapshotSource(_SnapshotHolder):
    """Follows the snapshot a control plane publishes under ``namespace`` in Redis.

    It subscribes first and reads the key second, so no version published in between is
    missed; each message carries the new version, and the snapshot is read only when it is newer
    than the one held. Every ``verify_interval_s`` it also compares the stored version, which
    catches a message lost while the connection was being re-established. On any Redis error it
    reconnects with exponential backoff and jitter, keeping the last good snapshot meanwhile.
    """

    def __init__(
        self,
        url: str,
        namespace: str,
        *,
        backoff_initial_s: float = 0.05,
        backoff_max_s: float = 5.0,
        verify_interval_s: float = 5.0,
    ) -> None:
        super().__init__()
        self.url = url
        self.namespace = namespace
        self.backoff_initial_s = backoff_initial_s
        self.backoff_max_s = backoff_max_s
        self.verify_interval_s = verify_interval_s
        self.connected = asyncio.Event()
        # Imported here so that a file-fed replica never loads the Redis client (start-up time).
        import redis.asyncio as redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        self._errors: tuple[type[Exception], ...] = (redis.RedisError, OSError)
        # Errors reach the loop below instead of being retried inside the client, so that every
        # reconnection is followed by a fresh read of the key.
        self._client = redis.Redis.from_url(
            url, socket_connect_timeout=1.0, retry=Retry(NoBackoff(), 0), health_check_interval=0
        )
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        try:
            await self._refresh()
        except self._errors as exc:
            log.warning("snapshot from Redis %s unavailable at start (%s); will keep trying", self.url, exc)
        self._task = asyncio.create_task(self._follow(), name=f"snapshot-redis:{self.namespace}")

    async def stop(self) -> None:
        await _cancel(self._task)
        self._task = None
        await self._client.aclose()

    async def _refresh(self) -> None:
        raw = await self._client.get(snapshot_key(self.namespace))
        if raw is None:
            return
        try:
            snapshot = Snapshot.model_validate_json(raw)
        except ValidationError as exc:
            log.error(
                "snapshot in Redis %s is invalid, keeping version %s: %s",
                self.url,
                self._current.version,
                exc,
            )
            return
        if not self._loaded or snapshot.version > self._current.version:
            await self._apply(snapshot)

    async def _stored_version(self) -> int | None:
        raw = await self._client.get(snapshot_version_key(self.namespace))
        return int(raw) if raw is not None else None

    async def _follow(self) -> None:
        backoff = self.backoff_initial_s
        while True:
            pubsub = self._client.pubsub(ignore_subscribe_messages=True)
            try:
                await pubsub.subscribe(snapshot_channel(self.namespace))
                await self._refresh()
                self.connected.set()
                backoff = self.backoff_initial_s
                await self._listen(pubsub)
            except self._errors as exc:
                self.connected.clear()
                log.warning(
                    "snapshot subscription to %s lost (%s); retrying in %.2fs", self.url, exc, backoff
                )
                await asyncio.sleep(backoff * (0.5 + random.random()))
                backoff = min(self.backoff_max_s, backoff * 2)
            finally:
                with contextlib.suppress(*self._errors):
                    await pubsub.aclose()

    async def _listen(self, pubsub: PubSub) -> None:
        while True:
            message = await pubsub.get_message(timeout=self.verify_interval_s)
            if message is None:
                stored = await self._stored_version()
                if stored is not None and (not self._loaded or stored > self._current.version):
                    await self._refresh()
                continue
            try:
                version = int(message["data"])
            except (TypeError, ValueError):
                log.error("snapshot message %r carries no version; reading the key", message["data"])
                version = self._current.version + 1
            if not self._loaded or version > self._current.version:
                await self._refresh()


async def _cancel(task: asyncio.Task[None] | None) -> None:
    if task is None:
        return
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
