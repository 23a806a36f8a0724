"""Allowed values, subcategory parents, currency codes, placeholder nulls."""

from __future__ import annotations

import pytest

from comptroller.focus_validation import Severity, validate_table


@pytest.mark.parametrize(
    ("edits", "rule_id", "row"),
    [
        (("ChargeCategory", 2, "purchase"), "FOCUS-1.2/ChargeCategory/allowed-values", 2),
        (("ChargeClass", 1, "Corrected"), "FOCUS-1.2/ChargeClass/allowed-values", 1),
        (("ChargeFrequency", 1, "Usage Based"), "FOCUS-1.2/ChargeFrequency/allowed-values", 1),
        (("PricingCategory", 3, "On-Demand"), "FOCUS-1.2/PricingCategory/allowed-values", 3),
        (
            ("CommitmentDiscountCategory", 3, "Spends"),
            "FOCUS-1.2/CommitmentDiscountCategory/allowed-values",
            3,
        ),
        (("CommitmentDiscountStatus", 3, "Active"), "FOCUS-1.2/CommitmentDiscountStatus/allowed-values", 3),
        (
            ("CapacityReservationId", 1, "cr-1", "CapacityReservationStatus", 1, "Partly Used"),
            "FOCUS-1.2/CapacityReservationStatus/allowed-values",
            1,
        ),
        (("ServiceCategory", 4, "AI/ML"), "FOCUS-1.2/ServiceCategory/allowed-values", 4),
        (("ServiceSubcategory", 1, "GenAI"), "FOCUS-1.2/ServiceSubcategory/allowed-values", 1),
    ],
)
def test_value_outside_allowed_list(mutate, edits, rule_id, row):
    report = validate_table(mutate(*edits))
    [violation] = report.find(rule_id)
    assert (violation.row, violation.count) == (row, 1)
    assert repr(edits[-1]) in violation.message
    assert not report.ok


def test_subcategory_under_wrong_parent(mutate):
    report = validate_table(mutate("ServiceSubcategory", 3, "Virtual Machines"))
    [violation] = report.find("FOCUS-1.2/ServiceSubcategory/parent-category")
    assert violation.row == 3
    assert "AI and Machine Learning / Virtual Machines" in violation.message


def test_other_subcategory_of_its_own_category_is_allowed(mutate):
    assert validate_table(mutate("ServiceSubcategory", 1, "Other (AI and Machine Learning)")).ok
    report = validate_table(mutate("ServiceSubcategory", 1, "Other (Compute)"))
    assert report.find("FOCUS-1.2/ServiceSubcategory/parent-category")


@pytest.mark.parametrize("value", ["US$", "usd", "DOLLARS", "XXX"])
def test_billing_currency_must_be_iso_4217(mutate, value):
    [violation] = validate_table(mutate("BillingCurrency", 2, value)).find(
        "FOCUS-1.2/BillingCurrency/iso-4217"
    )
    assert violation.row == 2


def test_pricing_currency_may_be_virtual_so_unknown_codes_only_warn(mutate):
    report = validate_table(mutate("PricingCurrency", 1, "CREDITS"))
    [violation] = report.find("FOCUS-1.2/PricingCurrency/iso-4217")
    assert violation.severity is Severity.WARNING
    assert report.ok


@pytest.mark.parametrize("placeholder", ["NULL", "N/A", "Not Applicable", "None"])
def test_placeholder_instead_of_null(mutate, placeholder):
    report = validate_table(mutate("ResourceName", 3, placeholder))
    [violation] = report.find("FOCUS-1.2/NullHandling/no-placeholders")
    assert (violation.column, violation.row) == ("ResourceName", 3)


def test_whitespace_only_value_in_not_nullable_column_warns(mutate):
    report = validate_table(mutate("ServiceName", 2, "   "))
    [violation] = report.find("FOCUS-1.2/StringHandling/no-blank-strings")
    assert (violation.column, violation.row, violation.severity) == ("ServiceName", 2, Severity.WARNING)
