"""Spend by any dimensions: the showback query everything else is built on."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
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
from comptroller.reports.prepared import PreparedLines, period_bounds, prepare


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
    return _between(table, *period_bounds(start, end))


def _between(table: ir.Table, start: datetime | None, end: datetime | None) -> ir.Table:
    if start:
        table = table.filter(table["ChargePeriodStart"] >= start)
    if end:
        table = table.filter(table["ChargePeriodStart"] < end)
    return table


def lines_expression(
    table: ir.Table,
    attribution: Attribution,
    dimensions: list[str],
    start: datetime | None,
    end: datetime | None,
    amounts: list[str],
    allocate: bool,
    precedence: bool = True,
) -> ir.Table:
    """``table``'s lines charged in [start, end), each (provider, day)'s model-API spend counted
    once (``reconcile.precedence``; ``precedence=False`` when the caller knows no day has two
    records), attributed for ``dimensions`` and (optionally) allocated."""
    lines = _between(table, start, end)
    if precedence:
        lines = showback_lines(lines, amounts)
    allocations = attribution.allocations if allocate else ()
    needed = list(dimensions)
    for spec in allocations:
        needed.append(spec.dimension)
        needed += [c for c in referenced_columns(spec.condition) if c in BUSINESS_DIMENSIONS]
    return allocate_all(attributed(lines, attribution, needed), allocations, amounts)


def attributed_lines(
    ledger: Ledger, attribution: Attribution, dimensions: list[str], query: SpendQuery, amounts: list[str]
) -> ir.Table:
    """Cost lines in the query's period, each (provider, day)'s model-API spend counted once
    (``reconcile.precedence``), attributed, filtered and (optionally) allocated."""
    table = lines_expression(
        ledger.cost_lines(),
        attribution,
        [*dimensions, *query.filters],
        *period_bounds(query.start, query.end),
        amounts,
        query.allocate,
    )
    for name, value in query.filters.items():
        column = dimension_expression(table, name)
        table = table.filter(column.isnull() if value == "" else column == value)
    return table


def prepared_lines(
    ledger: Ledger, attribution: Attribution, query: SpendQuery, amounts: list[str], dimensions: list[str]
) -> tuple[PreparedLines, ir.Table]:
    """The query's attributed lines from SQL compiled once per shape (``reports.prepared``), and
    the placeholder table with the query's filters applied. ``dimensions`` (checked, as are the
    filters' names) are the business dimensions, ledger columns or tags the caller reads."""
    if query.start and query.end and query.start > query.end:
        raise QueryError(f"the period is empty: {query.start} is after {query.end}")
    table = ledger.cost_lines()
    check_dimensions([*dimensions, *query.filters], table.columns)
    prepared = prepare(
        ledger,
        table,
        attribution,
        *period_bounds(query.start, query.end),
        tuple(amounts),
        query.allocate,
    )
    return prepared, prepared.filtered(query.filters)


def spend(ledger: Ledger, attribution: Attribution, query: SpendQuery) -> SpendReport:
    amount = cost_column(query.cost)
    by = list(query.by)
    prepared, table = prepared_lines(ledger, attribution, query, [amount], by)
    keys = {name: dimension_expression(table, name) for name in by}
    grouped = table.group_by(currency=table["BillingCurrency"], **keys).aggregate(cost=table[amount].sum())
    frame = prepared.fetch(grouped.order_by(ibis.desc("cost")))
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
