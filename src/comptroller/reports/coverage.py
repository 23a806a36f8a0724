"""Tag coverage and unowned spend: how much of the money has an answer to "whose is this?"."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal

import ibis

from comptroller.attribution.specs import Attribution
from comptroller.ledger.schema import BUSINESS_DIMENSIONS
from comptroller.ledger.store import Ledger
from comptroller.reports.dimensions import cost_column
from comptroller.reports.spend import SpendQuery, prepared_lines

COVERAGE_DIMENSIONS: tuple[str, ...] = tuple(d for d in BUSINESS_DIMENSIONS if d != "cost_layer")


@dataclass(frozen=True, slots=True)
class DimensionCoverage:
    dimension: str
    covered_cost: Decimal
    total_cost: Decimal
    covered_lines: int
    total_lines: int

    @property
    def cost_share(self) -> float:
        return float(self.covered_cost / self.total_cost) if self.total_cost else 1.0


def tag_coverage(
    ledger: Ledger,
    attribution: Attribution,
    *,
    start: date | None = None,
    end: date | None = None,
    cost: str = "effective",
    dimensions: tuple[str, ...] = COVERAGE_DIMENSIONS,
) -> list[DimensionCoverage]:
    """Share of spend and lines for which each dimension resolves (tag, telemetry or rule)."""
    amount = cost_column(cost)
    query = SpendQuery(start=start, end=end, cost=cost)
    prepared, table = prepared_lines(ledger, attribution, query, [amount], list(dimensions))
    metrics = {"_total": table[amount].sum(), "_lines": table.count()}
    for d in dimensions:
        has = table[d].notnull()
        metrics[f"{d}__cost"] = table[amount].sum(where=has)
        metrics[f"{d}__lines"] = has.sum()
    row = prepared.fetch(table.aggregate(**metrics))[0]
    total = row["_total"] or Decimal(0)
    return [
        DimensionCoverage(
            dimension=d,
            covered_cost=row[f"{d}__cost"] or Decimal(0),
            total_cost=total,
            covered_lines=int(row[f"{d}__lines"] or 0),
            total_lines=int(row["_lines"] or 0),
        )
        for d in dimensions
    ]


@dataclass(frozen=True, slots=True)
class UnownedSpend:
    group: dict[str, str | None]
    cost: Decimal
    lines: int


def unowned_spend(
    ledger: Ledger,
    attribution: Attribution,
    *,
    by: tuple[str, ...] = ("team", "ServiceName", "SubAccountName"),
    start: date | None = None,
    end: date | None = None,
    cost: str = "effective",
    limit: int = 50,
) -> list[UnownedSpend]:
    """Spend no owner resolves for, largest first: the queue someone works down."""
    amount = cost_column(cost)
    query = SpendQuery(start=start, end=end, cost=cost)
    prepared, table = prepared_lines(ledger, attribution, query, [amount], ["owner", *by])
    table = table.filter(table["owner"].isnull())
    grouped = table.group_by(list(by)).aggregate(cost=table[amount].sum(), lines=table.count())
    rows = prepared.fetch(grouped.order_by(ibis.desc("cost")).limit(limit))
    return [UnownedSpend({k: r[k] for k in by}, r["cost"] or Decimal(0), int(r["lines"])) for r in rows]
