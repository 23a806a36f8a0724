"""The overview page's numbers from one query: a daily cube of the attributed ledger over the
current month and the two before it, reduced in Python to month-over-month totals, cost layers,
the trend, top values and coverage. One pass over the lines instead of a dozen."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from comptroller.attribution.specs import Attribution
from comptroller.ledger.schema import COST_LAYERS
from comptroller.ledger.store import Ledger
from comptroller.reports.spend import SpendQuery, prepared_lines
from comptroller.reports.trend import restrict_teams

CUBE_DIMENSIONS: tuple[str, ...] = ("cost_layer", "team", "model", "agent", "vendor", "owner")
TOP_DIMENSIONS: tuple[str, ...] = ("team", "model", "agent", "vendor")
TOP_N = 6
ZERO = Decimal(0)


def month_start(day: date, months_back: int = 0) -> date:
    index = day.year * 12 + day.month - 1 - months_back
    return date(index // 12, index % 12 + 1, 1)


def days_in_month(day: date) -> int:
    return (month_start(day, -1) - month_start(day)).days


@dataclass(frozen=True, slots=True)
class Overview:
    today: date
    this_month: Decimal
    last_month: Decimal
    last_month_to_date: Decimal
    run_rate: Decimal
    """This month's spend so far, extended linearly to the month's last day."""
    layers: list[dict[str, Any]]
    trend: list[dict[str, Any]]
    top: dict[str, list[dict[str, Any]]]
    coverage: dict[str, float]
    unowned: Decimal

    def as_json(self) -> dict[str, Any]:
        def num(value: Decimal) -> float:
            return float(value)

        return {
            "today": self.today.isoformat(),
            "month_start": month_start(self.today).isoformat(),
            "last_month_start": month_start(self.today, 1).isoformat(),
            "this_month": num(self.this_month),
            "last_month": num(self.last_month),
            "last_month_to_date": num(self.last_month_to_date),
            "run_rate": num(self.run_rate),
            "layers": [{**r, "this": num(r["this"]), "last": num(r["last"])} for r in self.layers],
            "trend": [{**r, "period": r["period"].isoformat(), "cost": num(r["cost"])} for r in self.trend],
            "top": {k: [{**r, "cost": num(r["cost"])} for r in rows] for k, rows in self.top.items()},
            "coverage": self.coverage,
            "unowned": num(self.unowned),
        }


def _cube(
    ledger: Ledger, attribution: Attribution, start: date, end: date, teams: Collection[str] | None
) -> list[dict[str, Any]]:
    prepared, table = prepared_lines(
        ledger, attribution, SpendQuery(start=start, end=end), ["EffectiveCost"], list(CUBE_DIMENSIONS)
    )
    table = restrict_teams(table, teams)
    day = table["ChargePeriodStart"].truncate("D")
    grouped = table.group_by(day=day, **{d: table[d] for d in CUBE_DIMENSIONS}).aggregate(
        cost=table["EffectiveCost"].sum()
    )
    rows = prepared.fetch(grouped)
    for row in rows:
        value = row["day"]
        row["day"] = value.date() if isinstance(value, datetime) else value
        row["cost"] = row["cost"] or ZERO
    return rows


def overview(
    ledger: Ledger, attribution: Attribution, today: date, *, teams: Collection[str] | None = None
) -> Overview:
    """Effective spend this month (to ``today``) against last month, and what it is made of."""
    this_start, last_start = month_start(today), month_start(today, 1)
    same_day_last_month = last_start.replace(day=min(today.day, days_in_month(last_start)))
    cube = _cube(ledger, attribution, month_start(today, 2), today, teams)
    this_rows = [r for r in cube if r["day"] >= this_start]
    this_total = sum((r["cost"] for r in this_rows), ZERO)
    last_total = sum((r["cost"] for r in cube if last_start <= r["day"] < this_start), ZERO)
    last_to_date = sum((r["cost"] for r in cube if last_start <= r["day"] <= same_day_last_month), ZERO)

    layers: dict[str, dict[str, Decimal]] = {layer: {"this": ZERO, "last": ZERO} for layer in COST_LAYERS}
    trend: dict[tuple[date, str], Decimal] = defaultdict(Decimal)
    for r in cube:
        layer = r["cost_layer"] or "unclassified"
        bucket = layers.setdefault(layer, {"this": ZERO, "last": ZERO})
        if r["day"] >= this_start:
            bucket["this"] += r["cost"]
        elif r["day"] >= last_start:
            bucket["last"] += r["cost"]
        trend[(r["day"], layer)] += r["cost"]

    top: dict[str, list[dict[str, Any]]] = {}
    for dim in TOP_DIMENSIONS:
        sums: dict[str | None, Decimal] = defaultdict(Decimal)
        for r in this_rows:
            sums[r[dim]] += r["cost"]
        ranked = sorted(sums.items(), key=lambda kv: -kv[1])[:TOP_N]
        top[dim] = [{"value": value, "cost": cost} for value, cost in ranked]

    coverage = {
        dim: float(sum((r["cost"] for r in this_rows if r[dim] is not None), ZERO) / this_total)
        if this_total
        else 1.0
        for dim in CUBE_DIMENSIONS
    }
    elapsed = (today - this_start).days + 1
    return Overview(
        today=today,
        this_month=this_total,
        last_month=last_total,
        last_month_to_date=last_to_date,
        run_rate=this_total / elapsed * days_in_month(today),
        layers=[{"cost_layer": k, **v} for k, v in layers.items()],
        trend=[{"period": d, "cost_layer": layer, "cost": c} for (d, layer), c in sorted(trend.items())],
        top=top,
        coverage=coverage,
        unowned=sum((r["cost"] for r in this_rows if r["owner"] is None), ZERO),
    )
