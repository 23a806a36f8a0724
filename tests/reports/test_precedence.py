"""The same model-API spend never counts twice: the bill sets the amount, telemetry the shares."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pyarrow.compute as pc

from comptroller.attribution.specs import Attribution
from comptroller.export.focus_export import export_focus
from comptroller.focus_validation import read_focus_file, validate_file
from comptroller.ingest.focus_ingest import ingest_focus
from comptroller.ingest.sources import read_usage_export
from comptroller.ingest.usage_events import ingest_usage_events
from comptroller.pricing import Pricer
from comptroller.reports.spend import SpendQuery, spend
from tests.focus_fixtures import write_focus
from tests.reconcile.telemetry import (
    ANTHROPIC_BILL_TOTAL,
    OPENAI_BILL_TOTAL,
    UNBILLED_DAY_TOTAL,
    load_month,
    telemetry_events,
)

CENT = Decimal("0.000001")
USAGE_EXPORT = Path(__file__).parents[1] / "ingest" / "fixtures" / "openai_usage_page1.json"
MARCH = {"start": date(2025, 3, 1), "end": date(2025, 3, 31)}


def by(ledger, *dims: str, **filters: str) -> dict:
    report = spend(ledger, Attribution(), SpendQuery(by=dims, filters=filters, **MARCH))
    return {tuple(r[d] for d in dims): r["cost"] for r in report.rows}


def close(a: Decimal, b: Decimal) -> bool:
    return abs(a - b) < CENT


def test_spend_equals_the_bill_not_the_sum_and_teams_keep_telemetry_shares(ledger):
    load_month(ledger)

    providers = by(ledger, "ProviderName")
    assert close(providers[("OpenAI",)], OPENAI_BILL_TOTAL + UNBILLED_DAY_TOTAL)
    assert close(providers[("Anthropic",)], ANTHROPIC_BILL_TOTAL)

    day1 = spend(
        ledger, Attribution(), SpendQuery(by=("team",), start=date(2025, 3, 1), end=date(2025, 3, 1))
    )
    teams = {r["team"]: r["cost"] for r in day1.rows}
    # Day 1 OpenAI bill 4.31 split by telemetry's 0.225 : 0.105 (the unpriced lab calls price to 0).
    assert close(teams["search"], Decimal("4.31") * Decimal("0.225") / Decimal("0.33"))
    assert close(teams["growth"], Decimal("4.31") * Decimal("0.105") / Decimal("0.33"))
    assert close(teams["support"], ANTHROPIC_BILL_TOTAL)
    assert close(day1.total, Decimal("4.31") + ANTHROPIC_BILL_TOTAL)
    assert close(teams.get("lab", Decimal(0)), Decimal(0))


def test_each_record_alone_counts_as_it_is(ledger):
    load_month(ledger, telemetry=False)
    assert close(by(ledger, "ProviderName")[("OpenAI",)], OPENAI_BILL_TOTAL)


def test_telemetry_alone_counts_at_its_own_price(ledger):
    load_month(ledger, bills=False)
    assert close(
        by(ledger, "ProviderName")[("OpenAI",)], Decimal("0.33") + Decimal("0.585") + UNBILLED_DAY_TOTAL
    )


def test_other_spend_is_untouched_and_billed_cost_follows_the_same_rule(ledger, tmp_path):
    load_month(ledger)
    ingest_focus(
        ledger,
        [
            write_focus(
                tmp_path / "aws.csv",
                [
                    {
                        "cost": "7",
                        "ProviderName": "AWS",
                        "PublisherName": "AWS",
                        "InvoiceIssuerName": "AWS",
                        "ServiceProviderName": "AWS",
                        "ServiceCategory": "Compute",
                        "ServiceName": "Amazon EC2",
                        "PricingUnit": "Hours",
                        "ChargePeriodStart": "2025-03-01T00:00:00Z",
                        "ChargePeriodEnd": "2025-03-02T00:00:00Z",
                        "BillingPeriodStart": "2025-03-01T00:00:00Z",
                        "BillingPeriodEnd": "2025-04-01T00:00:00Z",
                    }
                ],
            )
        ],
    )
    billed = spend(ledger, Attribution(), SpendQuery(cost="billed", **MARCH))
    assert close(billed.total, Decimal(7) + OPENAI_BILL_TOTAL + UNBILLED_DAY_TOTAL + ANTHROPIC_BILL_TOTAL)


def test_a_provider_usage_export_outranks_per_call_telemetry(ledger):
    day = SpendQuery(start=date(2025, 3, 1), end=date(2025, 3, 1))
    export = read_usage_export(USAGE_EXPORT, "openai_usage")
    ingest_usage_events(ledger, export, Pricer(), replace=True)
    export_total = spend(ledger, Attribution(), day).total
    calls = telemetry_events()
    ingest_usage_events(ledger, calls.filter(pc.equal(calls["provider"], "openai")), Pricer())

    both = spend(
        ledger, Attribution(), SpendQuery(by=("x_UsageSource", "team"), start=day.start, end=day.end)
    )
    assert close(both.total, export_total)
    assert {r["x_UsageSource"] for r in both.rows} == {"gateway"}
    assert {r["team"] for r in both.rows} >= {"search", "growth"}


def test_the_export_counts_once_and_still_validates(ledger, tmp_path):
    load_month(ledger)
    out = export_focus(ledger, Attribution(), tmp_path / "focus.parquet", "parquet").path
    report = validate_file(out, "1.2")
    assert report.ok, report.summary()
    exported = read_focus_file(out)
    total = sum((Decimal(str(v)) for v in exported["BilledCost"].to_pylist()), Decimal(0))
    assert abs(total - (OPENAI_BILL_TOTAL + UNBILLED_DAY_TOTAL + ANTHROPIC_BILL_TOTAL)) < Decimal("0.0001")
