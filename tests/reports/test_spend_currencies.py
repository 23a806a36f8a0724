"""Spend never adds amounts in different currencies into one number without saying so."""

from __future__ import annotations

from decimal import Decimal

from comptroller.attribution.specs import Attribution
from comptroller.ingest.focus_ingest import ingest_focus
from comptroller.reports.spend import SpendQuery, spend
from tests.focus_fixtures import write_focus


def test_mixed_currencies_are_reported_per_currency(ledger, tmp_path):
    path = write_focus(
        tmp_path / "fx.csv",
        [
            {"cost": "10", "Tags": {"team": "search"}},
            {"cost": "7", "Tags": {"team": "search"}, "BillingCurrency": "EUR", "BillingAccountId": "eu"},
        ],
    )
    ingest_focus(ledger, [path])

    report = spend(ledger, Attribution(), SpendQuery(by=("team",)))

    assert report.currency == "mixed"
    assert sorted((r["team"], r["currency"], r["cost"]) for r in report.rows) == [
        ("search", "EUR", Decimal(7)),
        ("search", "USD", Decimal(10)),
    ]


def test_an_empty_ledger_reports_zero(ledger):
    report = spend(ledger, Attribution(), SpendQuery(by=("team",)))
    assert (report.total, report.rows) == (Decimal(0), [])
