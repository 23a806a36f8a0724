"""When values must and must not be null: alone, by ChargeCategory, and with companion columns."""

from __future__ import annotations

import pytest

from comptroller.focus_validation import Severity, validate_table

NOT_NULLABLE = [
    "BilledCost",
    "BillingAccountId",
    "BillingCurrency",
    "BillingPeriodStart",
    "BillingPeriodEnd",
    "ChargeCategory",
    "ChargePeriodStart",
    "ChargePeriodEnd",
    "ContractedCost",
    "EffectiveCost",
    "InvoiceIssuerName",
    "ListCost",
    "ProviderName",
    "PublisherName",
    "ServiceCategory",
    "ServiceName",
    # optional columns that, once present, must be filled
    "ChargeFrequency",
    "ServiceSubcategory",
    "PricingCurrency",
    "PricingCurrencyEffectiveCost",
]


@pytest.mark.parametrize("column", NOT_NULLABLE)
def test_not_nullable_column_with_null(mutate, column):
    report = validate_table(mutate(column, 2, None))
    [violation] = report.find(f"FOCUS-1.2/{column}/not-null")
    assert (violation.row, violation.count, violation.severity) == (2, 1, Severity.ERROR)


def test_null_charge_description_only_warns(mutate):
    report = validate_table(mutate("ChargeDescription", 1, None))
    [violation] = report.find("FOCUS-1.2/ChargeDescription/not-null")
    assert violation.severity is Severity.WARNING
    assert report.ok


@pytest.mark.parametrize(
    ("column", "value"),
    [
        ("ListUnitPrice", "1"),
        ("ContractedUnitPrice", "1"),
        ("PricingQuantity", "1"),
        ("PricingCategory", "Standard"),
        ("SkuId", "tax-sku"),
        ("SkuPriceId", "tax-price"),
        ("PricingCurrencyListUnitPrice", "1"),
        ("PricingCurrencyContractedUnitPrice", "1"),
    ],
)
def test_price_columns_must_be_null_on_tax_rows(mutate, column, value):
    [violation] = validate_table(mutate(column, 4, value)).find(f"FOCUS-1.2/{column}/null-when-tax")
    assert violation.row == 4


@pytest.mark.parametrize(
    "column",
    [
        "ListUnitPrice",
        "ContractedUnitPrice",
        "PricingQuantity",
        "PricingCategory",
        "SkuId",
        "SkuPriceId",
        "PricingCurrencyListUnitPrice",
        "PricingCurrencyContractedUnitPrice",
    ],
)
def test_price_columns_required_on_usage_and_purchase_rows(mutate, column):
    rule = f"FOCUS-1.2/{column}/not-null-for-usage-or-purchase"
    [violation] = validate_table(mutate(column, 2, None)).find(rule)
    assert violation.row == 2
    # A correction may lack them.
    assert not validate_table(mutate(column, 2, None, "ChargeClass", 2, "Correction")).find(rule)


@pytest.mark.parametrize(
    ("edits", "rule_id", "row"),
    [
        (("ConsumedUnit", 1, None), "FOCUS-1.2/ConsumedUnit/null-with-ConsumedQuantity", 1),
        (("PricingUnit", 4, "Tokens"), "FOCUS-1.2/PricingUnit/null-with-PricingQuantity", 4),
        (
            ("CommitmentDiscountUnit", 3, None),
            "FOCUS-1.2/CommitmentDiscountUnit/null-with-CommitmentDiscountQuantity",
            3,
        ),
        (("ResourceType", 4, "API Key"), "FOCUS-1.2/ResourceType/null-with-ResourceId", 4),
        (("SubAccountName", 2, None), "FOCUS-1.2/SubAccountName/null-with-SubAccountId", 2),
        (("SubAccountType", 1, None), "FOCUS-1.2/SubAccountType/null-with-SubAccountId", 1),
        (("RegionName", 3, None), "FOCUS-1.2/RegionName/null-with-RegionId", 3),
        (("BillingAccountType", 3, None), "FOCUS-1.2/BillingAccountType/null-with-BillingAccountId", 3),
        (
            ("CommitmentDiscountName", 1, "x"),
            "FOCUS-1.2/CommitmentDiscountName/null-when-CommitmentDiscountId-null",
            1,
        ),
        (
            ("CommitmentDiscountType", 4, "x"),
            "FOCUS-1.2/CommitmentDiscountType/null-when-CommitmentDiscountId-null",
            4,
        ),
        (
            ("CommitmentDiscountCategory", 1, "Spend"),
            "FOCUS-1.2/CommitmentDiscountCategory/null-when-CommitmentDiscountId-null",
            1,
        ),
        (
            ("CommitmentDiscountStatus", 1, "Used"),
            "FOCUS-1.2/CommitmentDiscountStatus/null-when-CommitmentDiscountId-null",
            1,
        ),
        (("SkuMeter", 4, "Tax"), "FOCUS-1.2/SkuMeter/null-when-SkuId-null", 4),
        (("SkuPriceDetails", 4, "{}"), "FOCUS-1.2/SkuPriceDetails/null-when-SkuPriceId-null", 4),
        (("ResourceName", 4, "orphan"), "FOCUS-1.2/ResourceName/null-when-ResourceId-null", 4),
        (
            ("CapacityReservationStatus", 1, "Used"),
            "FOCUS-1.2/CapacityReservationStatus/null-when-CapacityReservationId-null",
            1,
        ),
        (
            ("CommitmentDiscountCategory", 3, None),
            "FOCUS-1.2/CommitmentDiscountCategory/not-null-with-CommitmentDiscountId",
            3,
        ),
        (
            ("CommitmentDiscountType", 2, None),
            "FOCUS-1.2/CommitmentDiscountType/not-null-with-CommitmentDiscountId",
            2,
        ),
        (
            ("CommitmentDiscountStatus", 3, None),
            "FOCUS-1.2/CommitmentDiscountStatus/not-null-for-commitment-usage",
            3,
        ),
        (
            ("CapacityReservationId", 1, "cr-1"),
            "FOCUS-1.2/CapacityReservationStatus/not-null-for-reservation-usage",
            1,
        ),
        (
            ("CapacityReservationStatus", 1, "Unused"),
            "FOCUS-1.2/CapacityReservationId/not-null-when-unused",
            1,
        ),
        (
            ("ConsumedQuantity", 2, "1", "ConsumedUnit", 2, "Tokens"),
            "FOCUS-1.2/ConsumedQuantity/null-unless-usage",
            2,
        ),
        (("CommitmentDiscountStatus", 3, "Unused"), "FOCUS-1.2/ConsumedQuantity/null-unless-usage", 3),
        (
            ("ConsumedQuantity", 1, None, "ConsumedUnit", 1, None),
            "FOCUS-1.2/ConsumedQuantity/not-null-for-usage",
            1,
        ),
        (
            ("CommitmentDiscountQuantity", 3, None, "CommitmentDiscountUnit", 3, None),
            "FOCUS-1.2/CommitmentDiscountQuantity/not-null-for-commitment-charges",
            3,
        ),
        (
            ("CommitmentDiscountQuantity", 1, "5", "CommitmentDiscountUnit", 1, "USD"),
            "FOCUS-1.2/CommitmentDiscountQuantity/null-for-other-charges",
            1,
        ),
    ],
)
def test_conditional_nullability(mutate, edits, rule_id, row):
    report = validate_table(mutate(*edits))
    [violation] = report.find(rule_id)
    assert (violation.row, violation.count, violation.severity) == (row, 1, Severity.ERROR)
    assert not report.ok


def test_sku_meter_missing_for_a_sku_only_warns(mutate):
    report = validate_table(mutate("SkuMeter", 1, None))
    [violation] = report.find("FOCUS-1.2/SkuMeter/not-null-with-SkuId")
    assert violation.severity is Severity.WARNING
    assert report.ok


def test_corrections_may_lack_consumed_quantity(mutate):
    edits = ("ConsumedQuantity", 1, None, "ConsumedUnit", 1, None, "ChargeClass", 1, "Correction")
    assert not validate_table(mutate(*edits)).find("FOCUS-1.2/ConsumedQuantity/not-null-for-usage")
