"""When a column must hold a value and when it must not, alone or in step with another column."""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow.compute as pc

from comptroller.focus_validation.conditions import (
    NOT_CORRECTION,
    TAX,
    USAGE_OR_PURCHASE,
    Condition,
    Is,
    IsNot,
    IsNull,
    NotNull,
    all_of,
    any_of,
)
from comptroller.focus_validation.dataset import Dataset, clean
from comptroller.focus_validation.registry import Rule, register
from comptroller.focus_validation.report import Severity, Violation
from comptroller.ledger.schema import FOCUS_1_2_COLUMNS


@dataclass(frozen=True, kw_only=True)
class MustNotBeNull(Rule):
    """A row lacks a value the spec requires (always, or under ``when``).

    Nulls in these columns break the sums and joins FOCUS exists for: a null BilledCost drops
    money from the invoice reconciliation, a null ChargeCategory hides a row from every split.
    """

    when: Condition | None = None

    def check(self, data: Dataset) -> list[Violation]:
        bad = data.is_null(self.column)
        if self.when is not None:
            bad = clean(pc.and_(bad, self.when.mask(data)))
        return self.from_mask(bad, self.spec)


@dataclass(frozen=True, kw_only=True)
class MustBeNull(Rule):
    """A row carries a value where the spec says there is none (e.g., a unit price on a Tax row).

    A stray value here is usually a mapping bug upstream (a column copied to the wrong rows), and
    consumers that key on nullness (Tax rows have no price) would misclassify the row.
    """

    when: Condition

    def check(self, data: Dataset) -> list[Violation]:
        bad = clean(pc.and_(data.not_null(self.column), self.when.mask(data)))
        return self.from_mask(bad, self.spec)


@dataclass(frozen=True, kw_only=True)
class NullTogether(Rule):
    """A value and its companion (quantity and unit, id and name) are not null on the same rows.

    A quantity without its unit cannot be summed safely; a unit without a quantity is noise.
    """

    other: str

    def check(self, data: Dataset) -> list[Violation]:
        bad = clean(pc.xor(data.is_null(self.column), data.is_null(self.other)))
        return self.from_mask(bad, self.spec)


_REFS = {
    "BilledCost": "BilledCost-C-003-M",
    "BillingAccountId": "BillingAccountId-C-001-M",
    "BillingCurrency": "BillingCurrency-C-004-M",
    "BillingPeriodEnd": "BillingPeriodEnd-C-003-M",
    "BillingPeriodStart": "BillingPeriodStart-C-003-M",
    "ChargeCategory": "ChargeCategory-C-002-M",
    "ChargePeriodEnd": "ChargePeriodEnd-C-003-M",
    "ChargePeriodStart": "ChargePeriodStart-C-003-M",
    "ContractedCost": "ContractedCost-C-003-M",
    "EffectiveCost": "EffectiveCost-C-003-M",
    "InvoiceIssuerName": "InvoiceIssuerName-C-003-M",
    "ListCost": "ListCost-C-003-M",
    "ProviderName": "ProviderName-C-003-M",
    "PublisherName": "PublisherName-C-003-M",
    "ServiceCategory": "ServiceCategory-C-002-M",
    "ServiceName": "ServiceName-C-003-M",
}

# Not nullable whenever present, though the column itself is optional.
_NOT_NULL_WHEN_PRESENT = (
    ("ChargeFrequency", "ChargeFrequency-C-002-M"),
    ("ServiceSubcategory", "ServiceSubcategory-C-002-M"),
    ("PricingCurrency", "PricingCurrency-C-004-M"),
    ("PricingCurrencyEffectiveCost", "PricingCurrencyEffectiveCost-C-003-M"),
)


def _not_null_rules() -> list[Rule]:
    rules: list[Rule] = []
    for column in (c.name for c in FOCUS_1_2_COLUMNS if not c.nullable):
        rules.append(
            MustNotBeNull(
                rule_id=f"FOCUS-1.2/{column}/not-null",
                column=column,
                spec=f"{column} MUST NOT be null.",
                ref=_REFS.get(column, ""),
                requires=(column,),
            )
        )
    for column, ref in _NOT_NULL_WHEN_PRESENT:
        rules.append(
            MustNotBeNull(
                rule_id=f"FOCUS-1.2/{column}/not-null",
                column=column,
                spec=f"{column} MUST NOT be null.",
                ref=ref,
                requires=(column,),
            )
        )
    rules.append(
        MustNotBeNull(
            rule_id="FOCUS-1.2/ChargeDescription/not-null",
            column="ChargeDescription",
            spec="ChargeDescription SHOULD NOT be null.",
            ref="ChargeDescription-C-003-O",
            requires=("ChargeDescription",),
            severity=Severity.WARNING,
        )
    )
    return rules


# Columns that describe a price: absent on Tax rows, required on Usage/Purchase rows.
_PRICED = (
    ("ListUnitPrice", "ListUnitPrice-C-004-C", "ListUnitPrice-C-005-C"),
    ("ContractedUnitPrice", "ContractedUnitPrice-C-005-C", "ContractedUnitPrice-C-006-C"),
    ("PricingQuantity", "PricingQuantity-C-004-C", "PricingQuantity-C-005-C"),
    ("PricingCategory", "PricingCategory-C-003-C", "PricingCategory-C-004-C"),
    ("SkuId", "SkuId-C-004-C", "SkuId-C-005-C"),
    ("SkuPriceId", "SkuPriceId-C-004-C", "SkuPriceId-C-005-C"),
    (
        "PricingCurrencyListUnitPrice",
        "PricingCurrencyListUnitPrice-C-004-C",
        "PricingCurrencyListUnitPrice-C-005-C",
    ),
    (
        "PricingCurrencyContractedUnitPrice",
        "PricingCurrencyContractedUnitPrice-C-004-C",
        "PricingCurrencyContractedUnitPrice-C-005-C",
    ),
)


def _priced_rules() -> list[Rule]:
    rules: list[Rule] = []
    for column, tax_ref, usage_ref in _PRICED:
        rules.append(
            MustBeNull(
                rule_id=f"FOCUS-1.2/{column}/null-when-tax",
                column=column,
                spec=f'{column} MUST be null when ChargeCategory is "Tax".',
                ref=tax_ref,
                requires=(column, "ChargeCategory"),
                when=TAX,
            )
        )
        rules.append(
            MustNotBeNull(
                rule_id=f"FOCUS-1.2/{column}/not-null-for-usage-or-purchase",
                column=column,
                spec=f'{column} MUST NOT be null when ChargeCategory is "Usage" or "Purchase" '
                'and ChargeClass is not "Correction".',
                ref=usage_ref,
                requires=(column, "ChargeCategory"),
                when=all_of(USAGE_OR_PURCHASE, NOT_CORRECTION),
            )
        )
    return rules


# (column, companion): null exactly when the companion is null.
_PAIRS = (
    ("ConsumedUnit", "ConsumedQuantity", "ConsumedUnit-C-005-C, ConsumedUnit-C-006-C"),
    (
        "CommitmentDiscountUnit",
        "CommitmentDiscountQuantity",
        "CommitmentDiscountUnit-C-005-C, CommitmentDiscountUnit-C-006-C",
    ),
    ("PricingUnit", "PricingQuantity", "PricingUnit-C-005-C, PricingUnit-C-006-C"),
    ("ResourceType", "ResourceId", "ResourceType-C-004-C, ResourceType-C-005-C"),
    ("SubAccountName", "SubAccountId", "SubAccountName-C-004-C, SubAccountName-C-005-C"),
    ("SubAccountType", "SubAccountId", "SubAccountType-C-004-C, SubAccountType-C-005-C"),
    ("RegionName", "RegionId", "RegionName-C-004-C, RegionName-C-005-C"),
    ("BillingAccountType", "BillingAccountId", "BillingAccountType-C-004-C, BillingAccountType-C-005-C"),
)

# (column, parent, ref): must be null on rows where the parent identifier is null.
_NULL_WITH_PARENT = (
    ("CommitmentDiscountName", "CommitmentDiscountId", "CommitmentDiscountName-C-004-C"),
    ("CommitmentDiscountCategory", "CommitmentDiscountId", "CommitmentDiscountCategory-C-003-C"),
    ("CommitmentDiscountType", "CommitmentDiscountId", "CommitmentDiscountType-C-004-C"),
    ("CommitmentDiscountStatus", "CommitmentDiscountId", "CommitmentDiscountStatus-C-003-C"),
    ("CapacityReservationStatus", "CapacityReservationId", "CapacityReservationStatus-C-003-C"),
    ("SkuMeter", "SkuId", "SkuMeter-C-004-C"),
    ("SkuPriceDetails", "SkuPriceId", "SkuPriceDetails-C-004-C"),
    ("ResourceName", "ResourceId", "ResourceName-C-004-C"),
)


def _paired_rules() -> list[Rule]:
    rules: list[Rule] = []
    for column, other, ref in _PAIRS:
        rules.append(
            NullTogether(
                rule_id=f"FOCUS-1.2/{column}/null-with-{other}",
                column=column,
                spec=f"{column} MUST be null when {other} is null and MUST NOT be null when "
                f"{other} is not null.",
                ref=ref,
                requires=(column, other),
                other=other,
            )
        )
    for column, parent, ref in _NULL_WITH_PARENT:
        rules.append(
            MustBeNull(
                rule_id=f"FOCUS-1.2/{column}/null-when-{parent}-null",
                column=column,
                spec=f"{column} MUST be null when {parent} is null.",
                ref=ref,
                requires=(column, parent),
                when=IsNull(parent),
            )
        )
    return rules


_CD_USAGE = all_of(Is("ChargeCategory", ("Usage",)), IsNot("CommitmentDiscountStatus", ("Unused",)))


def _conditional_rules() -> list[Rule]:
    cd = NotNull("CommitmentDiscountId")
    return [
        *(
            MustNotBeNull(
                rule_id=f"FOCUS-1.2/{column}/not-null-with-CommitmentDiscountId",
                column=column,
                spec=f"{column} MUST NOT be null when CommitmentDiscountId is not null.",
                ref=ref,
                requires=(column, "CommitmentDiscountId"),
                when=cd,
            )
            for column, ref in (
                ("CommitmentDiscountCategory", "CommitmentDiscountCategory-C-004-C"),
                ("CommitmentDiscountType", "CommitmentDiscountType-C-005-C"),
            )
        ),
        MustNotBeNull(
            rule_id="FOCUS-1.2/CommitmentDiscountStatus/not-null-for-commitment-usage",
            column="CommitmentDiscountStatus",
            spec="CommitmentDiscountStatus MUST NOT be null when CommitmentDiscountId is not null "
            'and ChargeCategory is "Usage".',
            ref="CommitmentDiscountStatus-C-004-C",
            requires=("CommitmentDiscountStatus", "CommitmentDiscountId", "ChargeCategory"),
            when=all_of(cd, Is("ChargeCategory", ("Usage",))),
        ),
        MustNotBeNull(
            rule_id="FOCUS-1.2/CapacityReservationStatus/not-null-for-reservation-usage",
            column="CapacityReservationStatus",
            spec="CapacityReservationStatus MUST NOT be null when CapacityReservationId is not null "
            'and ChargeCategory is "Usage".',
            ref="CapacityReservationStatus-C-004-C",
            requires=("CapacityReservationStatus", "CapacityReservationId", "ChargeCategory"),
            when=all_of(NotNull("CapacityReservationId"), Is("ChargeCategory", ("Usage",))),
        ),
        MustNotBeNull(
            rule_id="FOCUS-1.2/CapacityReservationId/not-null-when-unused",
            column="CapacityReservationId",
            spec="CapacityReservationId MUST NOT be null when a charge represents the unused "
            'portion of a capacity reservation (CapacityReservationStatus is "Unused").',
            ref="CapacityReservationId-C-005-C",
            requires=("CapacityReservationId", "CapacityReservationStatus"),
            when=Is("CapacityReservationStatus", ("Unused",)),
        ),
        MustNotBeNull(
            rule_id="FOCUS-1.2/SkuMeter/not-null-with-SkuId",
            column="SkuMeter",
            spec="SkuMeter SHOULD NOT be null when SkuId is not null.",
            ref="SkuMeter-C-005-C",
            requires=("SkuMeter", "SkuId"),
            when=NotNull("SkuId"),
            severity=Severity.WARNING,
        ),
        MustBeNull(
            rule_id="FOCUS-1.2/ConsumedQuantity/null-unless-usage",
            column="ConsumedQuantity",
            spec='ConsumedQuantity MUST be null when ChargeCategory is not "Usage", or when '
            'ChargeCategory is "Usage" and CommitmentDiscountStatus is "Unused".',
            ref="ConsumedQuantity-C-004-C",
            requires=("ConsumedQuantity", "ChargeCategory"),
            when=any_of(IsNot("ChargeCategory", ("Usage",)), Is("CommitmentDiscountStatus", ("Unused",))),
        ),
        MustNotBeNull(
            rule_id="FOCUS-1.2/ConsumedQuantity/not-null-for-usage",
            column="ConsumedQuantity",
            spec='ConsumedQuantity MUST NOT be null when ChargeCategory is "Usage", '
            'CommitmentDiscountStatus is not "Unused" and ChargeClass is not "Correction".',
            ref="ConsumedQuantity-C-006-C",
            requires=("ConsumedQuantity", "ChargeCategory"),
            when=all_of(_CD_USAGE, NOT_CORRECTION),
        ),
        MustNotBeNull(
            rule_id="FOCUS-1.2/CommitmentDiscountQuantity/not-null-for-commitment-charges",
            column="CommitmentDiscountQuantity",
            spec='CommitmentDiscountQuantity MUST NOT be null when ChargeCategory is "Usage" or '
            '"Purchase", CommitmentDiscountId is not null and ChargeClass is not "Correction".',
            ref="CommitmentDiscountQuantity-C-005-C",
            requires=("CommitmentDiscountQuantity", "CommitmentDiscountId", "ChargeCategory"),
            when=all_of(USAGE_OR_PURCHASE, cd, NOT_CORRECTION),
        ),
        MustBeNull(
            rule_id="FOCUS-1.2/CommitmentDiscountQuantity/null-for-other-charges",
            column="CommitmentDiscountQuantity",
            spec='CommitmentDiscountQuantity MUST be null when ChargeCategory is not "Usage" or '
            '"Purchase", or when CommitmentDiscountId is null.',
            ref="CommitmentDiscountQuantity-C-007-C",
            requires=("CommitmentDiscountQuantity", "CommitmentDiscountId", "ChargeCategory"),
            when=any_of(IsNot("ChargeCategory", ("Usage", "Purchase")), IsNull("CommitmentDiscountId")),
        ),
    ]


register(*_not_null_rules(), *_priced_rules(), *_paired_rules(), *_conditional_rules())
