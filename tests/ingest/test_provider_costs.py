"""Provider cost pages (the bill) as FOCUS lines: recognised, idempotent, bad cells named."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest

from comptroller.errors import IngestError
from comptroller.ingest.provider_costs import ANTHROPIC_SOURCE, OPENAI_SOURCE, ingest_provider_costs
from comptroller.ingest.sources import detect_source
from tests.focus_fixtures import ledger_totals
from tests.reconcile.telemetry import ANTHROPIC_BILL, ANTHROPIC_BILL_TOTAL, OPENAI_BILL, OPENAI_BILL_TOTAL


def test_cost_pages_are_recognised():
    assert detect_source(OPENAI_BILL) == OPENAI_SOURCE
    assert detect_source(ANTHROPIC_BILL) == ANTHROPIC_SOURCE


def test_bills_become_focus_lines_once(ledger):
    for _ in range(2):
        ingest_provider_costs(ledger, [OPENAI_BILL], OPENAI_SOURCE)
        ingest_provider_costs(ledger, [ANTHROPIC_BILL], ANTHROPIC_SOURCE)
    count, billed, effective = ledger_totals(ledger)
    assert (count, billed, effective) == (17, OPENAI_BILL_TOTAL + ANTHROPIC_BILL_TOTAL, billed)
    rows = ledger.execute(
        'SELECT "x_Model", "x_TokenKind", "SubAccountId", "BilledCost", "x_CostLayer", "ChargePeriodStart" '
        "FROM cost_lines WHERE \"x_Source\" = 'anthropic_costs' AND \"x_TokenKind\" = 'cache_write'"
    )
    assert [r[:5] for r in rows] == [
        ("claude-sonnet-4-20250514", "cache_write", "wrkspc_support", Decimal("0.375"), "model_api")
    ]
    assert rows[0][5].isoformat() == "2025-03-01T00:00:00"


def test_bad_cells_are_named(tmp_path, ledger):
    page = json.loads(OPENAI_BILL.read_text())
    page["data"][0]["results"][1]["amount"] = {"value": "0.075", "currency": "usd"}
    page["data"][1]["results"][0]["amount"] = None
    bad = tmp_path / "costs.json"
    bad.write_text(json.dumps(page))
    with pytest.raises(IngestError) as caught:
        ingest_provider_costs(ledger, [bad], OPENAI_SOURCE)
    assert [str(p) for p in caught.value.problems] == [
        f"{bad}, row 2, column amount.value: '0.075' is not a number",
        f"{bad}, row 8, column amount: None is not an object with value and currency",
    ]
    report = json.loads(ANTHROPIC_BILL.read_text())
    report["data"][0]["results"][0]["amount"] = 12000
    report["data"][0]["results"][1]["token_type"] = "audio_tokens"
    bad.write_text(json.dumps(report))
    with pytest.raises(IngestError) as caught:
        ingest_provider_costs(ledger, [bad], ANTHROPIC_SOURCE)
    assert [str(p) for p in caught.value.problems] == [
        f"{bad}, row 1, column amount: 12000 is not a decimal string",
        f"{bad}, row 2, column token_type: unknown token_type 'audio_tokens'",
    ]
    assert ledger_totals(ledger)[0] == 0
