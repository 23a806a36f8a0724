"""The demo's FOCUS files are valid FOCUS, checked rule by rule from the spec text."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from collections import defaultdict
from decimal import Decimal

import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from comptroller.focus_validation import validate_file
from comptroller.ledger.schema import FOCUS_COLUMNS, Requirement
from tests.demo.conftest import END, csv_text, load_rows, null_token, relation_sql

VERSIONS = {
    "aws-focus-1.2.csv.gz": "1.2",
    "azure-focus-1.0.csv": "1.0",
    "ai-platforms-focus-1.2.parquet": "1.2",
    "saas-seats-focus-1.3.csv": "1.3",
}
ORDER = ("1.0", "1.1", "1.2", "1.3")
NOT_NULL = [c.name for c in FOCUS_COLUMNS if not c.nullable]
SERVICE_CATEGORIES = {
    "AI and Machine Learning", "Analytics", "Business Applications", "Compute", "Databases", "Developer Tools",
    "Multicloud", "Identity", "Integration", "Internet of Things", "Management and Governance", "Media",
    "Migration", "Mobile", "Networking", "Security", "Storage", "Web", "Other",
}  # fmt: skip
ALLOWED = {
    "ChargeCategory": {"Usage", "Purchase", "Tax", "Credit", "Adjustment"},
    "ChargeClass": {None, "Correction"},
    "ChargeFrequency": {"One-Time", "Recurring", "Usage-Based"},
    "PricingCategory": {None, "Standard", "Dynamic", "Committed", "Other"},
    "CommitmentDiscountStatus": {None, "Used", "Unused"},
    "CommitmentDiscountCategory": {None, "Spend", "Usage"},
}
ISO_Z = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$")


@pytest.fixture(scope="module")
def rows(files):
    return {name: load_rows(path) for name, path in files.items()}


def test_the_four_files(files):
    assert set(files) == set(VERSIONS)
    assert files["aws-focus-1.2.csv.gz"].read_bytes()[:2] == b"\x1f\x8b"


@pytest.mark.parametrize("name", sorted(VERSIONS))
def test_parses_with_duckdb_and_pyarrow(files, con, name):
    path = files[name]
    count = con.sql(f"SELECT count(*) FROM {relation_sql(path)}").fetchone()[0]
    if path.suffix == ".parquet":
        table = pq.read_table(path)
    else:
        options = pacsv.ConvertOptions(null_values=[null_token(path)], strings_can_be_null=True)
        table = pacsv.read_csv(path, convert_options=options)
    assert count == table.num_rows > 0


@pytest.mark.parametrize("name", sorted(VERSIONS))
def test_mandatory_columns_present_and_not_null(rows, name):
    version = VERSIONS[name]
    expected = {
        c.name
        for c in FOCUS_COLUMNS
        if c.requirement is Requirement.MANDATORY and ORDER.index(c.since) <= ORDER.index(version)
    }
    if version == "1.3":
        expected |= {"ServiceProviderName", "HostProviderName"}
    assert expected <= set(rows[name][0])
    for column in [*NOT_NULL, *(["ServiceProviderName"] if version == "1.3" else [])]:
        assert all(r[column] is not None for r in rows[name]), column


@pytest.mark.parametrize("name", sorted(VERSIONS))
def test_custom_columns_follow_the_version_rules(rows, name):
    focus = {c.name for c in FOCUS_COLUMNS}
    extra = [c for c in rows[name][0] if c not in focus]
    if VERSIONS[name] == "1.0":
        assert {"ResourceGroup", "MeterCategory"} <= set(extra)  # un-prefixed, ingest renames them
        assert not {"ServiceSubcategory", "InvoiceId", "SkuPriceDetails"} & set(rows[name][0])
    else:
        assert all(c.startswith("x_") for c in extra), extra


def test_csv_quirks(files):
    azure = csv_text(files["azure-focus-1.0.csv"])
    assert ",NULL," in azure and ",," not in azure
    aws = csv_text(files["aws-focus-1.2.csv.gz"])
    assert '""team""' in aws  # Tags JSON with doubled quotes, as in real exports
    for row in csv.DictReader(io.StringIO(aws)):
        for column in ("BilledCost", "EffectiveCost", "ListCost", "ContractedCost"):
            assert re.fullmatch(r"-?\d+\.\d{10}", row[column]), (column, row[column])


@pytest.mark.parametrize("name", sorted(VERSIONS))
def test_dates_are_utc_iso_8601(files, rows, name):
    dates = ("BillingPeriodStart", "BillingPeriodEnd", "ChargePeriodStart", "ChargePeriodEnd")
    if files[name].suffix == ".parquet":
        schema = pq.read_schema(files[name])
        assert all(str(schema.field(c).type) == "timestamp[us, tz=UTC]" for c in dates)
    else:
        for row in csv.DictReader(io.StringIO(csv_text(files[name]))):
            assert all(ISO_Z.match(row[c]) for c in dates), row
    for r in rows[name]:
        assert r["ChargePeriodStart"] < r["ChargePeriodEnd"]
        assert (
            r["BillingPeriodStart"] <= r["ChargePeriodStart"]
            and r["ChargePeriodEnd"] <= r["BillingPeriodEnd"]
        )
        start, end = r["BillingPeriodStart"], r["BillingPeriodEnd"]
        assert start.day == 1 and end.day == 1 and start.hour == 0 and 28 <= (end - start).days <= 31


@pytest.mark.parametrize("name", sorted(VERSIONS))
def test_allowed_values(rows, name):
    for r in rows[name]:
        for column, allowed in ALLOWED.items():
            if column in r:
                assert r[column] in allowed, (column, r[column])
        assert r["ServiceCategory"] in SERVICE_CATEGORIES
        if r["ChargeCategory"] == "Purchase":
            assert r["ChargeFrequency"] != "Usage-Based"
        if r.get("Tags") is not None:
            assert isinstance(json.loads(r["Tags"]), dict)


@pytest.mark.parametrize("name", sorted(VERSIONS))
def test_prices_quantities_and_costs_agree(rows, name):
    for r in rows[name]:
        category = r["ChargeCategory"]
        if category in ("Usage", "Purchase"):
            for column in (
                "PricingQuantity",
                "PricingUnit",
                "ListUnitPrice",
                "ContractedUnitPrice",
                "PricingCategory",
            ):
                assert r[column] is not None, column
            for column in ("SkuId", "SkuPriceId"):
                assert r.get(column, "n/a") is not None, column
        if category == "Tax":
            for column in ("PricingQuantity", "PricingUnit", "ListUnitPrice", "ContractedUnitPrice", "SkuId"):
                assert r.get(column) is None, column
        if r["ListUnitPrice"] is not None:
            assert r["ListUnitPrice"] * r["PricingQuantity"] == r["ListCost"]
            assert r["ContractedUnitPrice"] * r["PricingQuantity"] == r["ContractedCost"]
        elif category == "Credit":
            assert r["ListCost"] == r["ContractedCost"] == r["BilledCost"] == r["EffectiveCost"] < 0
        consumed = category == "Usage" and r.get("CommitmentDiscountStatus") != "Unused"
        assert (r.get("ConsumedQuantity") is not None) == consumed
        assert (r.get("ConsumedUnit") is not None) == consumed


@pytest.mark.parametrize("name", sorted(VERSIONS))
def test_conditional_column_pairs(rows, name):
    pairs = [
        ("SubAccountId", "SubAccountName"),
        ("RegionId", "RegionName"),
        ("PricingQuantity", "PricingUnit"),
        ("CommitmentDiscountId", "CommitmentDiscountName"),
        ("CommitmentDiscountId", "CommitmentDiscountUnit"),
        ("CommitmentDiscountQuantity", "CommitmentDiscountUnit"),
    ]
    for r in rows[name]:
        for a, b in pairs:
            if a in r and b in r:
                assert (r[a] is None) == (r[b] is None), (a, b)
        if r.get("ResourceId") is None:
            assert r.get("ResourceName") is None and r.get("ResourceType") is None
        if "BillingAccountType" in r:
            assert r["BillingAccountType"] is not None
        if "SubAccountType" in r:
            assert (r["SubAccountType"] is None) == (r["SubAccountId"] is None)
        if r.get("CommitmentDiscountId") and r["ChargeCategory"] == "Usage":
            assert r["CommitmentDiscountStatus"] is not None and r["PricingCategory"] == "Committed"


def test_covers_the_period_month_to_date(demo, rows):
    start = dt.datetime.fromisoformat(demo.truth["period"]["start"]).replace(tzinfo=dt.UTC)
    stop = dt.datetime.combine(END + dt.timedelta(days=1), dt.time(), dt.UTC)
    for name, data in rows.items():
        assert min(r["ChargePeriodStart"] for r in data) == start, name
        assert max(r["ChargePeriodStart"] for r in data) < stop, name
        for r in data:
            monthly_purchase = (
                r["ChargeCategory"] == "Purchase" and r["ChargePeriodEnd"] == r["BillingPeriodEnd"]
            )
            assert r["ChargePeriodEnd"] <= stop or monthly_purchase, name
    aws_days = {r["ChargePeriodStart"].date() for r in rows["aws-focus-1.2.csv.gz"]}
    assert max(aws_days) == END


def test_savings_plan_amortisation_balances(rows):
    """Used + Unused EffectiveCost equals the recurring purchase in each month; the purchase itself
    has EffectiveCost 0 and the covered usage is not billed again."""
    months: dict = defaultdict(lambda: defaultdict(Decimal))
    for r in rows["aws-focus-1.2.csv.gz"]:
        if r["CommitmentDiscountId"] is None:
            continue
        month = r["BillingPeriodStart"]
        if r["ChargeCategory"] == "Purchase":
            assert r["EffectiveCost"] == 0 and r["ChargeFrequency"] == "Recurring"
            months[month]["purchase"] += r["BilledCost"]
        else:
            assert r["BilledCost"] == 0
            months[month][r["CommitmentDiscountStatus"]] += r["EffectiveCost"]
    assert len(months) == 3
    for parts in months.values():
        assert parts["Used"] > 0 and parts["Unused"] > 0
        assert parts["Used"] + parts["Unused"] == parts["purchase"]


def test_aws_tax_credit_and_invoices(rows):
    aws = rows["aws-focus-1.2.csv.gz"]
    categories = {r["ChargeCategory"] for r in aws}
    assert {"Usage", "Purchase", "Tax", "Credit"} <= categories
    last_month = max(r["BillingPeriodStart"] for r in aws)
    for r in aws:
        assert (r["InvoiceId"] is None) == (r["BillingPeriodStart"] == last_month)
    services = {(r["ServiceCategory"], r.get("ServiceSubcategory"), r["PricingUnit"]) for r in aws}
    assert ("Compute", "Virtual Machines", "Hours") in services
    assert ("AI and Machine Learning", "Generative AI", "1000000 Tokens") in services
    assert any(r["ServiceName"] == "Amazon SageMaker" for r in aws)
    assert any(r["ServiceCategory"] == "Storage" for r in aws)
    assert any(r["Tags"] is None for r in aws) and any(r["Tags"] for r in aws)


def test_model_token_lines_use_the_ai_draft_keys(rows):
    for name in ("aws-focus-1.2.csv.gz",):
        token_rows = [r for r in rows[name] if r["SkuPriceDetails"]]
        assert token_rows
        for r in token_rows:
            details = json.loads(r["SkuPriceDetails"])
            assert {"ModelDeveloper", "ModelFamily", "ModelId", "ModelVersion", "TokenDirection"} <= set(
                details
            )
            assert r["ConsumedUnit"] == "Tokens" and r["PricingQuantity"] * 1_000_000 == r["ConsumedQuantity"]


def test_seat_lines(rows):
    seats = rows["saas-seats-focus-1.3.csv"]
    assert {r["ServiceName"] for r in seats} == {
        "ChatGPT Enterprise",
        "GitHub Copilot Business",
        "Cursor Business",
        "Microsoft 365 Copilot",
    }
    for r in seats:
        assert (r["ChargeCategory"], r["ChargeFrequency"], r["PricingUnit"]) == (
            "Purchase",
            "Recurring",
            "Seats",
        )
        assert r["PricingQuantity"] == int(r["x_SeatsAssigned"]) >= int(r["x_SeatsActive30d"]) >= 0
        assert r["ServiceProviderName"] and r["HostProviderName"]
        assert r["EffectiveCost"] == r["BilledCost"] == r["ContractedCost"]


def test_platform_vendors(rows):
    platforms = rows["ai-platforms-focus-1.2.parquet"]
    assert {r["ProviderName"] for r in platforms} == {"Pinecone", "LangChain", "Braintrust", "CoreWeave"}
    assert {r["ChargeCategory"] for r in platforms} == {"Usage", "Purchase"}
    assert len({r["InvoiceIssuerName"] for r in platforms}) == 4


def test_focus_validator_finds_no_errors(files):
    """The project's own rule-by-rule validator finds no errors in the 1.2/1.3 files."""
    for name, version in VERSIONS.items():
        if version == "1.0":
            continue
        report = validate_file(files[name], version)
        errors = [v for v in report.violations if str(v.severity).lower().endswith("error")]
        assert not errors, (name, errors[:3])
