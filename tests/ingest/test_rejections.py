"""Rejected FOCUS deliveries: the report names file, row and column, and nothing is written.

Every test here runs against one module-wide ledger holding a good delivery; a rejected ingest
must leave exactly that behind, which each test checks, so the shared ledger is safe to reuse.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from comptroller.errors import IngestError
from comptroller.ingest.focus_ingest import ingest_focus
from tests.focus_fixtures import ledger_totals, write_focus

FORMATS = ["csv", "csv.gz", "parquet"]
SEEDED = (2, Decimal("4.75"), Decimal("4.75"))


@pytest.fixture(scope="module")
def ledger(module_ledger, tmp_path_factory):
    """The module's ledger, holding one good delivery (see SEEDED)."""
    good = write_focus(
        tmp_path_factory.mktemp("seed") / "good.csv",
        [{"cost": "3.5", "ResourceId": "seed-1"}, {"cost": "1.25", "ResourceId": "seed-2"}],
    )
    ingest_focus(module_ledger, [good])
    assert ledger_totals(module_ledger) == SEEDED
    return module_ledger


def rejected(ledger, path: Path) -> IngestError:
    with pytest.raises(IngestError) as info:
        ingest_focus(ledger, [path])
    return info.value


@pytest.mark.parametrize(
    "column", ["BilledCost", "ChargeCategory", "BillingPeriodStart", "BillingCurrency", "ServiceName"]
)
def test_missing_mandatory_column_names_file_and_column(ledger, tmp_path, column):
    path = write_focus(tmp_path / "incomplete.csv", [{"cost": "100", "ResourceId": "x"}], drop=[column])

    error = rejected(ledger, path)

    assert [(p.file, p.column, p.row) for p in error.problems] == [(str(path), column, None)]
    assert column in str(error) and path.name in str(error)
    assert ledger_totals(ledger) == SEEDED


def test_focus_1_3_file_without_any_provider_column_is_rejected(ledger, tmp_path):
    path = write_focus(tmp_path / "v13.csv", [{"cost": "9"}], version="1.3", drop=["ServiceProviderName"])
    error = rejected(ledger, path)
    assert {p.column for p in error.problems} == {"ProviderName", "PublisherName"}
    assert ledger_totals(ledger) == SEEDED


@pytest.mark.parametrize("fmt", FORMATS)
def test_bad_decimal_is_reported_at_its_data_row(ledger, tmp_path, fmt):
    path = write_focus(
        tmp_path / f"bad.{fmt}",
        [
            {"cost": "1", "ResourceId": "a"},
            {"cost": "2", "ResourceId": "b"},
            {"cost": "3", "ResourceId": "c", "BilledCost": "12,50"},
            {"cost": "4", "ResourceId": "d"},
        ],
    )
    error = rejected(ledger, path)

    assert [(p.file, p.row, p.column) for p in error.problems] == [(str(path), 3, "BilledCost")]
    assert "12,50" in error.problems[0].message
    assert ledger_totals(ledger) == SEEDED


def test_bad_timestamp_is_reported_at_its_row(ledger, tmp_path):
    path = write_focus(
        tmp_path / "bad_ts.csv",
        [{"cost": "1"}, {"cost": "2", "ChargePeriodStart": "2025-13-45T00:00:00Z"}],
    )
    error = rejected(ledger, path)

    assert [(p.file, p.row, p.column) for p in error.problems] == [(str(path), 2, "ChargePeriodStart")]
    assert ledger_totals(ledger) == SEEDED


def test_bad_charge_category_is_reported_at_its_row(ledger, tmp_path):
    path = write_focus(
        tmp_path / "bad_category.csv",
        [{"cost": "1"}, {"cost": "1"}, {"cost": "1"}, {"cost": "2", "ChargeCategory": "Refund"}],
    )
    error = rejected(ledger, path)

    assert [(p.row, p.column) for p in error.problems] == [(4, "ChargeCategory")]
    assert "Refund" in error.problems[0].message and "Usage" in error.problems[0].message
    assert ledger_totals(ledger) == SEEDED


@pytest.mark.parametrize(
    ("cells", "column"),
    [
        ({"ChargeFrequency": "Daily"}, "ChargeFrequency"),
        ({"ChargeClass": "Refund"}, "ChargeClass"),
        ({"BillingCurrency": "usd"}, "BillingCurrency"),
        ({"ChargePeriodEnd": "2025-01-09T00:00:00Z"}, "ChargePeriodEnd"),
        ({"BillingPeriodEnd": "2025-01-01T00:00:00Z"}, "BillingPeriodEnd"),
    ],
    ids=lambda v: v if isinstance(v, str) else None,
)
def test_value_rules_are_reported_at_their_row(ledger, tmp_path, cells, column):
    path = write_focus(tmp_path / "bad_value.csv", [{"cost": "1"}, {"cost": "1"}, {"cost": "2", **cells}])
    error = rejected(ledger, path)
    assert [(p.row, p.column) for p in error.problems] == [(3, column)]
    assert ledger_totals(ledger) == SEEDED


def test_empty_mandatory_cell_is_reported(ledger, tmp_path):
    path = write_focus(tmp_path / "empty.csv", [{"cost": "1"}, {"cost": "2", "BillingAccountId": "NULL"}])
    error = rejected(ledger, path)
    assert [(p.row, p.column) for p in error.problems] == [(2, "BillingAccountId")]
    assert ledger_totals(ledger) == SEEDED


@pytest.mark.parametrize("column", ["Tags", "SkuPriceDetails"])
def test_invalid_json_is_reported_at_its_row_and_column(ledger, tmp_path, column):
    path = write_focus(
        tmp_path / "bad_json.csv",
        [{"cost": "1", column: {"team": "search"}}, {"cost": "2", column: '{"team": "search"'}],
    )
    error = rejected(ledger, path)

    assert ledger_totals(ledger) == SEEDED
    assert [(p.file, p.row, p.column) for p in error.problems] == [(str(path), 2, column)]


def test_tags_that_are_not_a_json_object_are_rejected(ledger, tmp_path):
    path = write_focus(tmp_path / "array.csv", [{"cost": "1"}, {"cost": "2", "Tags": '["team", "search"]'}])
    error = rejected(ledger, path)
    assert [(p.row, p.column) for p in error.problems] == [(2, "Tags")]
    assert ledger_totals(ledger) == SEEDED


def test_a_rejected_delivery_adds_no_provider_columns(ledger, tmp_path):
    path = write_focus(
        tmp_path / "bad_with_extra.csv", [{"cost": "1", "BrandNewColumn": "v", "ChargeCategory": "Nope"}]
    )
    rejected(ledger, path)
    assert "x_BrandNewColumn" not in ledger.columns()
    assert ledger_totals(ledger) == SEEDED


def test_one_bad_file_rejects_the_whole_delivery(ledger, tmp_path):
    good = write_focus(
        tmp_path / "other_account.csv", [{"cost": "50", "BillingAccountId": "acct-2", "ResourceId": "g"}]
    )
    bad = write_focus(tmp_path / "bad.parquet", [{"cost": "5"}, {"cost": "oops"}])
    with pytest.raises(IngestError) as info:
        ingest_focus(ledger, [good, bad])
    assert {p.file for p in info.value.problems} == {str(bad)}
    assert ledger_totals(ledger) == SEEDED


def test_a_file_that_does_not_exist_is_rejected(ledger, tmp_path):
    missing = tmp_path / "nope.csv"
    error = rejected(ledger, missing)
    assert error.problems[0].file == str(missing)
    assert ledger_totals(ledger) == SEEDED
