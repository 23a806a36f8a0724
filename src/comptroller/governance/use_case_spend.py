"""Actual spend beside expected: the month-to-date spend of a use case's linked dimensions."""

from __future__ import annotations

from datetime import date
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
