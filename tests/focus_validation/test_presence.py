"""Presence of columns: Mandatory (error), Recommended (warning), Conditional (revealed by siblings)."""

from __future__ import annotations

import pyarrow as pa
import pytest

from comptroller.focus_validation import Severity, validate_table


def test_valid_table_passes(valid_table):
    report = validate_table(valid_table)
    assert report.ok
    assert report.violations == ()
    assert report.rows == 4


@pytest.mark.parametrize("column", ["BilledCost", "ChargeDescription", "PricingUnit", "InvoiceIssuerName"])
def test_missing_mandatory_column_is_an_error(valid_table, column):
    report = validate_table(valid_table.drop_columns([column]))
    [violation] = report.find(f"FOCUS-1.2/{column}/present")
    assert violation.severity is Severity.ERROR
    assert violation.row is None
    assert violation.column == column
    assert not report.ok


def test_missing_recommended_column_only_warns(valid_table):
    report = validate_table(valid_table.drop_columns(["ServiceSubcategory"]))
    [violation] = report.find("FOCUS-1.2/ServiceSubcategory/present")
    assert violation.severity is Severity.WARNING
    assert report.ok


def test_conditional_column_required_once_a_sibling_reveals_the_capability(valid_table):
    report = validate_table(valid_table.drop_columns(["ConsumedUnit"]))
    [violation] = report.find("FOCUS-1.2/ConsumedUnit/present")
    assert "ConsumedQuantity" in violation.message
    assert violation.severity is Severity.ERROR


def test_conditional_columns_may_all_be_absent(valid_table):
    report = validate_table(valid_table.drop_columns(["ConsumedUnit", "ConsumedQuantity"]))
    assert report.ok, report.summary()


def test_pricing_currency_required_by_pricing_currency_amounts(valid_table):
    report = validate_table(valid_table.drop_columns(["PricingCurrency"]))
    assert report.find("FOCUS-1.2/PricingCurrency/present")


def test_unprefixed_custom_column_is_an_error(valid_table):
    table = valid_table.append_column("Team", pa.array(["a"] * 4))
    [violation] = validate_table(table).find("FOCUS-1.2/ColumnHandling/custom-prefix")
    assert violation.column == "Team"
    assert violation.row is None


def test_later_version_columns_count_as_custom_in_12_but_not_in_13(valid_table):
    table = valid_table.append_column("AllocatedMethodId", pa.array(["even"] * 4))
    [violation] = validate_table(table).find("FOCUS-1.2/ColumnHandling/custom-prefix")
    assert "1.3" in violation.message
    assert validate_table(table, version="1.3").ok
