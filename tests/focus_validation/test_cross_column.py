"""Relations between columns: period order, unit-price arithmetic, purchases, one-parent mappings."""

from __future__ import annotations

import pytest

from comptroller.focus_validation import Severity, validate_table


@pytest.mark.parametrize("end", ["2024-01-04T00:00:00Z", "2024-01-05T00:00:00Z"])
def test_charge_period_must_end_after_it_starts(mutate, end):
    [violation] = validate_table(mutate("ChargePeriodEnd", 3, end)).find(
        "FOCUS-1.2/ChargePeriodEnd/after-start"
    )
    assert violation.row == 3


def test_billing_period_must_end_after_it_starts(mutate):
    report = validate_table(mutate("BillingPeriodEnd", 2, "2024-01-01T00:00:00Z"))
    [violation] = report.find("FOCUS-1.2/BillingPeriodEnd/after-start")
    assert violation.row == 2


def test_charge_starting_outside_its_billing_period_warns_unless_correction(mutate):
    edits = ("ChargePeriodStart", 1, "2023-12-30T00:00:00Z")
    report = validate_table(mutate(*edits))
    [violation] = report.find("FOCUS-1.2/ChargePeriodStart/within-billing-period")
    assert (violation.row, violation.severity) == (1, Severity.WARNING)
    assert report.ok
    corrected = validate_table(mutate(*edits, "ChargeClass", 1, "Correction"))
    assert not corrected.find("FOCUS-1.2/ChargePeriodStart/within-billing-period")


def test_list_cost_must_equal_unit_price_times_quantity(mutate):
    [violation] = validate_table(mutate("ListCost", 1, "16")).find("FOCUS-1.2/ListCost/matches-unit-price")
    assert violation.row == 1


def test_contracted_cost_must_equal_unit_price_times_quantity(mutate):
    report = validate_table(
        mutate("ContractedUnitPrice", 3, "0.6", "PricingCurrencyContractedUnitPrice", 3, "0.6")
    )
    [violation] = report.find("FOCUS-1.2/ContractedCost/matches-unit-price")
    assert violation.row == 3


def test_unit_price_product_tolerates_last_digit_rounding_and_corrections(mutate):
    assert validate_table(mutate("ListCost", 1, "15.00000000001")).ok
    assert validate_table(mutate("ListCost", 1, "16", "ChargeClass", 1, "Correction")).ok


@pytest.mark.parametrize("column", ["ListUnitPrice", "ContractedUnitPrice"])
def test_unit_prices_are_non_negative(mutate, column):
    cost = {"ListUnitPrice": "ListCost", "ContractedUnitPrice": "ContractedCost"}[column]
    report = validate_table(mutate(column, 3, "-0.5", cost, 3, "-3"))
    [violation] = report.find(f"FOCUS-1.2/{column}/non-negative")
    assert violation.row == 3
    assert not report.find(f"FOCUS-1.2/{cost}/matches-unit-price")


def test_commitment_purchase_has_zero_effective_cost(mutate):
    report = validate_table(mutate("EffectiveCost", 2, "1000"))
    [violation] = report.find("FOCUS-1.2/EffectiveCost/zero-for-commitment-purchase")
    assert violation.row == 2


def test_purchase_is_never_usage_based(mutate):
    report = validate_table(mutate("ChargeFrequency", 2, "Usage-Based"))
    [violation] = report.find("FOCUS-1.2/ChargeFrequency/not-usage-based-for-purchase")
    assert violation.row == 2


def test_service_name_has_one_category(mutate):
    report = validate_table(mutate("ServiceCategory", 4, "Other", "ServiceSubcategory", 4, "Other (Other)"))
    [violation] = report.find("FOCUS-1.2/ServiceName/single-category")
    assert (violation.row, violation.count) == (1, 4)
    assert "'Claude API'" in violation.message


def test_sku_price_id_has_one_sku(mutate):
    report = validate_table(mutate("SkuPriceId", 3, "claude-in-std"))
    [violation] = report.find("FOCUS-1.2/SkuPriceId/single-sku")
    assert (violation.row, violation.count) == (1, 2)
