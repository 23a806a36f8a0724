"""Reconciliation: what per-call telemetry priced against what the provider billed, and why they differ.

For one provider and month, per model and project, the telemetry-priced cost (gateway, OTLP and
event files; ``BilledCost`` of their rolled-up lines, i.e. the contracted price) is set against
the bill (the provider's cost export or FOCUS invoice lines, ``reconcile.precedence``). Only days
the bill covers are compared: a bill arrives a day or more late, and today's telemetry is not a
gap. Telemetry of uncovered days is reported as one total beside the lines.

Models are compared without their date suffix (``gpt-4o-mini-2024-07-18`` and ``gpt-4o-mini`` are
one model), since a gateway may log the requested alias and the bill the resolved version.

Each line's gap (billed - telemetry) gets one explanation, checked in this order:

- ``bypassed_gateway``: billed, but no telemetry at all for this model and project;
- ``unpriced_model``: telemetry has calls it could not price (``x_PricingFlag``), so it under-counts;
- ``matched``: no gap;
- ``rounding``: less than one cent;
- ``cache_pricing``: the gap lies in cache-read/write tokens (within a cent once they are removed);
- ``no_bill``: telemetry for a model and project the bill does not mention;
- ``unexplained``: anything else, to be looked into.

One Ibis expression, so it runs on DuckDB and PostgreSQL alike.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time
from decimal import Decimal
from typing import Any

import ibis.expr.types as ir

from comptroller.errors import QueryError
from comptroller.ledger.store import Ledger
from comptroller.reconcile.precedence import BILL, PER_CALL, record_rank

PROVIDERS = {"openai": "OpenAI", "anthropic": "Anthropic"}
CACHE_KINDS = ("cache_read", "cache_write")
ROUNDING = Decimal("0.01")
NONE = "(none)"
DATE_SUFFIX = r"-[0-9]{4}-?[0-9]{2}-?[0-9]{2}$"
EXPLANATIONS = (
    "bypassed_gateway",
    "unpriced_model",
    "matched",
    "rounding",
    "cache_pricing",
    "no_bill",
    "unexplained",
)


@dataclass(frozen=True, slots=True)
class ReconcileLine:
    model: str
    project: str
    telemetry_cost: Decimal
    billed_cost: Decimal
    cache_gap: Decimal
    unpriced_lines: int
    telemetry_lines: int
    explanation: str

    @property
    def gap(self) -> Decimal:
        return self.billed_cost - self.telemetry_cost


@dataclass(frozen=True, slots=True)
class ReconcileReport:
    provider: str
    month: date
    currency: str
    lines: list[ReconcileLine]
    billed_days: int
    telemetry_outside_bill: Decimal
    """Telemetry-priced cost on days the bill does not cover yet."""

    @property
    def telemetry_total(self) -> Decimal:
        return sum((line.telemetry_cost for line in self.lines), Decimal(0))

    @property
    def billed_total(self) -> Decimal:
        return sum((line.billed_cost for line in self.lines), Decimal(0))

    def gap_by_explanation(self) -> dict[str, Decimal]:
        out = dict.fromkeys(EXPLANATIONS, Decimal(0))
        for line in self.lines:
            out[line.explanation] += line.gap
        return {k: v for k, v in out.items() if v or any(line.explanation == k for line in self.lines)}

    def as_json(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "month": self.month.strftime("%Y-%m"),
            "currency": self.currency,
            "billed_days": self.billed_days,
            "telemetry_total": float(self.telemetry_total),
            "billed_total": float(self.billed_total),
            "gap": float(self.billed_total - self.telemetry_total),
            "telemetry_outside_bill": float(self.telemetry_outside_bill),
            "gap_by_explanation": {k: float(v) for k, v in self.gap_by_explanation().items()},
            "lines": [
                {
                    "model": line.model,
                    "project": line.project,
                    "telemetry_cost": float(line.telemetry_cost),
                    "billed_cost": float(line.billed_cost),
                    "gap": float(line.gap),
                    "cache_gap": float(line.cache_gap),
                    "unpriced_lines": line.unpriced_lines,
                    "explanation": line.explanation,
                }
                for line in self.lines
            ],
        }


def parse_month(text: str) -> date:
    try:
        return datetime.strptime(text, "%Y-%m").date()
    except ValueError:
        raise QueryError(f"month must be YYYY-MM, not {text!r}") from None


def _month_lines(ledger: Ledger, provider: str, month: date) -> ir.Table:
    if provider not in PROVIDERS:
        raise QueryError(f"provider must be one of {', '.join(PROVIDERS)}, not {provider!r}")
    following = date(month.year + month.month // 12, month.month % 12 + 1, 1)
    table = ledger.cost_lines()
    table = table.filter(
        table["ProviderName"].lower() == PROVIDERS[provider].lower(),
        table["ChargePeriodStart"] >= datetime.combine(month, time()),
        table["ChargePeriodStart"] < datetime.combine(following, time()),
    )
    table = table.mutate(_rank=record_rank(table), _day=table["ChargePeriodStart"].truncate("D"))
    return table.filter(table["_rank"].isin([BILL, PER_CALL]))


def reconcile(ledger: Ledger, provider: str, month: date) -> ReconcileReport:
    """Telemetry against the bill for ``provider`` in the calendar month of ``month``."""
    table = _month_lines(ledger, provider, month)
    billed_days = table.filter(table["_rank"] == BILL).select("_day").distinct()
    covered = table["_day"].isin(billed_days["_day"])
    model = table["x_Model"].re_replace(DATE_SUFFIX, "").fill_null(NONE)
    lines = table.mutate(
        _covered=covered,
        _model=model,
        _project=table["SubAccountId"].fill_null(NONE),
        _cache=table["x_TokenKind"].isin(CACHE_KINDS).fill_null(False),
        _bill=table["_rank"] == BILL,
    )
    compared = lines.filter(lines["_covered"])
    cost = compared["BilledCost"]
    telemetry = ~compared["_bill"]
    grouped = compared.group_by(["_model", "_project"]).aggregate(
        telemetry_cost=cost.sum(where=telemetry),
        billed_cost=cost.sum(where=compared["_bill"]),
        cache_telemetry=cost.sum(where=telemetry & compared["_cache"]),
        cache_billed=cost.sum(where=compared["_bill"] & compared["_cache"]),
        unpriced=compared.count(where=telemetry & compared["x_PricingFlag"].notnull()),
        telemetry_lines=compared.count(where=telemetry),
        billed_lines=compared.count(where=compared["_bill"]),
        currency=compared["BillingCurrency"].max(),
    )
    rows = grouped.order_by(["_model", "_project"]).to_pyarrow().to_pylist()
    outside = lines.filter(~lines["_covered"] & (lines["_rank"] == PER_CALL))["BilledCost"].sum()
    days = billed_days.count()
    return _report(provider, month, rows, outside, days)


def _decimal(value: Any) -> Decimal:
    return Decimal(0) if value is None else Decimal(value)


def explain(line: dict[str, Any]) -> str:
    telemetry, billed = _decimal(line["telemetry_cost"]), _decimal(line["billed_cost"])
    gap = billed - telemetry
    cache_gap = _decimal(line["cache_billed"]) - _decimal(line["cache_telemetry"])
    if not line["telemetry_lines"]:
        return "bypassed_gateway"
    if line["unpriced"]:
        return "unpriced_model"
    if gap == 0:
        return "matched"
    if abs(gap) < ROUNDING:
        return "rounding"
    if cache_gap and abs(gap - cache_gap) < ROUNDING:
        return "cache_pricing"
    if not line["billed_lines"]:
        return "no_bill"
    return "unexplained"


def _report(
    provider: str, month: date, rows: list[dict[str, Any]], outside: Any, days: Any
) -> ReconcileReport:
    lines = [
        ReconcileLine(
            model=r["_model"],
            project=r["_project"],
            telemetry_cost=_decimal(r["telemetry_cost"]),
            billed_cost=_decimal(r["billed_cost"]),
            cache_gap=_decimal(r["cache_billed"]) - _decimal(r["cache_telemetry"]),
            unpriced_lines=int(r["unpriced"]),
            telemetry_lines=int(r["telemetry_lines"]),
            explanation=explain(r),
        )
        for r in rows
    ]
    currencies = {r["currency"] for r in rows if r["currency"]}
    return ReconcileReport(
        provider=provider,
        month=month.replace(day=1),
        currency=currencies.pop() if len(currencies) == 1 else ("USD" if not currencies else "mixed"),
        lines=lines,
        billed_days=int(days.execute()),
        telemetry_outside_bill=_decimal(outside.execute()),
    )
