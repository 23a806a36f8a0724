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
import pyarrow.compute as pc

from comptroller.errors import IngestError, Problem
from comptroller.ingest.usage_rollup import ROLLUP_COLUMNS, ROLLUP_SCOPE, rollup_select
from comptroller.ledger.arrow_schema import USAGE_SCHEMA
from comptroller.ledger.schema import TOKEN_KINDS
from comptroller.ledger.sqltypes import DECIMAL_SCALE
from comptroller.ledger.store import Ledger
from comptroller.pricing.batch import price_columns
from comptroller.pricing.pricer import Pricer

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
            columns[field.name] = pa.repeat(pa.scalar(default, field.type), n)
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
        lowest = pc.min(columns[name]).as_py()
        if lowest is not None and lowest < floor:  # only a rejected batch is read row by row
            values = columns[name].to_pylist()
            bad = next(i for i, v in enumerate(values) if v < floor)
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
    """Add per-kind and total list/contracted costs, the price version and any pricing flag.

    Priced as a batch (``price_columns``): the same Decimals as pricing each event alone, with the
    catalog and contract terms looked up once per model and day instead of once per event."""
    columns = table.select(["provider", "model", "timestamp", "service_tier", "requests", *TOKEN_COLUMNS])
    values = columns.to_pydict()
    priced = price_columns(
        pricer,
        values["provider"],
        values["model"],
        values["timestamp"],
        values["service_tier"],
        {kind: values[f"{kind}_tokens"] for kind in TOKEN_KINDS},
        values["requests"],
    )
    totals = priced.list_cost
    extra: dict[str, list[Any]] = {
        "list_cost": totals,
        "contracted_cost": priced.contracted_cost,
        "price_version": priced.price_version,
        "pricing_flag": priced.flag,
        "delivery_id": [delivery_id] * table.num_rows,
    }
    for kind in TOKEN_KINDS:
        # An event that cannot be fully priced has no per-kind costs either: a partial cost
        # would read as the whole.
        for prefix, costs in (
            ("list_cost", priced.kind_list_cost[kind]),
            ("contracted_cost", priced.kind_contracted_cost[kind]),
        ):
            extra[f"{prefix}_{kind}"] = [
                c if t is not None else None for c, t in zip(costs, totals, strict=True)
            ]
    for name, column in extra.items():
        field = USAGE_SCHEMA.field(name)
        table = table.append_column(field, _array(column, field.type))
    return table.select(USAGE_SCHEMA.names)


def _array(values: list[Any], type_: pa.DataType) -> pa.Array:
    """Decimals beyond the ledger's sixteen places are rounded first, as Arrow refuses to round
    silently; catalog prices rarely have that many, so the rounding pass is usually skipped."""
    try:
        return pa.array(values, type_)
    except pa.ArrowInvalid:
        if not pa.types.is_decimal(type_):
            raise
        return pa.array([_fit(v) for v in values], type_)


def _fit(value: Decimal | None) -> Decimal | None:
    """Round to the ledger's sixteen places."""
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
    days = sorted(pc.unique(events["timestamp"].cast(pa.date32())).to_pylist())
    with ledger.delivery(delivery_id) as writer:
        stored = writer.insert_usage_events(events, replace=replace)
        if days:
            relation = writer.usage_events_on(days)
            writer.insert_cost_lines(rollup_select(relation, delivery_id), list(ROLLUP_COLUMNS))
            writer.replace_scopes(ROLLUP_SCOPE)
    return UsageDeliveryResult(
        delivery_id=delivery_id,
        received=events.num_rows,
        new_events=stored,
        days=tuple(days),
        unpriced_events=events["list_cost"].null_count,
        seconds=clock.perf_counter() - started,
    )
