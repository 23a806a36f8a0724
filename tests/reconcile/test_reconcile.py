"""``reconcile``: telemetry against the provider's bill, per model and project, each gap explained."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal

import pytest
from typer.testing import CliRunner

from comptroller.cli.main import app
from comptroller.context import Context
from comptroller.errors import QueryError
from comptroller.ingest.usage_events import ingest_usage_events
from comptroller.pricing import Pricer
from comptroller.reconcile.report import parse_month, reconcile
from tests.reconcile.telemetry import (
    ANTHROPIC_BILL,
    OPENAI_BILL,
    UNBILLED_DAY_TOTAL,
    load_month,
    telemetry_events,
)

MARCH = date(2025, 3, 1)


def lines(report) -> dict[tuple[str, str], tuple[Decimal, Decimal, str]]:
    return {(x.model, x.project): (x.telemetry_cost, x.billed_cost, x.explanation) for x in report.lines}


@pytest.fixture(scope="module")
def month(module_ledger):
    load_month(module_ledger)
    return module_ledger


def test_openai_gaps_are_explained_per_model_and_project(month):
    report = reconcile(month, "openai", MARCH)

    assert lines(report) == {
        ("acme-finetune-1", "proj_lab"): (Decimal(0), Decimal("0.42"), "unpriced_model"),
        ("gpt-4o", "proj_legacy"): (Decimal(0), Decimal("3.5"), "bypassed_gateway"),
        ("gpt-4o-mini", "proj_growth"): (Decimal("0.105"), Decimal("0.1053"), "rounding"),
        ("gpt-4o-mini", "proj_search"): (Decimal("0.81"), Decimal("0.87"), "cache_pricing"),
    }
    search = next(x for x in report.lines if x.project == "proj_search")
    assert search.cache_gap == Decimal("0.06")
    assert report.billed_days == 2
    assert report.telemetry_outside_bill == UNBILLED_DAY_TOTAL
    assert report.gap_by_explanation()["bypassed_gateway"] == Decimal("3.5")


def test_anthropic_matches_where_both_exist(month):
    report = reconcile(month, "anthropic", MARCH)
    assert lines(report) == {
        ("claude-3-5-haiku", "wrkspc_batch"): (Decimal(0), Decimal("0.24"), "bypassed_gateway"),
        ("claude-sonnet-4", "wrkspc_support"): (Decimal("2.625"), Decimal("2.625"), "matched"),
    }
    assert report.currency == "USD"


def test_bad_arguments_are_query_errors(month):
    with pytest.raises(QueryError, match="provider must be one of openai, anthropic"):
        reconcile(month, "azure", MARCH)
    with pytest.raises(QueryError, match="month must be YYYY-MM"):
        parse_month("2025-3-1")


def test_cli_ingests_the_bills_and_reconciles(home):
    runner = CliRunner()
    with Context() as ctx:
        ingest_usage_events(ctx.ledger, telemetry_events(), Pricer())
    ingested = runner.invoke(app, ["ingest", str(OPENAI_BILL), str(ANTHROPIC_BILL)])
    assert ingested.exit_code == 0, ingested.output
    assert "openai_costs" in ingested.output and "anthropic_costs" in ingested.output

    result = runner.invoke(app, ["reconcile", "--provider", "openai", "--month", "2025-03", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["billed_total"] == pytest.approx(4.8953)
    assert {x["explanation"] for x in data["lines"]} == {
        "unpriced_model",
        "bypassed_gateway",
        "rounding",
        "cache_pricing",
    }
    table = runner.invoke(app, ["reconcile", "--provider", "anthropic", "--month", "2025-03"])
    assert table.exit_code == 0 and "bypassed_gateway" in table.output
    bad = runner.invoke(app, ["reconcile", "--provider", "openai", "--month", "March"])
    assert bad.exit_code == 2 and "month must be YYYY-MM" in bad.output
