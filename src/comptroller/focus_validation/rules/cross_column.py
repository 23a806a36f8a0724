"""Rules that relate columns within a row (periods, unit-price arithmetic) or across rows."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc

from comptroller.focus_validation.conditions import NOT_CORRECTION, Condition, Is, NotNull, all_of
from comptroller.focus_validation.dataset import Dataset, clean
from comptroller.focus_validation.registry import Rule, register
from comptroller.focus_validation.report import Severity, Violation
from comptroller.focus_validation.rules.values import sample

ABS_TOLERANCE = 1e-6
"""Slack for unit price x quantity = cost: decimals arrive with 11+ places and are compared as
float64, so exact equality would flag rounding in the last digit, which the spec does not mean."""
REL_TOLERANCE = 1e-9


@dataclass(frozen=True, kw_only=True)
class PeriodOrder(Rule):
    """A period ends at or before it starts.

    Starts are inclusive and ends exclusive, so end <= start is an empty or inverted period; time
    bucketing and proration then divide by zero or count charges negatively.
    """

    start: str

    def check(self, data: Dataset) -> list[Violation]:
        bad = clean(pc.less_equal(data.timestamps(self.column), data.timestamps(self.start)))
        return self.from_mask(bad, self.spec)


@dataclass(frozen=True, kw_only=True)
class ChargeStartInBillingPeriod(Rule):
    """A non-correction charge starts outside its billing period.

    The spec does not demand this in so many words, but BillingPeriod is the invoice window the
    charge belongs to; outside corrections, a charge starting elsewhere is usually a period
    mapping bug. Upfront purchases may span past the billing end, so only the start is checked.
    """

    def check(self, data: Dataset) -> list[Violation]:
        start = data.timestamps("ChargePeriodStart")
        outside = pc.or_(
            pc.less(start, data.timestamps("BillingPeriodStart")),
            pc.greater_equal(start, data.timestamps("BillingPeriodEnd")),
        )
        bad = clean(pc.and_(clean(outside), NOT_CORRECTION.mask(data)))
        return self.from_mask(bad, self.spec)


@dataclass(frozen=True, kw_only=True)
class UnitPriceProduct(Rule):
    """unit price x PricingQuantity does not give the cost it prices.

    List and contracted costs are defined as this product; when it fails, savings
    (ListCost - EffectiveCost) and rate analyses are computed from inconsistent numbers.
    """

    unit_price: str

    def check(self, data: Dataset) -> list[Violation]:
        price = data.numbers(self.unit_price)
        quantity = data.numbers("PricingQuantity")
        cost = data.numbers(self.column)
        diff = pc.abs(pc.subtract(pc.multiply(price, quantity), cost))
        tolerance = pc.add(pc.multiply(pc.abs(cost), REL_TOLERANCE), ABS_TOLERANCE)
        applies = all_of(NotNull(self.unit_price), NotNull("PricingQuantity"), NOT_CORRECTION)
        bad = clean(pc.and_(clean(pc.greater(diff, tolerance)), applies.mask(data)))
        return self.from_mask(bad, self.spec)


@dataclass(frozen=True, kw_only=True)
class NonNegative(Rule):
    """A unit price is negative; discounts and refunds belong in costs or Credit rows, not prices."""

    def check(self, data: Dataset) -> list[Violation]:
        bad = clean(pc.less(data.numbers(self.column), 0))
        return self.from_mask(bad, self.spec)


@dataclass(frozen=True, kw_only=True)
class ZeroEffectiveCost(Rule):
    """A commitment purchase carries EffectiveCost, which counts the commitment twice.

    EffectiveCost amortizes the purchase into the usage rows it covers; keeping it on the Purchase
    row as well double-counts it in every showback.
    """

    when: Condition

    def check(self, data: Dataset) -> list[Violation]:
        bad = clean(pc.and_(clean(pc.not_equal(data.numbers("EffectiveCost"), 0)), self.when.mask(data)))
        return self.from_mask(bad, self.spec)


@dataclass(frozen=True, kw_only=True)
class ForbiddenValue(Rule):
    """A value the spec rules out under a condition (a Purchase billed as "Usage-Based")."""

    value: str
    when: Condition

    def check(self, data: Dataset) -> list[Violation]:
        bad = clean(pc.and_(data.equals(self.column, self.value), self.when.mask(data)))
        return self.from_mask(bad, self.spec)


@dataclass(frozen=True, kw_only=True)
class SingleParent(Rule):
    """One value of ``column`` maps to several values of ``parent`` across the dataset.

    A ServiceName filed under two categories (or a SkuPriceId under two SKUs) splits the same
    thing across groups, so category and SKU roll-ups no longer add up.
    """

    parent: str

    def check(self, data: Dataset) -> list[Violation]:
        child = data.strings(self.column)
        pairs = pa.table({"child": child, "parent": data.strings(self.parent)}).filter(pc.is_valid(child))
        counts = pairs.group_by("child").aggregate([("parent", "count_distinct")])
        ambiguous = counts.filter(pc.greater(counts["parent_count_distinct"], 1))["child"]
        if len(ambiguous) == 0:
            return []
        bad = clean(pc.is_in(child, ambiguous))
        return self.from_mask(bad, f"{self.spec} Ambiguous: {sample(child, bad)}.")


def _unit_price_rules() -> list[Rule]:
    rules: list[Rule] = []
    for cost, price, ref in (
        ("ListCost", "ListUnitPrice", "ListCost-C-009-C, ListUnitPrice-C-010-C"),
        ("ContractedCost", "ContractedUnitPrice", "ContractedCost-C-009-C, ContractedUnitPrice-C-011-C"),
    ):
        rules.append(
            UnitPriceProduct(
                rule_id=f"FOCUS-1.2/{cost}/matches-unit-price",
                column=cost,
                spec=f"The product of {price} and PricingQuantity MUST match the {cost} when {price} "
                'is not null, PricingQuantity is not null, and ChargeClass is not "Correction".',
                ref=ref,
                requires=(cost, price, "PricingQuantity"),
                unit_price=price,
            )
        )
    for column in (
        "ListUnitPrice",
        "ContractedUnitPrice",
        "PricingCurrencyListUnitPrice",
        "PricingCurrencyContractedUnitPrice",
    ):
        rules.append(
            NonNegative(
                rule_id=f"FOCUS-1.2/{column}/non-negative",
                column=column,
                spec=f"{column} MUST be a non-negative decimal value.",
                ref=f"{column}-C-008-M"
                if "Currency" in column or column == "ListUnitPrice"
                else f"{column}-C-009-C",
                requires=(column,),
            )
        )
    return rules


register(
    PeriodOrder(
        rule_id="FOCUS-1.2/ChargePeriodEnd/after-start",
        column="ChargePeriodEnd",
        spec="ChargePeriodEnd (exclusive end bound) MUST be later than ChargePeriodStart "
        "(inclusive start bound) of the effective period of the charge.",
        ref="ChargePeriodStart-C-004-M, ChargePeriodEnd-C-004-M",
        requires=("ChargePeriodStart", "ChargePeriodEnd"),
        start="ChargePeriodStart",
    ),
    PeriodOrder(
        rule_id="FOCUS-1.2/BillingPeriodEnd/after-start",
        column="BillingPeriodEnd",
        spec="BillingPeriodEnd (exclusive end bound) MUST be later than BillingPeriodStart "
        "(inclusive start bound) of the billing period.",
        ref="BillingPeriodStart-C-004-M, BillingPeriodEnd-C-004-M",
        requires=("BillingPeriodStart", "BillingPeriodEnd"),
        start="BillingPeriodStart",
    ),
    ChargeStartInBillingPeriod(
        rule_id="FOCUS-1.2/ChargePeriodStart/within-billing-period",
        column="ChargePeriodStart",
        spec="ChargePeriodStart of a row that is not a correction is expected to fall within its "
        "billing period [BillingPeriodStart, BillingPeriodEnd) (a consistency check, not a MUST).",
        requires=("ChargePeriodStart", "BillingPeriodStart", "BillingPeriodEnd"),
        severity=Severity.WARNING,
    ),
    *_unit_price_rules(),
    ZeroEffectiveCost(
        rule_id="FOCUS-1.2/EffectiveCost/zero-for-commitment-purchase",
        column="EffectiveCost",
        spec='EffectiveCost MUST be 0 when ChargeCategory is "Purchase" and the purchase is '
        "intended to cover future eligible charges (checked on commitment discount purchases, "
        "where that intent is certain).",
        ref="EffectiveCost-C-005-C",
        requires=("EffectiveCost", "ChargeCategory", "CommitmentDiscountId"),
        when=all_of(Is("ChargeCategory", ("Purchase",)), NotNull("CommitmentDiscountId")),
    ),
    ForbiddenValue(
        rule_id="FOCUS-1.2/ChargeFrequency/not-usage-based-for-purchase",
        column="ChargeFrequency",
        spec='ChargeFrequency MUST NOT be "Usage-Based" when ChargeCategory is "Purchase".',
        ref="ChargeFrequency-C-004-C",
        requires=("ChargeFrequency", "ChargeCategory"),
        value="Usage-Based",
        when=Is("ChargeCategory", ("Purchase",)),
    ),
    SingleParent(
        rule_id="FOCUS-1.2/ServiceName/single-category",
        column="ServiceName",
        spec="ServiceName MUST have one and only one ServiceCategory.",
        ref="ServiceName-C-005-C",
        requires=("ServiceName", "ServiceCategory"),
        parent="ServiceCategory",
    ),
    SingleParent(
        rule_id="FOCUS-1.2/SkuPriceId/single-sku",
        column="SkuPriceId",
        spec="SkuPriceId MUST have one and only one parent SkuId.",
        ref="SkuPriceId-C-008-M",
        requires=("SkuPriceId", "SkuId"),
        parent="SkuId",
    ),
)
