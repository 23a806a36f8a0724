"""A small ledger to attribute: five lines whose costs double from one to the next, each with its own
ResourceId, so the set of lines a rule matches shows up unambiguously in a per-resource report."""

from __future__ import annotations

from comptroller.attribution.specs import Attribution
from comptroller.reports.spend import SpendQuery, spend

LINES = [
    {"ResourceId": "r1", "cost": "10", "SubAccountName": "Atlas", "Tags": {"team": "search", "env": "prod"}},
    {"ResourceId": "r2", "cost": "20", "SubAccountName": "Atlas", "Tags": None},
    {"ResourceId": "r3", "cost": "40", "SubAccountName": "Orion", "Tags": {"env": "dev"}},
    {
        "ResourceId": "r4",
        "cost": "80",
        "SubAccountName": "Shared",
        "ServiceName": "Vector DB",
        "Tags": {"pool": "platform"},
    },
    {"ResourceId": "r5", "cost": "160", "SubAccountName": "atlas-labs", "Tags": None},
]
RESOURCES = [line["ResourceId"] for line in LINES]


def values_by_resource(ledger, attribution: Attribution, dimension: str = "team") -> dict[str, str | None]:
    """ResourceId -> the dimension's resolved value, through the spend report."""
    report = spend(ledger, attribution, SpendQuery(by=("ResourceId", dimension)))
    assert len(report.rows) == len(RESOURCES)
    return {row["ResourceId"]: row[dimension] for row in report.rows}
