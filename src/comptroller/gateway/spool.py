"""The durable spend spool: every spend event reaches local disk before the ledger sees it.

The request path only enqueues (``Spool.append`` is a deque append, O(1), no I/O). One writer
thread serialises queued events with orjson into newline-delimited records, writes each batch
with one ``write`` and makes it durable with one ``fsync``. A record is ``<crc32 hex> <json>\\n``,
so a line torn by ``kill -9`` or power loss is recognised and skipped while every complete
record before it survives.

While events arrive the writer wakes every ``flush_interval_s`` and writes what is queued (or
sooner, once ``batch_max`` events wait), so a busy gateway fsyncs batches. After ``idle_after_s``
without an event it stops ticking and sleeps until the next ``append`` wakes it, which costs
that append one flag read; the first event after a quiet spell is written at once. Waking the
writer on every append instead was measured to cost more: it wakes while the event loop is
mid-request, and the two threads then trade the GIL several times per event.

Durability window: an event is on disk once the batch holding it is fsynced, at most
``flush_interval_s`` (default 50 ms) after ``append`` plus the time of one write and fsync.
The response is not held back for the fsync (that would add milliseconds to every call), so a
power loss or ``kill -9`` can lose the events appended in the last flush interval and nothing
older. ``await spool.flush()`` waits until everything appended so far is durable.

Segments: the writer appends to one active segment (``*.open``) that it holds under an
exclusive ``flock``; by size or age it is sealed by renaming it to ``*.seg``. The drainer
(control plane) reads sealed segments and deletes them only after the ledger committed their
events. An ``*.open`` segment whose lock is free belongs to a writer that died; the drainer
seals it itself. Several gateway processes may share one directory: names are unique per
process, and each writer only ever touches its own active segment.
"""

from __future__ import annotations

import asyncio
import fcntl
import itertools
import logging
import os
import threading
import time
import uuid
import zlib
from collections import deque
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from comptroller.gateway.events import SpendEvent

log = logging.getLogger(__name__)

DEFAULT_DIRNAME = "spool"
"""The spool's folder under the Comptroller home, unless configured otherwise."""
OPEN_SUFFIX = ".open"
SEALED_SUFFIX = ".seg"
NEW_SUFFIX = ".new"
DRAIN_LOCK = ".drain.lock"
CRC_WIDTH = 8


class SpoolClosedError(RuntimeError):
    """``append`` after ``close``: the event would never be written."""


def _default(value: Any) -> Any:
    """orjson knows dataclasses, datetimes and enums; money stays exact as a decimal string."""
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)  # a prompt part of an unexpected type must not cost the event


def encode_record(event: SpendEvent | dict[str, Any]) -> bytes:
    """One spool line: the crc32 of the JSON payload in hex, a space, the payload, a newline."""
    payload = orjson.dumps(event, default=_default, option=orjson.OPT_NON_STR_KEYS)
    return b"%08x %s\n" % (zlib.crc32(payload), payload)


@dataclass
class SegmentContents:
    """What a segment holds: its complete, checksummed records, and what was skipped."""

    path: Path
    records: list[dict[str, Any]] = field(default_factory=list)
    torn_tail: bool = False
    """The last line has no newline: a write cut off by a crash. Skipped, never an error."""
    corrupt_lines: list[int] = field(default_factory=list)
    """1-based line numbers whose checksum or JSON did not verify."""


def read_segment(path: Path, *, live: bool = False) -> SegmentContents:
    """Every complete record of a segment; a torn final line or a bad checksum is logged and
    skipped so one damaged write never blocks the events around it. In a ``live`` segment (a
    writer still appends) an unfinished last line is expected and not reported."""
    data = path.read_bytes()
    contents = SegmentContents(path)
    lines = data.split(b"\n")
    tail = lines.pop()  # after the last newline: b"" for a cleanly ended file
    if tail and not live:
        contents.torn_tail = True
        log.warning("spool segment %s: skipped a torn final record (%d bytes)", path.name, len(tail))
    for number, line in enumerate(lines, start=1):
        record = _decode(line)
        if record is None:
            contents.corrupt_lines.append(number)
            log.warning(
                "spool segment %s line %d: checksum or JSON does not verify; skipped", path.name, number
            )
        else:
            contents.records.append(record)
    return contents


def _decode(line: bytes) -> dict[str, Any] | None:
    if len(line) <= CRC_WIDTH + 1 or line[CRC_WIDTH : CRC_WIDTH + 1] != b" ":
        return None
    payload = line[CRC_WIDTH + 1 :]
    try:
        if int(line[:CRC_WIDTH], 16) != zlib.crc32(payload):
            return None
        record = orjson.loads(payload)
    except (ValueError, orjson.JSONDecodeError):
        return None
    return record if isinstance(record, dict) else None


def _fsync_dir(directory: Path) -> None:
    """A rename is durable only once the directory entry is."""
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


class Spool:
    """Append-only, batch-fsynced local spool of spend events; see the module docstring."""

    def __init__(
        self,
        directory: Path,
        *,
        batch_max: int = 512,
        flush_interval_s: float = 0.05,
        segment_max_bytes: int = 8 * 1024 * 1024,
        segment_max_age_s: float = 5.0,
        close_timeout_s: float = 10.0,
        idle_after_s: float = 1.0,
    ) -> None:
        if batch_max < 1 or flush_interval_s <= 0:
            raise ValueError("batch_max must be >= 1 and flush_interval_s > 0")
        self.directory = Path(directory)
        self.batch_max = batch_max
        self.flush_interval_s = flush_interval_s
        self.segment_max_bytes = segment_max_bytes
        self.segment_max_age_s = segment_max_age_s
        self.close_timeout_s = close_timeout_s
        self._pending: deque[SpendEvent] = deque()
        self._sequence = itertools.count(1)
        self._appended = 0
        self._durable = 0
        self._durable_changed = threading.Condition()
        self._wake = threading.Event()
        self._idle_after_ticks = max(1, round(idle_after_s / flush_interval_s))
        self._idle = False  # the writer sleeps without a timeout; the next append wakes it
        self._stopping = False
        self._closed = False
        self._thread: threading.Thread | None = None
        self._fd: int | None = None
        self._segment: Path | None = None
        self._segment_bytes = 0
        self._segment_opened = 0.0
        self._prefix = f"{os.getpid()}-{uuid.uuid4().hex[:8]}"
        self.write_errors = 0

    # -- the hot path -------------------------------------------------------------------------
    def append(self, event: SpendEvent) -> None:
        """Queue one event for the writer thread; never touches the disk."""
        if self._closed or self._stopping:
            raise SpoolClosedError(f"spool {self.directory} is closed; event {event.event_id} not queued")
        self._pending.append(event)
        self._appended = next(self._sequence)
        # Queued before the flag is read: a writer that went idle after this read finds the
        # event when it checks the queue, one that went idle before it is woken here.
        if (self._idle or len(self._pending) >= self.batch_max) and not self._wake.is_set():
            self._wake.set()

    # -- lifecycle ----------------------------------------------------------------------------
    async def start(self) -> None:
        self.start_sync()

    def start_sync(self) -> None:
        """Create the folder and start the writer thread (for callers without an event loop)."""
        if self._thread is not None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        self._thread = threading.Thread(target=self._run, name=f"spool-writer-{self._prefix}", daemon=True)
        self._thread.start()

    async def flush(self, timeout_s: float = 30.0) -> None:
        """Wait until every event appended before this call is fsynced."""
        await asyncio.to_thread(self.flush_sync, timeout_s)

    def flush_sync(self, timeout_s: float = 30.0) -> None:
        target = self._appended
        self._wake.set()
        with self._durable_changed:
            if not self._durable_changed.wait_for(lambda: self._durable >= target, timeout_s):
                raise TimeoutError(f"spool {self.directory}: events not durable after {timeout_s}s")

    async def close(self) -> None:
        """Write and fsync everything queued, seal the active segment, stop the writer."""
        await asyncio.to_thread(self.close_sync)

    def close_sync(self) -> None:
        if self._closed:
            return
        self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
        else:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._write_pending()  # never started: write inline
            self._seal()
        self._closed = True

    @property
    def durable_count(self) -> int:
        """How many of the events appended so far (in order) are fsynced."""
        return self._durable

    @property
    def pending_count(self) -> int:
        return len(self._pending)

    # -- the writer thread --------------------------------------------------------------------
    def _sleep(self, quiet_ticks: int) -> None:
        """One tick while events arrive; after ``idle_after_s`` of none, until an append (or the
        active segment's sealing time)."""
        if quiet_ticks < self._idle_after_ticks or self._stopping:
            self._wake.wait(self.flush_interval_s)
            return
        self._idle = True
        if not self._pending:  # an append that missed the flag is in the queue already
            seal_in = None
            if self._segment is not None:
                seal_in = max(0.0, self._segment_opened + self.segment_max_age_s - time.monotonic())
            self._wake.wait(seal_in)
        self._idle = False

    def _run(self) -> None:
        give_up_at: float | None = None
        quiet_ticks = self._idle_after_ticks  # start idle: the first event is written at once
        while True:
            self._sleep(quiet_ticks)
            self._wake.clear()
            if self._pending:
                quiet_ticks = 0
                self._write_pending()
            else:
                quiet_ticks += 1
            if (
                self._segment is not None
                and time.monotonic() - self._segment_opened >= self.segment_max_age_s
            ):
                self._seal()
            if not self._stopping:
                continue
            if not self._pending:
                break
            give_up_at = give_up_at or time.monotonic() + self.close_timeout_s
            if time.monotonic() > give_up_at:
                # The disk refused writes for the whole grace period: shutting down must not
                # hang forever, so say exactly what is lost.
                log.critical(
                    "spool %s: closing with %d events unwritten (first %s)",
                    self.directory,
                    len(self._pending),
                    self._pending[0].event_id,
                )
                break
        self._seal()

    def _write_pending(self) -> None:
        while self._pending:
            batch: list[SpendEvent] = []
            while self._pending and len(batch) < self.batch_max:
                batch.append(self._pending.popleft())
            try:
                self._write_batch(batch)
            except OSError as exc:
                # Keep every event: requeue in order, abandon the segment (its tail may be torn)
                # and try again on a fresh one next tick. Nothing is dropped, memory grows.
                self._pending.extendleft(reversed(batch))
                self.write_errors += 1
                log.error(
                    "spool %s: write failed (%s); %d events kept in memory",
                    self.directory,
                    exc,
                    len(self._pending),
                )
                self._seal(quiet=True)
                if self._stopping:
                    time.sleep(self.flush_interval_s)
                return
            if self._segment_bytes >= self.segment_max_bytes:
                self._seal()  # before telling waiters, so a flushed full segment is sealed too
            with self._durable_changed:
                self._durable += len(batch)
                self._durable_changed.notify_all()

    def _write_batch(self, batch: list[SpendEvent]) -> None:
        data = b"".join(encode_record(event) for event in batch)
        if self._fd is None:
            self._open_segment()
        assert self._fd is not None
        view = memoryview(data)
        while view:
            written = os.write(self._fd, view)
            view = view[written:]
        os.fsync(self._fd)
        self._segment_bytes += len(data)

    def _open_segment(self) -> None:
        """Create under a temporary name, lock, then publish as ``.open``, so a drainer never
        sees an unlocked ``.open`` file of a live writer."""
        stem = f"{time.time_ns():020d}-{self._prefix}"
        fresh = self.directory / f"{stem}{NEW_SUFFIX}"
        fd = os.open(fresh, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_APPEND, 0o640)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        active = self.directory / f"{stem}{OPEN_SUFFIX}"
        os.rename(fresh, active)
        _fsync_dir(self.directory)
        self._fd, self._segment = fd, active
        self._segment_bytes = 0
        self._segment_opened = time.monotonic()

    def _seal(self, *, quiet: bool = False) -> None:
        """Hand the active segment to the drainer by renaming it; an empty one is removed."""
        if self._fd is None or self._segment is None:
            return
        fd, segment = self._fd, self._segment
        self._fd = self._segment = None
        try:
            if self._segment_bytes:
                os.rename(segment, segment.with_suffix(SEALED_SUFFIX))
            else:
                segment.unlink()
            _fsync_dir(self.directory)
        except OSError as exc:
            if not quiet:
                log.error(
                    "spool %s: could not seal %s (%s); the drainer will", self.directory, segment.name, exc
                )
        finally:
            os.close(fd)  # releases the flock


@dataclass(frozen=True)
class SpoolStatus:
    sealed_segments: int
    active_segments: int
    orphaned_segments: int
    bytes: int
    oldest_age_s: float | None


def segment_is_locked(path: Path) -> bool:
    """True while a live writer holds the segment; a dead writer's lock is gone with it."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        return True  # sealed or removed meanwhile: not ours to take
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def spool_status(directory: Path) -> SpoolStatus:
    """What is waiting in a spool folder, for ``comptroller spool status`` and health checks."""
    sealed = active = orphaned = size = 0
    oldest: float | None = None
    now = time.time()
    if Path(directory).is_dir():
        for path in Path(directory).iterdir():
            if path.suffix not in (SEALED_SUFFIX, OPEN_SUFFIX):
                continue
            try:
                stat = path.stat()
            except FileNotFoundError:
                continue
            size += stat.st_size
            created = path.name.split("-", 1)[0]
            age = now - (int(created) / 1e9 if created.isdigit() else stat.st_mtime)
            oldest = age if oldest is None else max(oldest, age)
            if path.suffix == SEALED_SUFFIX:
                sealed += 1
            elif segment_is_locked(path):
                active += 1
            else:
                orphaned += 1
    return SpoolStatus(sealed, active, orphaned, size, oldest)


def seal_orphans(directory: Path) -> int:
    """Seal the ``.open`` segments of writers that died (their lock is free) and remove the
    empty ``.new`` files a writer can leave if it dies while creating a segment."""
    sealed = 0
    for path in sorted(Path(directory).glob(f"*{NEW_SUFFIX}")) + sorted(
        Path(directory).glob(f"*{OPEN_SUFFIX}")
    ):
        try:
            fd = os.open(path, os.O_RDONLY)
        except FileNotFoundError:
            continue
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            continue
        try:
            if path.suffix == NEW_SUFFIX or os.fstat(fd).st_size == 0:
                path.unlink(missing_ok=True)
            else:
                os.rename(path, path.with_suffix(SEALED_SUFFIX))
                sealed += 1
                log.warning("spool %s: sealed %s left by a writer that stopped", directory, path.name)
        finally:
            os.close(fd)
    if sealed:
        _fsync_dir(Path(directory))
    return sealed
