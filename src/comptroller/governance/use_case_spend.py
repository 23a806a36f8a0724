"""Actual spend beside expected: the month-to-date spend of a use case's linked dimensions."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from comptroller.attribution.specs import Attribution
from comptroller.errors import ComptrollerError
from comptroller.governance.models import UseCase
from comptroller.governance.rbac import Principal
from comptroller.governance.scoping import scoped_spend
from comptroller.ledger.store import Ledger
from comptroller.reports.spend import SpendQuery


def use_case_spend(
    ledger: Ledger, attribution: Attribution, row: UseCase, principal: Principal, today: date
) -> dict[str, Any]:
    """Spend this calendar month up to ``today`` of the lines matching every linked dimension,
    within what ``principal`` may see. No dimensions linked: no actual spend to show (None)."""
    dimensions = dict((row.links or {}).get("dimensions") or {})
    month_start = today.replace(day=1)
    out: dict[str, Any] = {
        "month": month_start.strftime("%Y-%m"),
        "through": today.isoformat(),
        "dimensions": dimensions,
        "expected_monthly_cost": float(row.expected_monthly_cost),
        "actual_month_to_date": None,
        "currency": "USD",
    }
    if not dimensions:
        out["note"] = "link ledger dimensions (links.dimensions) to see actual spend"
        return out
    query = SpendQuery(start=month_start, end=today, filters=dimensions)
    try:
        report = scoped_spend(ledger, attribution, query, principal)
    except ComptrollerError as exc:
        out["error"] = exc.message
        return out
    out["actual_month_to_date"] = float(report.total)
    out["currency"] = report.currency
    if row.expected_monthly_cost:
        out["share_of_expected"] = round(float(report.total) / float(row.expected_monthly_cost), 4)
    return out


def month_to_date_actuals(
    ledger: Ledger, attribution: Attribution, rows: list[UseCase], principal: Principal, today: date
) -> dict[int, float | None]:
    """Every listed use case's month-to-date actual in one spend query: grouped by the union of
    their linked dimensions, then each use case sums the groups matching all of its own (None
    for a use case with no dimensions linked). One query instead of one per use case keeps the
    registry page fast however many use cases there are."""
    linked = {row.id: dict((row.links or {}).get("dimensions") or {}) for row in rows}
    by = tuple(sorted({name for dims in linked.values() for name in dims}))
    if not by:
        return dict.fromkeys(linked)
    report = scoped_spend(
        ledger, attribution, SpendQuery(by=by, start=today.replace(day=1), end=today), principal
    )
    actuals: dict[int, float | None] = {}
    for use_case_id, dims in linked.items():
        if not dims:
            actuals[use_case_id] = None
            continue
        matching = (r["cost"] for r in report.rows if all(r.get(k) == v for k, v in dims.items()))
        actuals[use_case_id] = float(sum(matching, Decimal(0)))
    return actuals
