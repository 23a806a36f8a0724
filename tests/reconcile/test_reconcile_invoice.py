"""A FOCUS invoice from the provider is a bill like its cost export."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from comptroller.ingest.focus_ingest import ingest_focus
from comptroller.reconcile.report import reconcile
from tests.focus_fixtures import write_focus
from tests.reconcile.telemetry import MINI, UNBILLED_DAY_TOTAL, load_month

MARCH = date(2025, 3, 1)


def test_a_focus_invoice_is_a_bill_too(ledger, tmp_path):
    load_month(ledger, bills=False)
    day = {
        "ProviderName": "OpenAI",
        "PublisherName": "OpenAI",
        "InvoiceIssuerName": "OpenAI",
        "ServiceProviderName": "OpenAI",
        "ServiceName": "OpenAI API",
        "BillingAccountId": "org-acme",
        "ChargePeriodStart": "2025-03-01T00:00:00Z",
        "ChargePeriodEnd": "2025-03-02T00:00:00Z",
        "BillingPeriodStart": "2025-03-01T00:00:00Z",
        "BillingPeriodEnd": "2025-04-01T00:00:00Z",
    }
    invoice = write_focus(
        tmp_path / "openai_focus.csv",
        [
            {**day, "cost": "0.33", "SubAccountId": "proj_search", "SkuPriceDetails": {"ModelId": MINI}},
            {
                **day,
                "cost": "0.42",
                "SubAccountId": "proj_lab",
                "SkuPriceDetails": {"ModelId": "acme-finetune-1"},
            },
        ],
    )
    ingest_focus(ledger, [invoice])

    report = reconcile(ledger, "openai", MARCH)
    assert {(x.model, x.project): (x.telemetry_cost, x.billed_cost, x.explanation) for x in report.lines} == {
        ("acme-finetune-1", "proj_lab"): (Decimal(0), Decimal("0.42"), "unpriced_model"),
        ("gpt-4o-mini", "proj_search"): (Decimal("0.33"), Decimal("0.33"), "matched"),
    }
    assert report.billed_days == 1
    assert report.telemetry_outside_bill == Decimal("0.585") + UNBILLED_DAY_TOTAL
