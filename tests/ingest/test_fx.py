"""Costs billed in other currencies: converted at ingest with the charge day's rate, originals kept."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from typer.testing import CliRunner

from comptroller.attribution.specs import Attribution
from comptroller.cli.main import app
from comptroller.context import Context
from comptroller.errors import IngestError
from comptroller.export.focus_export import export_focus
from comptroller.focus_validation import validate_file
from comptroller.ingest.aws_cur import ingest_aws_cur
from comptroller.ingest.currency import CurrencyConversion
from comptroller.ingest.expenses import ingest_expenses
from comptroller.ingest.focus_ingest import ingest_focus
from comptroller.ingest.fx_rates import Rate, RateBook, list_rates, read_rates_csv, store_rates
from comptroller.ingest.seats import ingest_seats
from comptroller.reports.spend import SpendQuery, spend
from tests.focus_fixtures import ledger_totals, write_focus

FIXTURES = Path(__file__).parent / "fixtures"
RATES = "date,currency,rate_to_usd\n2025-01-09,EUR,1.03\n2025-01-10,EUR,1.04\n2025-01-08,GBP,1.25\n"


def book(*rates: tuple[str, str, str]) -> RateBook:
    return RateBook([Rate(date.fromisoformat(d), c, "USD", Decimal(r)) for d, c, r in rates])


EUR_GBP = book(
    ("2025-01-09", "EUR", "1.03"),
    ("2025-01-10", "EUR", "1.04"),
    ("2025-01-08", "GBP", "1.25"),
    ("2025-03-01", "EUR", "1.08"),
    ("2025-03-01", "GBP", "1.26"),
)


def test_rate_is_the_charge_days_or_the_nearest_earlier():
    assert EUR_GBP.rate("EUR", "USD", date(2025, 1, 10)).rate == Decimal("1.04")
    weekend = EUR_GBP.rate("EUR", "USD", date(2025, 1, 12))
    assert (weekend.rate, weekend.day) == (Decimal("1.04"), date(2025, 1, 10))
    assert EUR_GBP.rate("EUR", "USD", date(2025, 1, 8)) is None
    cross = EUR_GBP.rate("GBP", "EUR", date(2025, 1, 10))
    assert cross is not None and abs(cross.rate - Decimal("1.25") / Decimal("1.04")) < Decimal("1e-20")
    assert EUR_GBP.rate("USD", "EUR", date(2025, 1, 9)).rate == 1 / Decimal("1.03")


def test_rates_csv_errors_name_file_row_and_field(tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text("date,currency,rate_to_usd\n2025-13-01,EUR,1.1\n2025-01-02,euro,1.1\n2025-01-03,GBP,-2\n")
    with pytest.raises(IngestError) as caught:
        read_rates_csv(path)
    shown = [str(p) for p in caught.value.problems]
    assert shown == [
        f"{path}, row 2, column date: '2025-13-01' is not a date (YYYY-MM-DD)",
        f"{path}, row 3, column currency: 'EURO' is not an ISO 4217 currency code such as EUR",
        f"{path}, row 4, column rate_to_usd: '-2' is not a positive number",
    ]
    (tmp_path / "cols.csv").write_text("day,currency,rate\n")
    with pytest.raises(IngestError, match="column date: missing required column"):
        read_rates_csv(tmp_path / "cols.csv")


def test_rates_store_idempotently(state, tmp_path):
    path = tmp_path / "rates.csv"
    path.write_text(RATES)
    store_rates(state, read_rates_csv(path))
    path.write_text(RATES.replace("1.04", "1.05"))
    store_rates(state, read_rates_csv(path))
    stored = list_rates(state)
    assert len(stored) == 3
    assert RateBook(stored).rate("EUR", "USD", date(2025, 1, 11)).rate == Decimal("1.05")
    assert [r.from_currency for r in list_rates(state, "gbp")] == ["GBP"]


def eur_file(tmp_path: Path) -> Path:
    return write_focus(
        tmp_path / "eu.csv",
        [
            {"cost": "10", "Tags": {"team": "search"}},
            {
                "cost": "100.5",
                "BillingCurrency": "EUR",
                "PricingCurrency": "EUR",
                "PricingCurrencyEffectiveCost": "100.5",
                "PricingCurrencyListUnitPrice": "100.5",
                "PricingCurrencyContractedUnitPrice": "100.5",
                "BillingAccountId": "eu",
                "Tags": {"team": "search"},
                "ChargePeriodStart": "2025-01-11T00:00:00Z",
                "ChargePeriodEnd": "2025-01-12T00:00:00Z",
            },
        ],
    )


def test_focus_lines_are_converted_and_keep_their_originals(ledger, tmp_path):
    fx = CurrencyConversion("USD", EUR_GBP)
    path = eur_file(tmp_path)
    ingest_focus(ledger, [path], fx=fx)
    ingest_focus(ledger, [path], fx=fx)  # re-ingest restates, adds nothing

    rows = ledger.execute(
        'SELECT "BillingCurrency", "BilledCost", "EffectiveCost", "ListCost", "ContractedCost", '
        '"x_OriginalCurrency", "x_OriginalBilledCost", "x_OriginalEffectiveCost", "x_FxRate", '
        '"x_FxRateDate", "PricingCurrency", "PricingCurrencyEffectiveCost" FROM cost_lines '
        'ORDER BY "BilledCost"'
    )
    usd, eur = rows
    assert usd[0] == "USD" and usd[1] == 10 and usd[5] is None and usd[8] is None
    converted = Decimal("100.5") * Decimal("1.04")
    assert eur[:5] == ("USD", converted, converted, converted, converted)
    assert eur[5:9] == ("EUR", Decimal("100.5"), Decimal("100.5"), Decimal("1.04"))
    assert eur[9].date() == date(2025, 1, 10)  # the 11th had no rate; the 10th's applies
    assert eur[10:] == ("EUR", Decimal("100.5"))
    assert ledger_totals(ledger)[0] == 2

    report = spend(ledger, Attribution(), SpendQuery(by=("team",)))
    assert (report.currency, report.rows) == ("USD", [{"team": "search", "cost": converted + 10}])


def test_a_missing_rate_names_file_row_currency_and_day_and_stores_nothing(ledger, tmp_path):
    path = eur_file(tmp_path)
    with pytest.raises(IngestError) as caught:
        ingest_focus(ledger, [path], fx=CurrencyConversion("USD", book(("2025-01-12", "EUR", "1.1"))))
    (problem,) = caught.value.problems
    assert (problem.file, problem.row, problem.column) == (str(path), 2, "BillingCurrency")
    assert "no EUR to USD exchange rate on or before 2025-01-11" in problem.message
    assert ledger_totals(ledger)[0] == 0


def test_converted_export_still_validates(ledger, tmp_path):
    ingest_focus(ledger, [eur_file(tmp_path)], fx=CurrencyConversion("USD", EUR_GBP))
    out = export_focus(ledger, Attribution(), tmp_path / "out.csv").path
    report = validate_file(out, "1.2")
    assert report.ok, report.summary()


def test_card_transactions_in_eur_and_gbp_are_converted(ledger):
    result = ingest_expenses(
        ledger, [FIXTURES / "expenses" / "card_export.csv"], fx=CurrencyConversion("USD", EUR_GBP)
    )
    assert result.delivery is not None
    rows = ledger.execute(
        'SELECT "x_OriginalCurrency", "x_OriginalBilledCost", "BilledCost", "BillingCurrency" '
        'FROM cost_lines WHERE "x_OriginalCurrency" IS NOT NULL'
    )
    assert rows
    for currency, original, billed, billing in rows:
        assert billing == "USD"
        assert billed == original * {"EUR": Decimal("1.08"), "GBP": Decimal("1.26")}[currency]
    assert {r[0] for r in ledger.execute('SELECT DISTINCT "BillingCurrency" FROM cost_lines')} == {"USD"}


def test_seat_contracts_in_eur_are_converted(ledger, tmp_path):
    contracts = tmp_path / "contracts.csv"
    contracts.write_text(
        "Vendor,Product,SKU,Seats,Price per seat,Price period,Currency,Billing period,Term start,Term end\n"
        "Anthropic,Claude for Work,claude-team,10,25,month,EUR,Monthly,2025-03-01,2025-12-31\n"
    )
    ingest_seats(ledger, contracts, [], as_of=date(2025, 3, 20), fx=CurrencyConversion("USD", EUR_GBP))
    (row,) = ledger.execute('SELECT "BilledCost", "BillingCurrency", "x_OriginalBilledCost" FROM cost_lines')
    assert row == (Decimal(250) * Decimal("1.08"), "USD", Decimal(250))


def test_cli_loads_lists_and_converts(home, tmp_path):
    runner = CliRunner()
    rates = tmp_path / "rates.csv"
    rates.write_text(RATES)
    loaded = runner.invoke(app, ["fx", "load", str(rates)])
    assert loaded.exit_code == 0, loaded.output
    listed = runner.invoke(app, ["fx", "list", "--json"])
    assert '"rate": "1.040000000000"' in listed.output
    ingested = runner.invoke(app, ["ingest", str(eur_file(tmp_path))])
    assert ingested.exit_code == 0, ingested.output
    with Context() as ctx:
        total = ctx.ledger.execute('SELECT sum("BilledCost") FROM cost_lines')[0][0]
    assert total == Decimal("10") + Decimal("100.5") * Decimal("1.04")

    bad = tmp_path / "bad.csv"
    bad.write_text("date,currency,rate_to_usd\n2025-01-01,EUR,abc\n")
    failed = runner.invoke(app, ["fx", "load", str(bad)])
    assert failed.exit_code == 2 and "row 2, column rate_to_usd" in failed.output


def test_cur_lines_in_eur_are_converted(ledger, tmp_path):
    cur = FIXTURES / "aws_cur" / "cur2_2025_03.csv"
    header, *lines = cur.read_text().splitlines()
    column = header.split(",").index("line_item_currency_code")
    eur_lines = [
        ",".join("EUR" if i == column else c for i, c in enumerate(line.split(","))) for line in lines
    ]
    eur = tmp_path / "cur_eur.csv"
    eur.write_text("\n".join([header, *eur_lines]) + "\n")

    def one(sql: str):
        return ledger.execute(sql)[0]

    assert ingest_aws_cur(ledger, [cur]).rows
    usd_total = one('SELECT sum("BilledCost") FROM cost_lines')[0]
    ingest_aws_cur(ledger, [eur], fx=CurrencyConversion("USD", EUR_GBP))  # restates the same period
    assert one('SELECT min("BillingCurrency"), max("BillingCurrency") FROM cost_lines') == ("USD", "USD")
    assert one('SELECT min("x_OriginalCurrency"), max("x_OriginalCurrency") FROM cost_lines') == (
        "EUR",
        "EUR",
    )
    assert one('SELECT sum("BilledCost") FROM cost_lines')[0] == usd_total * Decimal(
        "1.08"
    )  # March 1st's rate
