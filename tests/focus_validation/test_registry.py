"""The registry, rule metadata and the report's summary."""

from __future__ import annotations

import pytest

from comptroller.focus_validation import REGISTRY, RuleRegistry, Severity, Violation, validate_table
from comptroller.focus_validation.registry import RULE_ID
from comptroller.focus_validation.rules.nullability import MustNotBeNull

# Rule families the brief asks for, by one representative id each.
REQUIRED_IDS = [
    "FOCUS-1.2/BilledCost/present",
    "FOCUS-1.2/ServiceSubcategory/present",
    "FOCUS-1.2/BilledCost/not-null",
    "FOCUS-1.2/ChargeCategory/allowed-values",
    "FOCUS-1.2/ChargeClass/allowed-values",
    "FOCUS-1.2/ChargeFrequency/allowed-values",
    "FOCUS-1.2/PricingCategory/allowed-values",
    "FOCUS-1.2/CommitmentDiscountCategory/allowed-values",
    "FOCUS-1.2/CommitmentDiscountStatus/allowed-values",
    "FOCUS-1.2/CapacityReservationStatus/allowed-values",
    "FOCUS-1.2/ServiceCategory/allowed-values",
    "FOCUS-1.2/ServiceSubcategory/allowed-values",
    "FOCUS-1.2/ServiceSubcategory/parent-category",
    "FOCUS-1.2/BillingCurrency/iso-4217",
    "FOCUS-1.2/PricingCurrency/iso-4217",
    "FOCUS-1.2/ChargePeriodStart/datetime-format",
    "FOCUS-1.2/BilledCost/numeric-format",
    "FOCUS-1.2/Tags/key-value-format",
    "FOCUS-1.2/SkuPriceDetails/custom-key-prefix",
    "FOCUS-1.2/ChargePeriodEnd/after-start",
    "FOCUS-1.2/BillingPeriodEnd/after-start",
    "FOCUS-1.2/ConsumedUnit/null-with-ConsumedQuantity",
    "FOCUS-1.2/CommitmentDiscountName/null-when-CommitmentDiscountId-null",
    "FOCUS-1.2/CommitmentDiscountUnit/null-with-CommitmentDiscountQuantity",
    "FOCUS-1.2/PricingUnit/null-with-PricingQuantity",
    "FOCUS-1.2/ListUnitPrice/null-when-tax",
    "FOCUS-1.2/PricingQuantity/null-when-tax",
    "FOCUS-1.2/EffectiveCost/zero-for-commitment-purchase",
    "FOCUS-1.2/ColumnHandling/custom-prefix",
]


def test_required_rule_families_are_registered():
    assert set(REQUIRED_IDS) <= set(REGISTRY.ids())


def test_every_rule_has_a_wellformed_id_and_cites_the_spec():
    for rule in REGISTRY:
        assert RULE_ID.match(rule.rule_id), rule.rule_id
        assert (
            "MUST" in rule.spec
            or "SHOULD" in rule.spec
            or "RECOMMENDED" in rule.spec
            or rule.severity is Severity.WARNING
        ), rule.rule_id
        assert type(rule).__doc__, f"{type(rule).__name__} lacks a docstring"
        assert rule.__doc__.startswith(rule.spec)


def test_registry_refuses_duplicates_and_bad_ids():
    registry = RuleRegistry()
    rule = MustNotBeNull(rule_id="FOCUS-1.2/X/not-null", column="X", spec="X MUST NOT be null.")
    registry.register(rule)
    with pytest.raises(ValueError, match="twice"):
        registry.register(rule)
    with pytest.raises(ValueError, match="form"):
        registry.register(MustNotBeNull(rule_id="x-not-null", column="X", spec="X MUST NOT be null."))
    with pytest.raises(ValueError, match="cite"):
        registry.register(MustNotBeNull(rule_id="FOCUS-1.2/Y/not-null", column="Y", spec=" "))
    with pytest.raises(KeyError, match="no rule"):
        registry.get("FOCUS-1.2/Z/not-null")


def test_summary_puts_verdict_and_errors_first(mutate):
    report = validate_table(mutate("BilledCost", 2, None, "ChargeDescription", 3, None))
    lines = report.summary().splitlines()
    assert "does NOT conform" in lines[0]
    assert "1 error(s), 1 warning(s)" in lines[0]
    assert lines[1].strip().startswith("ERROR") and "FOCUS-1.2/BilledCost/not-null" in lines[1]
    assert "first at row 2" in lines[1]
    assert lines[2].strip().startswith("WARNING")


def test_violation_text_names_rule_column_and_row():
    text = str(Violation("FOCUS-1.2/BilledCost/not-null", "BilledCost", "BilledCost MUST NOT be null.", 7, 3))
    assert text.startswith("ERROR")
    assert "[BilledCost]" in text and "3 row(s), first at row 7" in text
