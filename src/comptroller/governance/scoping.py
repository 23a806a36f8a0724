"""Team scoping of spend queries: a team owner sees only the spend of their own teams.

Every attributed cost line (or allocated share of one) carries at most one team, so the spend
of several teams is the sum of one filtered query per team; nothing is counted twice.
"""

from __future__ import annotations

from dataclasses import replace
from decimal import Decimal
from typing import Any

from comptroller.attribution.specs import Attribution
from comptroller.errors import ForbiddenError
from comptroller.governance.rbac import Principal
from comptroller.ledger.store import Ledger
from comptroller.reports.spend import SpendQuery, SpendReport, spend

TEAM = "team"


def team_filter_sets(principal: Principal, filters: dict[str, str]) -> list[dict[str, str]]:
    """The filter sets whose union is what ``principal`` may see of ``filters``: the filters
    themselves when unrestricted, else one set per own team. Asking for another team is 403."""
    scope = principal.team_scope
    if scope is None:
        return [filters]
    if TEAM in filters:
        if filters[TEAM] not in scope:
            raise ForbiddenError(f"filter team={filters[TEAM]!r}: you may see only the teams {sorted(scope)}")
        return [filters]
    return [{**filters, TEAM: team} for team in sorted(scope)]


def scoped_spend(
    ledger: Ledger, attribution: Attribution, query: SpendQuery, principal: Principal
) -> SpendReport:
    """``spend`` limited to the principal's teams, rows of equal dimensions summed."""
    sets = team_filter_sets(principal, query.filters)
    if len(sets) == 1:
        return spend(ledger, attribution, replace(query, filters=sets[0]))
    if not sets:
        return SpendReport(currency="USD", total=Decimal(0), by=query.by, rows=[])
    reports = [spend(ledger, attribution, replace(query, filters=f)) for f in sets]
    merged: dict[tuple[Any, ...], dict[str, Any]] = {}
    currencies: set[str] = set()
    for report in reports:
        if report.rows:
            currencies.add(report.currency)
        for row in report.rows:
            key = tuple(row.get(k) for k in (*report.by, "currency"))
            if key in merged:
                merged[key]["cost"] += row["cost"]
            else:
                merged[key] = dict(row)
    rows = sorted(merged.values(), key=lambda r: r["cost"], reverse=True)
    total = sum((r["cost"] for r in rows), Decimal(0))
    currency = "mixed" if len(currencies) > 1 else (currencies.pop() if currencies else "USD")
    return SpendReport(currency=currency, total=total, by=reports[0].by, rows=rows)
