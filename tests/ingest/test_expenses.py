"""Expense and card exports: AI vendors become FOCUS purchase lines, everything else is ignored."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from comptroller.cli.main import app
from comptroller.errors import IngestError
from comptroller.focus_validation import validate_table
from comptroller.ingest.ai_vendors import CATEGORIES, catalog, match_vendor
from comptroller.ingest.expenses import ingest_expenses
from comptroller.ingest.sources import detect_source
from comptroller.ledger.schema import FOCUS_1_2_COLUMNS

FIXTURES = Path(__file__).parent / "fixtures" / "expenses"
CARD = FIXTURES / "card_export.csv"
REPORT = FIXTURES / "expense_report.csv"

# (merchant, ChargeCategory, BilledCost, currency, ProviderName, ServiceName) of the AI rows.
EXPECTED_CARD = sorted(
    [
        ("OPENAI *CHATGPT SUBSCR", "Purchase", Decimal("20"), "USD", "OpenAI", "ChatGPT"),
        ("ANTHROPIC", "Purchase", Decimal("112.5"), "USD", "Anthropic", "Anthropic API"),
        ("CLAUDE.AI SUBSCRIPTION", "Purchase", Decimal("18"), "GBP", "Anthropic", "Claude"),
        ("COHERE TECHNOLOGIES", "Purchase", Decimal("300"), "USD", "Cohere", "Cohere"),
        ("GITHUB COPILOT PRO", "Purchase", Decimal("10"), "USD", "GitHub", "GitHub Copilot"),
        ("MIDJOURNEY INC.", "Purchase", Decimal("30"), "USD", "Midjourney", "Midjourney"),
        ("OPENAI *CHATGPT SUBSCR", "Credit", Decimal("-20"), "USD", "OpenAI", "ChatGPT"),
        ("GOOGLE *Google One", "Purchase", Decimal("19.99"), "USD", "Google", "Gemini"),
        ("PERPLEXITY AI", "Purchase", Decimal("1020"), "EUR", "Perplexity", "Perplexity"),
    ]
)
LOOK_ALIKES = {"OPENAIRE FOUNDATION", "Coherent Systems Ltd", "JASPER'S GRILL", "GEMINI TRUST CO"}
CARD_VENDORS = {"OpenAI", "Anthropic", "Cohere", "GitHub", "Midjourney", "Google", "Perplexity"}


def stored(ledger) -> list[dict]:
    table = ledger.cost_lines().filter(lambda t: t.x_Source == "expenses").to_pyarrow()
    return table.to_pylist()


def key(row: dict) -> tuple:
    return (
        row["x_Merchant"],
        row["ChargeCategory"],
        Decimal(str(row["BilledCost"])).normalize(),
        row["BillingCurrency"],
        row["ProviderName"],
        row["ServiceName"],
    )


@pytest.mark.parametrize(
    ("merchant", "description", "product"),
    [
        ("OPENAI *CHATGPT SUBSCR", None, "ChatGPT"),
        ("OpenAI", None, "OpenAI API"),
        ("ANTHROPIC", None, "Anthropic API"),
        ("CLAUDE.AI SUBSCRIPTION", None, "Claude"),
        ("GOOGLE *Google One", "Google One AI Premium", "Gemini"),
        ("Stripe", "paid via huggingface.co", "Hugging Face"),
        ("GITHUB COPILOT PRO", None, "GitHub Copilot"),
        ("OPENAIRE", None, None),
        ("Coherent Systems", None, None),
        ("JASPER'S GRILL", "team lunch", None),
        ("GEMINI TRUST CO", None, None),
        ("Runway Airport Parking", None, None),
        ("Lambda Legal Defense", None, None),
        ("GITHUB, INC.", None, None),
    ],
)
def test_match_vendor_whole_words_only(merchant, description, product):
    match = match_vendor(merchant, description)
    assert (match.product if match else None) == product


def test_catalog_is_complete_and_ships_as_package_data():
    vendors = catalog()
    assert len({v.name for v in vendors}) >= 30
    assert {v.category for v in vendors} <= set(CATEGORIES)
    assert all(v.aliases or v.domains for v in vendors)


def test_ai_rows_become_purchases_and_refunds_credits(ledger):
    result = ingest_expenses(ledger, [CARD])
    assert (result.ai_rows, result.ignored_rows) == (9, 6)
    assert result.delivery is not None and result.delivery.rows == 9
    rows = stored(ledger)
    assert sorted(key(r) for r in rows) == EXPECTED_CARD
    assert not LOOK_ALIKES & {r["x_Merchant"] for r in rows}
    assert set(result.vendors) == CARD_VENDORS


def test_lines_carry_period_attribution_and_shadow_flag(ledger):
    ingest_expenses(ledger, [CARD])
    claude = next(r for r in stored(ledger) if r["x_Merchant"] == "CLAUDE.AI SUBSCRIPTION")
    assert str(claude["BillingPeriodStart"])[:10] == "2025-03-01"
    assert str(claude["BillingPeriodEnd"])[:10] == "2025-04-01"
    assert str(claude["ChargePeriodStart"])[:10] == "2025-03-07"
    assert str(claude["ChargePeriodEnd"])[:10] == "2025-03-08"
    assert claude["BillingAccountId"] == "expenses"
    assert claude["ChargeFrequency"] == "One-Time"
    assert claude["ServiceCategory"] == "AI and Machine Learning"
    assert claude["ServiceSubcategory"] == "Generative AI"
    assert claude["PublisherName"] == claude["InvoiceIssuerName"] == "Anthropic"
    costs = {Decimal(str(claude[c])) for c in ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost")}
    assert costs == {Decimal(18)}
    tags = claude["Tags"] if isinstance(claude["Tags"], dict) else json.loads(claude["Tags"])
    assert tags["employee"] == "carol@example.com" and tags["cost_centre"] == "Marketing"
    assert (claude["x_Employee"], claude["x_CostCentre"]) == ("carol@example.com", "Marketing")
    assert claude["x_ShadowCandidate"] == "true"


def test_column_aliases_and_description_matches(ledger):
    result = ingest_expenses(ledger, [REPORT])
    assert (result.ai_rows, result.ignored_rows) == (2, 1)
    rows = {r["ProviderName"]: r for r in stored(ledger)}
    assert set(rows) == {"Hugging Face", "ElevenLabs"}
    assert rows["ElevenLabs"]["x_ExpenseDescription"] == "Paid to elevenlabs.io via reseller"
    assert rows["Hugging Face"]["x_CostCentre"] == "Data"


def test_reingest_is_idempotent(ledger):
    ingest_expenses(ledger, [CARD, REPORT])
    first = sorted(key(r) for r in stored(ledger))
    again = ingest_expenses(ledger, [CARD, REPORT])
    assert again.delivery is not None and again.delivery.replaced_rows == len(first)
    assert sorted(key(r) for r in stored(ledger)) == first


def test_no_ai_rows_writes_nothing(ledger, tmp_path):
    plain = tmp_path / "plain.csv"
    plain.write_text("date,merchant,amount,currency\n2025-03-01,STARBUCKS,4.50,USD\n")
    result = ingest_expenses(ledger, [plain])
    assert (result.delivery, result.ai_rows, result.ignored_rows) == (None, 0, 1)
    assert stored(ledger) == []


@pytest.mark.parametrize(
    ("old", "new", "row", "column", "words"),
    [
        ("ANTHROPIC,112.50", "ANTHROPIC,11x.50", 4, "Amount", "amount"),
        (
            "2025-03-12,2025-03-13,STARBUCKS",
            "03/12/2025,2025-03-13,STARBUCKS",
            8,
            "Transaction Date",
            "ISO 8601",
        ),
        ("30.00,USD,Design", "30.00,US Dollars,Design", 11, "Currency", "ISO 4217"),
        ("2025-03-15,2025-03-16,GITHUB COPILOT PRO,", "2025-03-15,2025-03-16,,", 9, "Merchant", "empty"),
    ],
)
def test_bad_cells_are_rejected_and_change_nothing(ledger, tmp_path, old, new, row, column, words):
    ingest_expenses(ledger, [REPORT])
    before = sorted(key(r) for r in stored(ledger))
    bad = tmp_path / "bad.csv"
    text = CARD.read_text()
    assert old in text
    bad.write_text(text.replace(old, new, 1))
    with pytest.raises(IngestError) as caught:
        ingest_expenses(ledger, [bad, REPORT])
    [problem] = caught.value.problems
    assert (problem.file, problem.row, problem.column) == (str(bad), row, column)
    assert words in problem.message
    assert sorted(key(r) for r in stored(ledger)) == before


def test_missing_columns_are_named(ledger, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("when,what,currency\n2025-03-01,OPENAI,USD\n")
    with pytest.raises(IngestError) as caught:
        ingest_expenses(ledger, [bad])
    assert [p.column for p in caught.value.problems] == ["date", "merchant", "amount"]
    no_currency = tmp_path / "no_currency.csv"
    no_currency.write_text("date,merchant,amount\n2025-03-01,OPENAI,5\n")
    with pytest.raises(IngestError) as caught:
        ingest_expenses(ledger, [no_currency])
    assert [p.column for p in caught.value.problems] == ["currency"]
    assert ingest_expenses(ledger, [no_currency], default_currency="USD").ai_rows == 1


def test_stored_lines_conform_to_focus_1_2(ledger):
    ingest_expenses(ledger, [CARD, REPORT])
    table = ledger.cost_lines().filter(lambda t: t.x_Source == "expenses").to_pyarrow()
    report = validate_table(table.select([c.name for c in FOCUS_1_2_COLUMNS]))
    assert report.ok, report.summary()
    assert {v.rule_id.rsplit("/", 1)[1] for v in report.warnings} <= {"datetime-format"}


def test_detection_recognises_expense_exports(tmp_path):
    assert detect_source(CARD) == "expenses"
    assert detect_source(REPORT) == "expenses"
    focus_like = tmp_path / "focus_like.csv"
    focus_like.write_text("date,merchant,amount,BilledCost,ChargePeriodStart\n2025-03-01,X,1,1,2025-03-01\n")
    assert detect_source(focus_like) == "focus"


runner = CliRunner()


def test_cli_detects_and_ingests_expenses_once(home):
    rates = home / "rates.csv"
    rates.write_text("date,currency,rate_to_usd\n2025-03-01,EUR,1.08\n2025-03-01,GBP,1.26\n")
    assert runner.invoke(app, ["fx", "load", str(rates)]).exit_code == 0
    first = runner.invoke(app, ["ingest", str(CARD)], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "9 AI expense line(s)" in first.stdout and "6 other row(s) ignored" in first.stdout
    assert "ingested 9 cost lines" in first.stdout
    spend = json.loads(runner.invoke(app, ["spend", "--by", "ServiceName", "--json"]).stdout)
    again = runner.invoke(app, ["ingest", str(CARD)], catch_exceptions=False)
    assert again.exit_code == 0, again.output
    assert "replaced 9 earlier lines" in again.stdout
    assert json.loads(runner.invoke(app, ["spend", "--by", "ServiceName", "--json"]).stdout) == spend


def test_cli_rejects_bad_expenses_and_names_the_cell(home, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(CARD.read_text().replace("ANTHROPIC,112.50", "ANTHROPIC,lots", 1))
    result = runner.invoke(app, ["ingest", str(bad)])
    assert result.exit_code == 2
    assert "row 4" in result.stderr and "Amount" in result.stderr
