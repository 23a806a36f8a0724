"""Spend per day, week or month, optionally split by up to two dimensions: the data behind every
time-series chart. Periods are truncated in the database, so only aggregates leave it; a period
already summed per day (``reports.cube``) answers any split of it without reading the ledger."""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import ibis.expr.types as ir

from comptroller.attribution.specs import Attribution
from comptroller.errors import QueryError
from comptroller.ledger.store import Ledger
from comptroller.reports.cube import DailyCube, build_later, daily_cube
from comptroller.reports.dimensions import cost_column, dimension_expression
from comptroller.reports.prepared import PreparedLines
from comptroller.reports.spend import SpendQuery, prepared_lines

GRAINS: dict[str, str] = {"day": "D", "week": "W", "month": "M"}
"""Week periods start on Monday (ISO), on DuckDB and PostgreSQL alike."""

MAX_GROUPS = 2


@dataclass(frozen=True, slots=True)
class TrendReport:
    grain: str
    by: tuple[str, ...]
    total: Decimal
    rows: list[dict[str, Any]]
    """One row per (period, group values): ``period`` (first day), the group values, ``cost``."""

    def as_json(self) -> dict[str, Any]:
        return {
            "grain": self.grain,
            "by": list(self.by),
            "total": float(self.total),
            "rows": [{**r, "period": r["period"].isoformat(), "cost": float(r["cost"])} for r in self.rows],
        }


def restrict_teams(table: ir.Table, teams: Collection[str] | None) -> ir.Table:
    """Only the lines of ``teams`` (None: no restriction); ``table`` must carry ``team``."""
    if teams is None:
        return table
    return table.filter(table["team"].isin(sorted(teams)))


def spend_trend(
    ledger: Ledger,
    attribution: Attribution,
    query: SpendQuery,
    grain: str = "day",
    *,
    teams: Collection[str] | None = None,
) -> TrendReport:
    """Spend per ``grain`` period (by the day each charge starts) and per ``query.by`` values."""
    if grain not in GRAINS:
        raise QueryError(f"grain must be one of {', '.join(GRAINS)}, not {grain!r}")
    if len(query.by) > MAX_GROUPS:
        raise QueryError(f"a trend splits by at most {MAX_GROUPS} dimensions, not {len(query.by)}")
    amount = cost_column(query.cost)
    by = list(query.by)
    names = [*by, *query.filters, "team"]
    source: DailyCube | PreparedLines | None = daily_cube(ledger, attribution, query, amount, names)
    if source is not None:
        table = source.filtered(query.filters)
    else:
        source, table = prepared_lines(ledger, attribution, query, [amount], [*by, "team"])
    table = restrict_teams(table, teams)
    keys = {name: dimension_expression(table, name) for name in by}
    period = table["ChargePeriodStart"].truncate(GRAINS[grain])
    grouped = table.group_by(period=period, **keys).aggregate(cost=table[amount].sum())
    frame = source.fetch(grouped.order_by(["period", *by]))
    if isinstance(source, PreparedLines):
        build_later(ledger, attribution, query, amount, names)
    rows = []
    for record in frame:
        start = record["period"]
        rows.append(
            {
                "period": start.date()
                if isinstance(start, datetime)
                else date.fromisoformat(str(start)[:10]),
                **{name: record[name] for name in by},
                "cost": record["cost"] if record["cost"] is not None else Decimal(0),
            }
        )
    total = sum((r["cost"] for r in rows), Decimal(0))
    return TrendReport(grain=grain, by=tuple(by), total=total, rows=rows)
