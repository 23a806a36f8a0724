"""Draining the gateway's spend spool into the ledger.

Sealed spool segments are read, their events converted to usage-event rows and stored in one
ledger delivery per batch; a segment is deleted (or archived) only after that delivery
committed. Events are stored by ``event_id`` with the first copy standing, so a crash between
the commit and the deletion replays the segment without double counting, and a ledger outage
simply leaves the segments for the next drain.

Costs: the gateway prices each call when it settles the call's budgets; the ledger keeps those
costs and that price version, so showback and budgets agree to the cent. The control plane's
pricer is used only to split the gateway's totals by token kind (the FOCUS rollup has one line
per kind) and to price events the gateway could not. Calls that never reached a provider
(blocked, answered from the response cache) bill nothing: their token counts and costs are
zero, and a cache hit's ``avoided_cost`` says what it saved.
"""

from __future__ import annotations

import fcntl
import logging
import os
import shutil
import threading
import time as clock
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import duckdb
import orjson
import psycopg
import pyarrow as pa

from comptroller.errors import ConfigError, IngestError, LedgerUnavailableError
from comptroller.gateway.spool import (
    DRAIN_LOCK,
    OPEN_SUFFIX,
    SEALED_SUFFIX,
    SegmentContents,
    read_segment,
    seal_orphans,
    segment_is_locked,
)
from comptroller.ingest.usage_events import TOKEN_COLUMNS, conform, price_events
from comptroller.ingest.usage_rollup import (
    EVENT_DIMENSIONS,
    ROLLUP_COLUMNS,
    ROLLUP_SCOPE,
    rollup_select,
)
from comptroller.ledger.arrow_schema import USAGE_SCHEMA
from comptroller.ledger.schema import TOKEN_KINDS
from comptroller.ledger.sqltypes import DECIMAL_SCALE
from comptroller.ledger.store import Ledger
from comptroller.pricing import Pricer

log = logging.getLogger(__name__)

SOURCE = "gateway"
UNBILLED_STATUSES = frozenset(
    {
        "blocked_budget",
        "blocked_approval",
        "blocked_rate_limit",
        "blocked_kill_switch",
        "blocked_policy",
        "cache_hit",
    }
)
"""Outcomes where no provider was called, so nothing was billed."""
PASSTHROUGH = (
    "event_id",
    "provider",
    "model",
    "operation",
    "api_key_id",
    "request_id",
    "trace_id",
    "latency_ms",
    "time_to_first_token_ms",
    "overhead_ms",
    "status",
    "error_type",
    "retries",
    "tool_calls",
    "service_tier",
    "route",
    "cache_hit",
    "stream",
    "currency",
    "block_reason",
    "approval_request_id",
)
TAGGED = ("blocked_budget_id", "budget_alerts", "fail_open_budget_ids", "approval_pass_ids")
"""Gateway budget facts without a column of their own: kept in ``tags`` when present."""
OUTAGE_ERRORS: tuple[type[BaseException], ...] = (psycopg.Error, duckdb.Error, ConfigError)
"""What an unreachable or locked ledger raises: drains stop, segments stay for the next one."""
REJECTED_DIRNAME = "rejected"
QUANTUM = Decimal(1).scaleb(-DECIMAL_SCALE)


@dataclass
class DrainResult:
    segments: int = 0
    """Sealed segments whose events the ledger committed, then deleted or archived."""
    events: int = 0
    new_events: int = 0
    duplicates: int = 0
    """Events already in the ledger (a replayed segment); stored once, counted once."""
    torn_records: int = 0
    corrupt_records: int = 0
    rejected_records: int = 0
    orphans_sealed: int = 0
    active_events: int = 0
    """Events read from live segments (``include_active``); they stay on disk until sealed."""
    deliveries: list[str] = field(default_factory=list)
    seconds: float = 0.0


@dataclass(frozen=True)
class _GatewayCost:
    list_cost: Decimal
    contracted_cost: Decimal
    price_version: str | None
    pricing_flag: str | None


@contextmanager
def drain_lock(directory: Path) -> Iterator[None]:
    """One drain at a time per spool folder (the gateway's drainer and a manual CLI run)."""
    directory.mkdir(parents=True, exist_ok=True)
    fd = os.open(directory / DRAIN_LOCK, os.O_RDWR | os.O_CREAT, 0o640)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)


def pending_segments(directory: Path) -> list[Path]:
    """Sealed segments, oldest first (names start with their creation time in ns)."""
    return sorted(Path(directory).glob(f"*{SEALED_SUFFIX}"))


def drain_spool(
    directory: Path,
    ledger: Ledger,
    pricer: Pricer,
    *,
    batch_size: int = 20_000,
    include_active: bool = False,
    archive: Path | None = None,
) -> DrainResult:
    """Move every sealed segment's events into the ledger, ``batch_size`` events (whole
    segments) per delivery. With ``include_active`` the complete records of live segments are
    stored too and the segments left in place; their later drain adds nothing twice.

    Raises LedgerUnavailableError when the ledger cannot be written; segments not committed
    stay on disk."""
    started = clock.perf_counter()
    directory = Path(directory)
    result = DrainResult()
    with drain_lock(directory):
        result.orphans_sealed = seal_orphans(directory)
        batch: list[SegmentContents] = []
        for path in pending_segments(directory):
            batch.append(_read(path, result))
            if sum(len(s.records) for s in batch) >= batch_size:
                _deliver(batch, ledger, pricer, result, archive)
                batch = []
        if batch:
            _deliver(batch, ledger, pricer, result, archive)
        if include_active:
            live = [
                read_segment(p, live=True)
                for p in sorted(directory.glob(f"*{OPEN_SUFFIX}"))
                if segment_is_locked(p)
            ]
            result.active_events = sum(len(s.records) for s in live)
            if live:
                _deliver(live, ledger, pricer, result, None, keep=True)
    result.seconds = clock.perf_counter() - started
    return result


def _read(path: Path, result: DrainResult) -> SegmentContents:
    contents = read_segment(path)
    result.torn_records += int(contents.torn_tail)
    result.corrupt_records += len(contents.corrupt_lines)
    return contents


def _deliver(
    segments: list[SegmentContents],
    ledger: Ledger,
    pricer: Pricer,
    result: DrainResult,
    archive: Path | None,
    *,
    keep: bool = False,
) -> None:
    records = [r for s in segments for r in s.records]
    rows: list[dict[str, Any]] = []
    costs: list[_GatewayCost | None] = []
    for segment in segments:
        for number, record in enumerate(segment.records, start=1):
            try:
                row, cost = event_row(record)
            except ValueError as exc:
                result.rejected_records += 1
                log.error("spool segment %s record %d rejected: %s", segment.path.name, number, exc)
                continue
            rows.append(row)
            costs.append(cost)
    if rows:
        try:
            delivery_id, stored = store_gateway_events(ledger, rows, costs, pricer)
        except IngestError as exc:
            if keep:
                log.error("live spool segments not drained: %s", exc.message)
            else:
                _reject(segments, exc, result)
            return
        except OUTAGE_ERRORS as exc:
            raise LedgerUnavailableError(
                f"ledger unavailable while draining {len(segments)} spool segment(s) "
                f"({len(records)} events); they stay in the spool for the next drain: {exc}"
            ) from exc
        result.deliveries.append(delivery_id)
        result.new_events += stored
        result.duplicates += len(rows) - stored
    if keep:
        return
    result.events += len(records)
    for segment in segments:
        if archive is None:
            segment.path.unlink(missing_ok=True)
        else:
            archive.mkdir(parents=True, exist_ok=True)
            shutil.move(segment.path, archive / segment.path.name)
        result.segments += 1


def _reject(segments: list[SegmentContents], error: IngestError, result: DrainResult) -> None:
    """Set aside segments the ledger refuses, so one bad event cannot stall every later drain."""
    for segment in segments:
        rejected = segment.path.parent / REJECTED_DIRNAME
        rejected.mkdir(exist_ok=True)
        if segment.path.exists():
            shutil.move(segment.path, rejected / segment.path.name)
        result.rejected_records += len(segment.records)
    log.error("spool segments moved to %s/: %s", REJECTED_DIRNAME, error.message)


def _utc(value: Any) -> datetime:
    if isinstance(value, datetime):
        stamp = value
    elif isinstance(value, str):
        stamp = datetime.fromisoformat(value)
    else:
        raise ValueError(f"timestamp {value!r} is not an ISO 8601 time")
    return stamp.astimezone(UTC).replace(tzinfo=None) if stamp.tzinfo else stamp


def _money(record: dict[str, Any], name: str) -> Decimal | None:
    value = record.get(name)
    if value is None:
        return None
    try:
        return Decimal(str(value)).quantize(QUANTUM)
    except InvalidOperation as exc:
        raise ValueError(f"{name} {value!r} is not a number") from exc


def event_row(record: dict[str, Any]) -> tuple[dict[str, Any], _GatewayCost | None]:
    """A spool record (a serialised SpendEvent) as a usage-event row plus the gateway's cost."""
    for name in ("event_id", "timestamp", "provider", "model", "status"):
        if not record.get(name):
            raise ValueError(f"field {name} is missing")
    row = {name: record.get(name) for name in PASSTHROUGH}
    row["source"] = SOURCE
    row["timestamp"] = _utc(record["timestamp"])
    row["requests"] = 1
    row["avoided_cost"] = _money(record, "avoided_cost")
    billed = row["status"] not in UNBILLED_STATUSES
    for column in TOKEN_COLUMNS:
        count = record.get(column) or 0
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise ValueError(f"{column} {count!r} is not a non-negative integer")
        row[column] = count if billed else 0
    attribution = dict(record.get("attribution") or {})
    for dimension in EVENT_DIMENSIONS:
        row[dimension] = attribution.pop(dimension, None)
    attribution.update({name: record[name] for name in TAGGED if record.get(name)})
    row["tags"] = orjson.dumps(attribution, option=orjson.OPT_SORT_KEYS).decode() if attribution else None
    list_cost, contracted = _money(record, "list_cost"), _money(record, "contracted_cost")
    if not billed:
        cost = _GatewayCost(Decimal(0), Decimal(0), record.get("price_version"), None)
    elif list_cost is None:
        cost = None  # the gateway could not price it: the ledger's pricer tries
    else:
        cost = _GatewayCost(
            list_cost,
            list_cost if contracted is None else contracted,
            record.get("price_version"),
            record.get("pricing_flag"),
        )
    return row, cost


def store_gateway_events(
    ledger: Ledger, rows: list[dict[str, Any]], costs: list[_GatewayCost | None], pricer: Pricer
) -> tuple[str, int]:
    """Conform, cost, store and roll up one batch in one delivery; returns (delivery id, new)."""
    names = [f.name for f in USAGE_SCHEMA if f.name in rows[0]]
    schema = pa.schema([USAGE_SCHEMA.field(n) for n in names])
    table = pa.Table.from_pylist([{n: r[n] for n in names} for r in rows], schema=schema)
    delivery_id = uuid.uuid4().hex
    events = apply_gateway_costs(price_events(conform(table, "gateway spool"), pricer, delivery_id), costs)
    days = sorted({ts.date() for ts in events["timestamp"].to_pylist()})
    with ledger.delivery(delivery_id) as writer:
        stored = writer.insert_usage_events(events)
        if stored:
            relation = writer.usage_events_on(days)
            writer.insert_cost_lines(rollup_select(relation, delivery_id), list(ROLLUP_COLUMNS))
            writer.replace_scopes(ROLLUP_SCOPE)
    return delivery_id, stored


def apply_gateway_costs(events: pa.Table, costs: list[_GatewayCost | None]) -> pa.Table:
    """Put the gateway's totals, price version and flag on each event, split by token kind in
    the proportions of the ledger pricer's split (or of token counts when it has none)."""
    kinds = [f"{c}_{k}" for c in ("list_cost", "contracted_cost") for k in TOKEN_KINDS]
    written = ["list_cost", "contracted_cost", "price_version", "pricing_flag", *kinds]
    rows = events.select([*written, *TOKEN_COLUMNS]).to_pylist()
    for row, cost in zip(rows, costs, strict=True):
        if cost is None:
            continue
        tokens = [row[c] for c in TOKEN_COLUMNS]
        for total_name, total in (("list_cost", cost.list_cost), ("contracted_cost", cost.contracted_cost)):
            parts = [row[f"{total_name}_{k}"] for k in TOKEN_KINDS]
            if row[total_name] != total or any(p is None for p, t in zip(parts, tokens, strict=True) if t):
                split = _split(total, parts, tokens)
                for kind, value in zip(TOKEN_KINDS, split, strict=True):
                    row[f"{total_name}_{kind}"] = value
            row[total_name] = total
        row["price_version"] = cost.price_version or row["price_version"]
        row["pricing_flag"] = cost.pricing_flag
    for name in written:
        index = events.schema.get_field_index(name)
        field_ = events.schema.field(index)
        events = events.set_column(index, field_, pa.array([r[name] for r in rows], field_.type))
    return events


def _split(total: Decimal, parts: list[Decimal | None], tokens: list[int]) -> list[Decimal | None]:
    """``total`` shared out over token kinds; exact to the ledger's scale, remainder on the
    largest share. Kinds without tokens get None, as the pricer leaves them."""
    priced = all(p is not None for p, t in zip(parts, tokens, strict=True) if t)
    weights = [p or Decimal(0) if t else Decimal(0) for p, t in zip(parts, tokens, strict=True)]
    if not priced or not any(weights):
        weights = [Decimal(t) for t in tokens]
    whole = sum(weights, Decimal(0))
    if not whole:
        return [None] * len(parts)
    shares: list[Decimal | None] = [
        (total * w / whole).quantize(QUANTUM) if t else None for w, t in zip(weights, tokens, strict=True)
    ]
    largest = max(range(len(shares)), key=lambda i: weights[i])
    shares[largest] = (
        (shares[largest] or Decimal(0)) + total - sum((s or Decimal(0) for s in shares), Decimal(0))
    )
    return shares


class SpoolDrainer:
    """Drains a spool folder every ``interval_s`` on a background thread, for the gateway
    process. The ledger is opened only when there is something to drain and closed after, so
    a DuckDB ledger file stays free for the CLI and the server in between. While the ledger is
    unreachable the drainer backs off (doubling up to ``max_backoff_s``) and keeps retrying;
    the events wait in the spool."""

    def __init__(
        self,
        directory: Path,
        open_ledger_fn: Callable[[], Ledger],
        interval_s: float = 5.0,
        *,
        pricer: Pricer | Callable[[], Pricer] | None = None,
        batch_size: int = 20_000,
        max_backoff_s: float = 60.0,
    ) -> None:
        self.directory = Path(directory)
        self.open_ledger_fn = open_ledger_fn
        self.interval_s = interval_s
        self.batch_size = batch_size
        self.max_backoff_s = max_backoff_s
        self._pricer = pricer
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.last_result: DrainResult | None = None
        self.last_error: LedgerUnavailableError | None = None
        self.failures = 0

    def pricer(self) -> Pricer:
        if isinstance(self._pricer, Pricer):
            return self._pricer
        if self._pricer is None:
            self._pricer = Pricer()
            return self._pricer
        return self._pricer()

    def run_once(self) -> DrainResult | None:
        """Drain now; None when there was nothing sealed to drain. Raises LedgerUnavailableError."""
        with drain_lock(self.directory):
            seal_orphans(self.directory)
            if not pending_segments(self.directory):
                return None
        try:
            ledger = self.open_ledger_fn()
        except OUTAGE_ERRORS as exc:
            raise LedgerUnavailableError(
                f"cannot open the ledger; spool segments stay queued: {exc}"
            ) from exc
        try:
            return drain_spool(self.directory, ledger, self.pricer(), batch_size=self.batch_size)
        finally:
            ledger.close()

    def start(self) -> None:
        if self._thread is None:
            self._thread = threading.Thread(target=self._loop, name="spool-drainer", daemon=True)
            self._thread.start()

    def stop(self, *, final_drain: bool = True) -> None:
        """Stop the thread; by default drain once more so a clean shutdown leaves nothing queued."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        if final_drain:
            self._attempt()

    def _loop(self) -> None:
        while not self._stop.wait(self._delay()):
            self._attempt()

    def _delay(self) -> float:
        return min(self.interval_s * 2**self.failures, max(self.max_backoff_s, self.interval_s))

    def _attempt(self) -> None:
        try:
            result = self.run_once()
        except LedgerUnavailableError as exc:
            self.failures += 1
            self.last_error = exc
            log.warning("spool drain failed (attempt %d), retrying: %s", self.failures, exc.message)
            return
        except Exception:
            self.failures += 1
            log.exception("spool drain failed unexpectedly; segments stay queued")
            return
        self.failures = 0
        self.last_error = None
        if result is not None:
            self.last_result = result
