"""The cost lines under a number: one page of attributed lines behind any spend figure.

This is the only report that returns lines rather than aggregates, so it always pages: the
count and the sum come from one aggregate, the rows from a sorted, limited query.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

import ibis

from comptroller.attribution.specs import Attribution
from comptroller.errors import QueryError
from comptroller.ledger.store import Ledger
from comptroller.reports.dimensions import cost_column
from comptroller.reports.spend import SpendQuery, prepared_lines
from comptroller.reports.trend import restrict_teams

LINE_COLUMNS: tuple[str, ...] = (
    "ChargePeriodStart",
    "ServiceName",
    "SubAccountName",
    "ResourceName",
    "ChargeDescription",
    "ChargeCategory",
    "x_Source",
    "AllocatedMethodId",
)
"""Ledger columns shown for each line, besides the business dimensions and the cost."""

LINE_DIMENSIONS: tuple[str, ...] = ("cost_layer", "team", "product", "model", "vendor", "agent", "owner")
MAX_PAGE = 500


@dataclass(frozen=True, slots=True)
class CostLinePage:
    total_lines: int
    total_cost: Decimal
    offset: int
    rows: list[dict[str, Any]]

    def as_json(self) -> dict[str, Any]:
        return {
            "total_lines": self.total_lines,
            "total_cost": float(self.total_cost),
            "offset": self.offset,
            "rows": [_jsonable(r) for r in self.rows],
        }


def _jsonable(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, Decimal):
            out[key] = float(value)
        elif isinstance(value, datetime):
            out[key] = value.isoformat()
        else:
            out[key] = value
    return out


def cost_lines(
    ledger: Ledger,
    attribution: Attribution,
    query: SpendQuery,
    *,
    limit: int = 50,
    offset: int = 0,
    teams: Collection[str] | None = None,
) -> CostLinePage:
    """Lines matching ``query``'s period and filters, largest cost first, ``limit`` from ``offset``."""
    if not 1 <= limit <= MAX_PAGE:
        raise QueryError(f"limit must be between 1 and {MAX_PAGE}, not {limit}")
    if offset < 0:
        raise QueryError(f"offset must not be negative, not {offset}")
    amount = cost_column(query.cost)
    prepared, table = prepared_lines(ledger, attribution, query, [amount], list(LINE_DIMENSIONS))
    table = restrict_teams(table, teams)
    summary = prepared.fetch(table.aggregate(lines=table.count(), cost=table[amount].sum()))[0]
    shown = [c for c in LINE_COLUMNS if c in prepared.table.columns]
    page = (
        table.select(*shown, *LINE_DIMENSIONS, cost=table[amount], currency=table["BillingCurrency"])
        .order_by([ibis.desc("cost"), "ChargePeriodStart", "ServiceName"])
        .limit(limit, offset=offset)
    )
    return CostLinePage(
        total_lines=int(summary["lines"] or 0),
        total_cost=summary["cost"] or Decimal(0),
        offset=offset,
        rows=prepared.fetch(page),
    )
