"""AWS CUR 2.0 files become FOCUS cost lines: mapped per line, amortized once, atomic, idempotent."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from typer.testing import CliRunner

from comptroller.cli.main import app
from comptroller.errors import IngestError
from comptroller.focus_validation import validate_table
from comptroller.ingest.aws_cur import ingest_aws_cur
from comptroller.ingest.sources import detect_source
from comptroller.ledger.schema import FOCUS_1_2_COLUMNS
from tests.focus_fixtures import ledger_totals

CSV = Path(__file__).parent / "fixtures" / "aws_cur" / "cur2_2025_03.csv"
UNBLENDED_TOTAL = Decimal("1114.02")  # sum of line_item_unblended_cost in the fixture
COLUMNS = (
    '"x_CurLineItemType", "ChargeCategory", "BilledCost", "EffectiveCost", "ListCost", "ServiceName", '
    '"ServiceCategory", "ServiceSubcategory", "CommitmentDiscountStatus", "SubAccountId", "Tags", '
    '"BillingAccountId", "ProviderName", "RegionId"'
)


def as_parquet(tmp_path: Path) -> Path:
    """The fixture as CUR 2.0 Parquet: typed costs and timestamps, tags and product as MAPs."""
    out = tmp_path / "cur2.parquet"
    con = duckdb.connect()
    con.execute(f"CREATE TABLE t AS SELECT * FROM read_csv('{CSV}', all_varchar = true)")
    casts = ", ".join(
        f"TRY_CAST({c} AS DOUBLE) AS {c}"
        for c in (
            "line_item_unblended_cost",
            "line_item_usage_amount",
            "pricing_public_on_demand_cost",
            "savings_plan_savings_plan_effective_cost",
            "savings_plan_total_commitment_to_date",
            "savings_plan_used_commitment",
        )
    )
    dates = ", ".join(
        f"CAST(replace(replace({c}, 'T', ' '), 'Z', '') AS TIMESTAMP) AS {c}"
        for c in (
            "bill_billing_period_start_date",
            "bill_billing_period_end_date",
            "line_item_usage_start_date",
            "line_item_usage_end_date",
        )
    )
    maps = ", ".join(
        f"COALESCE(CAST(json({c}) AS MAP(VARCHAR, VARCHAR)), MAP {{}}) AS {c}"
        for c in ("resource_tags", "product")
    )
    con.execute(f"COPY (SELECT * REPLACE ({casts}, {dates}, {maps}) FROM t) TO '{out}' (FORMAT parquet)")
    con.close()
    return out


@pytest.fixture(params=["csv", "parquet"])
def cur_file(request, tmp_path) -> Path:
    return CSV if request.param == "csv" else as_parquet(tmp_path)


def rows(ledger) -> list[tuple]:
    return ledger.execute(f"SELECT {COLUMNS} FROM cost_lines WHERE \"x_Source\" = 'aws_cur'")


def by_kind(ledger) -> dict[str, list[tuple]]:
    out: dict[str, list[tuple]] = {}
    for r in rows(ledger):
        out.setdefault(r[0], []).append(r)
    return out


def test_each_line_maps_to_focus(ledger, cur_file):
    result = ingest_aws_cur(ledger, [cur_file])
    assert result.source == "aws_cur" and result.rows == 9  # 8 CUR lines + 1 unused-commitment line
    got = by_kind(ledger)
    ec2 = next(r for r in got["Usage"] if r[5] == "Amazon Elastic Compute Cloud")
    assert ec2[1:5] == ("Usage", Decimal("982.8"), Decimal("982.8"), Decimal("982.8"))
    assert ec2[6:8] == ("Compute", "Virtual Machines")
    assert json.loads(ec2[10]) == {"user:team": "ml", "user:env": "prod"}
    assert (ec2[9], ec2[11], ec2[12], ec2[13]) == ("222222222222", "111111111111", "AWS", "us-east-1")
    s3 = next(r for r in got["Usage"] if r[5] == "Amazon Simple Storage Service")
    assert s3[6:8] == ("Storage", "Object Storage")
    [tax] = got["Tax"]
    assert tax[1:3] == ("Tax", Decimal("98.28"))
    [credit] = got["Credit"]
    assert credit[1:4] == ("Credit", Decimal("-5"), Decimal("-5"))


def test_bedrock_lines_are_ai_and_machine_learning(ledger, cur_file):
    ingest_aws_cur(ledger, [cur_file])
    bedrock = [r for r in rows(ledger) if r[5] == "Amazon Bedrock"]
    assert len(bedrock) == 2
    assert {(r[6], r[7]) for r in bedrock} == {("AI and Machine Learning", "Generative AI")}


def test_billed_cost_sums_to_the_unblended_total(ledger, cur_file):
    ingest_aws_cur(ledger, [cur_file])
    assert sum(r[2] for r in rows(ledger)) == UNBLENDED_TOTAL


def test_effective_cost_amortizes_the_savings_plan_once(ledger, cur_file):
    ingest_aws_cur(ledger, [cur_file])
    got = by_kind(ledger)
    [covered] = got["SavingsPlanCoveredUsage"]
    assert covered[2:4] == (Decimal("10.06"), Decimal("6")) and covered[8] == "Used"
    [negation] = got["SavingsPlanNegation"]
    assert negation[1:4] == ("Credit", Decimal("-10.06"), Decimal("0"))
    fee, unused = sorted(got["SavingsPlanRecurringFee"], key=lambda r: r[1])
    assert fee[1:4] == ("Purchase", Decimal("7.44"), Decimal("0"))
    assert unused[1:4] == ("Usage", Decimal("0"), Decimal("1.44")) and unused[8] == "Unused"
    # used (6) + unused (1.44) is the commitment fee (7.44); totals agree with the invoice.
    assert covered[3] + unused[3] == fee[2]
    assert sum(r[3] for r in rows(ledger)) == UNBLENDED_TOTAL


def test_reingest_is_idempotent(ledger, cur_file):
    ingest_aws_cur(ledger, [cur_file])
    before = ledger_totals(ledger)
    again = ingest_aws_cur(ledger, [cur_file])
    assert again.replaced_rows == 9
    assert ledger_totals(ledger) == before


def test_stored_lines_conform_to_focus_1_2(ledger, cur_file):
    ingest_aws_cur(ledger, [cur_file])
    stored = ledger.cost_lines().filter(lambda t: t.x_Source == "aws_cur").to_pyarrow()
    report = validate_table(stored.select([c.name for c in FOCUS_1_2_COLUMNS]))
    assert report.ok, report.summary()


@pytest.mark.parametrize(
    ("old", "new", "row", "column", "words"),
    [
        ("10,USD,982.8,982.8", "10,USD,98x.8,982.8", 2, "line_item_unblended_cost", "not a number"),
        (
            ",SavingsPlanNegation,2025-03-03T00:00:00.000Z",
            ",SavingsPlanNegation,soon",
            6,
            "line_item_usage_start_date",
            "date and time",
        ),
    ],
)
def test_bad_cells_are_rejected_with_file_row_column(ledger, tmp_path, old, new, row, column, words):
    ingest_aws_cur(ledger, [CSV])
    before = ledger_totals(ledger)
    bad = tmp_path / "bad.csv"
    text = CSV.read_text()
    assert old in text
    bad.write_text(text.replace(old, new, 1))
    with pytest.raises(IngestError) as caught:
        ingest_aws_cur(ledger, [bad])
    [problem] = caught.value.problems
    assert (problem.file, problem.row, problem.column) == (str(bad), row, column)
    assert words in problem.message
    assert ledger_totals(ledger) == before


def test_missing_required_column_is_rejected(ledger, tmp_path):
    bad = tmp_path / "no_currency.csv"
    bad.write_text(CSV.read_text().replace("line_item_currency_code", "currency", 1))
    with pytest.raises(IngestError) as caught:
        ingest_aws_cur(ledger, [bad])
    assert [(p.file, p.column) for p in caught.value.problems] == [(str(bad), "line_item_currency_code")]
    assert ledger_totals(ledger)[0] == 0


def test_detection_recognises_cur_files(tmp_path):
    assert detect_source(CSV) == "aws_cur"
    assert detect_source(as_parquet(tmp_path)) == "aws_cur"


runner = CliRunner()


def test_cli_detects_and_ingests_cur_once(home):
    first = runner.invoke(app, ["ingest", str(CSV)], catch_exceptions=False)
    assert first.exit_code == 0, first.output
    assert "ingested 9 cost lines" in first.stdout
    spend = json.loads(runner.invoke(app, ["spend", "--by", "ServiceName", "--json"]).stdout)
    again = runner.invoke(app, ["ingest", str(CSV)], catch_exceptions=False)
    assert again.exit_code == 0, again.output
    assert json.loads(runner.invoke(app, ["spend", "--by", "ServiceName", "--json"]).stdout) == spend
    assert Decimal(str(spend["total"])) == UNBLENDED_TOTAL


def test_cli_rejects_bad_cur_and_names_the_cell(home, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text(CSV.read_text().replace("10,USD,982.8,982.8", "10,USD,oops,982.8", 1))
    result = runner.invoke(app, ["ingest", str(bad)])
    assert result.exit_code == 2
    assert "row 2" in result.stderr and "line_item_unblended_cost" in result.stderr
