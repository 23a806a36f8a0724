"""Ingesting per-call usage events: validate, price, store once, roll up into cost lines.

Events are identified by ``event_id``, so a replayed batch (a gateway spool drained twice, an
exporter retrying) adds nothing. Pricing happens here, once, with the price version stored on
each event; the day's FOCUS lines are then rebuilt from all of that day's events.
"""

from __future__ import annotations

import time as clock
import uuid
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import pyarrow as pa

from comptroller.errors import IngestError, Problem
from comptroller.ingest.usage_rollup import ROLLUP_SCOPE, rollup_select
from comptroller.ledger.arrow_schema import USAGE_SCHEMA
from comptroller.ledger.schema import COST_LINE_COLUMNS, TOKEN_KINDS
from comptroller.ledger.sqltypes import DECIMAL_SCALE
from comptroller.ledger.store import Ledger
from comptroller.pricing import Pricer, TokenUsage

TOKEN_COLUMNS = tuple(f"{k}_tokens" for k in TOKEN_KINDS)
DEFAULTS: dict[str, Any] = {
    **dict.fromkeys(TOKEN_COLUMNS, 0),
    "status": "ok",
    "retries": 0,
    "tool_calls": 0,
    "requests": 1,
    "currency": "USD",
}
PRICED_COLUMNS = {
    "list_cost",
    "contracted_cost",
    "price_version",
    "pricing_flag",
    "delivery_id",
    *(f"{c}_{k}" for c in ("list_cost", "contracted_cost") for k in TOKEN_KINDS),
}
COUNT_FLOORS: dict[str, int] = {**dict.fromkeys(TOKEN_COLUMNS, 0), "requests": 1}
REQUIRED = ("event_id", "timestamp", "source", "provider", "model")


@dataclass(frozen=True, slots=True)
class UsageDeliveryResult:
    delivery_id: str
    received: int
    new_events: int
    days: tuple[date, ...]
    unpriced_events: int
    seconds: float


def conform(table: pa.Table, origin: str = "usage events") -> pa.Table:
    """Cast to the ledger's event schema, filling defaults; reject with row and field named."""
    columns: dict[str, pa.Array] = {}
    n = table.num_rows
    for field in USAGE_SCHEMA:
        if field.name in PRICED_COLUMNS:
            continue
        if field.name not in table.column_names:
            if field.name in REQUIRED:
                raise IngestError([Problem(origin, "required field is missing", column=field.name)])
            default = DEFAULTS.get(field.name)
            columns[field.name] = pa.array([default] * n, field.type)
            continue
        column = table[field.name]
        try:
            if pa.types.is_timestamp(field.type) and pa.types.is_timestamp(column.type) and column.type.tz:
                column = column.cast(pa.timestamp("us", tz="UTC")).cast(pa.timestamp("us"))
            column = column.cast(field.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
            raise IngestError([_first_bad(origin, table, field)]) from exc
        if field.name in DEFAULTS:
            column = column.fill_null(DEFAULTS[field.name])
        columns[field.name] = column
    for name in REQUIRED:
        nulls = columns[name].null_count
        if nulls:
            row = next(i for i, v in enumerate(columns[name].to_pylist()) if v is None)
            raise IngestError([Problem(origin, "must not be empty", row=row + 1, column=name)])
    for name, floor in COUNT_FLOORS.items():
        values = columns[name].to_pylist()
        bad = next((i for i, v in enumerate(values) if v < floor), None)
        if bad is not None:
            raise IngestError([Problem(origin, f"{values[bad]} is below {floor}", bad + 1, name)])
    return pa.table(columns)


def _first_bad(origin: str, table: pa.Table, field: pa.Field) -> Problem:
    for i, value in enumerate(table[field.name].to_pylist()):
        if value is None:
            continue
        try:
            pa.array([value]).cast(field.type)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
            return Problem(origin, f"{value!r} is not a valid {field.type}", i + 1, field.name)
    return Problem(origin, f"cannot be read as {field.type}", column=field.name)


def price_events(table: pa.Table, pricer: Pricer, delivery_id: str) -> pa.Table:
    """Add per-kind and total list/contracted costs, the price version and any pricing flag."""
    rows = table.select(
        ["provider", "model", "timestamp", "service_tier", "requests", *TOKEN_COLUMNS]
    ).to_pylist()
    priced = [
        pricer.price(
            r["provider"],
            r["model"],
            TokenUsage(*(r[c] for c in TOKEN_COLUMNS)),
            r["timestamp"],
            r["service_tier"],
            requests=r["requests"],
        )
        for r in rows
    ]
    extra: dict[str, list[Any]] = {name: [] for name in PRICED_COLUMNS}
    for p in priced:
        extra["list_cost"].append(p.list_cost)
        extra["contracted_cost"].append(p.contracted_cost)
        extra["price_version"].append(p.price_version)
        extra["pricing_flag"].append(p.flag)
        extra["delivery_id"].append(delivery_id)
        for kind in TOKEN_KINDS:
            charge = p.charge(kind) if p.list_cost is not None else None
            extra[f"list_cost_{kind}"].append(charge.list_cost if charge else None)
            extra[f"contracted_cost_{kind}"].append(charge.contracted_cost if charge else None)
    for name, values in extra.items():
        field = USAGE_SCHEMA.field(name)
        if pa.types.is_decimal(field.type):
            values = [_fit(v) for v in values]
        table = table.append_column(field, pa.array(values, field.type))
    return table.select(USAGE_SCHEMA.names)


def _fit(value: Decimal | None) -> Decimal | None:
    """Round to the ledger's sixteen places; Arrow refuses to round silently."""
    return None if value is None else value.quantize(Decimal(1).scaleb(-DECIMAL_SCALE))


def ingest_usage_events(
    ledger: Ledger, table: pa.Table, pricer: Pricer, *, origin: str = "usage events", replace: bool = False
) -> UsageDeliveryResult:
    """Store events; with ``replace`` an event id seen before takes the new values (restated
    export buckets), otherwise the first copy stands (replayed per-call events)."""
    return _store(ledger, conform(table, origin), pricer, replace=replace)


def reprice_usage_events(
    ledger: Ledger, pricer: Pricer, *, start: date | None = None, end: date | None = None
) -> UsageDeliveryResult:
    """Price stored events again (after a contract override or a catalog update) and rebuild
    their days' cost lines. Events keep their identity; only costs and price versions change."""
    stored = ledger.usage_events()
    if start:
        stored = stored.filter(stored["timestamp"] >= datetime.combine(start, time()))
    if end:
        stored = stored.filter(stored["timestamp"] < datetime.combine(end + timedelta(days=1), time()))
    unpriced = stored.drop(*(c for c in PRICED_COLUMNS if c in stored.columns))
    return _store(ledger, conform(unpriced.to_pyarrow(), "stored usage events"), pricer, replace=True)


def _store(ledger: Ledger, conformed: pa.Table, pricer: Pricer, *, replace: bool) -> UsageDeliveryResult:
    """Price, store and roll up one batch of events in one transaction."""
    started = clock.perf_counter()
    delivery_id = uuid.uuid4().hex
    events = price_events(conformed, pricer, delivery_id)
    days = sorted({ts.date() for ts in events["timestamp"].to_pylist()})
    with ledger.delivery(delivery_id) as writer:
        stored = writer.insert_usage_events(events, replace=replace)
        if days:
            relation = writer.usage_events_on(days)
            columns = [c.name for c in COST_LINE_COLUMNS]
            writer.insert_cost_lines(rollup_select(relation, delivery_id), columns)
            writer.replace_scopes(ROLLUP_SCOPE)
    return UsageDeliveryResult(
        delivery_id=delivery_id,
        received=events.num_rows,
        new_events=stored,
        days=tuple(days),
        unpriced_events=events["list_cost"].null_count,
        seconds=clock.perf_counter() - started,
    )
