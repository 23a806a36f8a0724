"""Spend by any dimensions: the showback query everything else is built on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal
from typing import Any

import ibis
import ibis.expr.types as ir

from comptroller.attribution.allocation import allocate_all
from comptroller.attribution.conditions import referenced_columns
from comptroller.attribution.resolve import attributed
from comptroller.attribution.specs import Attribution
from comptroller.errors import QueryError
from comptroller.ledger.schema import BUSINESS_DIMENSIONS
from comptroller.ledger.store import Ledger
from comptroller.reconcile.precedence import showback_lines
from comptroller.reports.dimensions import check_dimensions, cost_column, dimension_expression


@dataclass(frozen=True, slots=True)
class SpendQuery:
    by: tuple[str, ...] = ()
    start: date | None = None
    end: date | None = None
    """Inclusive last day."""
    cost: str = "effective"
    filters: dict[str, str] = field(default_factory=dict)
    allocate: bool = True


@dataclass(frozen=True, slots=True)
class SpendReport:
    currency: str
    total: Decimal
    by: tuple[str, ...]
    rows: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {
            "currency": self.currency,
            "total": float(self.total),
            "rows": [{**row, "cost": float(row["cost"])} for row in self.rows],
        }


def in_period(table: ir.Table, start: date | None, end: date | None) -> ir.Table:
    """Lines whose charge period starts within [start, end] (whole days, UTC)."""
    if start:
        table = table.filter(table["ChargePeriodStart"] >= datetime.combine(start, time()))
    if end:
        table = table.filter(table["ChargePeriodStart"] < datetime.combine(end + timedelta(days=1), time()))
    return table


def attributed_lines(
    ledger: Ledger, attribution: Attribution, dimensions: list[str], query: SpendQuery, amounts: list[str]
) -> ir.Table:
    """Cost lines in the query's period, each (provider, day)'s model-API spend counted once
    (``reconcile.precedence``), attributed, filtered and (optionally) allocated."""
    table = showback_lines(in_period(ledger.cost_lines(), query.start, query.end), amounts)
    allocations = attribution.allocations if query.allocate else ()
    needed = [*dimensions, *query.filters]
    for spec in allocations:
        needed.append(spec.dimension)
        needed += [c for c in referenced_columns(spec.condition) if c in BUSINESS_DIMENSIONS]
    table = attributed(table, attribution, needed)
    table = allocate_all(table, allocations, amounts)
    for name, value in query.filters.items():
        column = dimension_expression(table, name)
        table = table.filter(column.isnull() if value == "" else column == value)
    return table


def spend(ledger: Ledger, attribution: Attribution, query: SpendQuery) -> SpendReport:
    if query.start and query.end and query.start > query.end:
        raise QueryError(f"the period is empty: {query.start} is after {query.end}")
    amount = cost_column(query.cost)
    columns = ledger.columns()
    by = check_dimensions(query.by, columns)
    check_dimensions(query.filters, columns)
    table = attributed_lines(ledger, attribution, by, query, [amount])
    keys = {name: dimension_expression(table, name) for name in by}
    grouped = table.group_by(currency=table["BillingCurrency"], **keys).aggregate(cost=table[amount].sum())
    frame = grouped.order_by(ibis.desc("cost")).to_pyarrow().to_pylist()
    currencies = {r["currency"] for r in frame}
    mixed = len(currencies) > 1
    rows = []
    for record in frame:
        row = {name: record[name] for name in by}
        if mixed:
            row["currency"] = record["currency"]
        row["cost"] = record["cost"] if record["cost"] is not None else Decimal(0)
        rows.append(row)
    total = sum((r["cost"] for r in rows), Decimal(0))
    currency = "mixed" if mixed else (currencies.pop() if currencies else "USD")
    return SpendReport(currency=currency, total=total, by=tuple(by), rows=rows)
