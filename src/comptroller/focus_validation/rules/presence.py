"""Which columns a dataset must, should, or (given its other columns) is obliged to carry."""

from __future__ import annotations

from dataclasses import dataclass

from comptroller.focus_validation.dataset import Dataset
from comptroller.focus_validation.registry import Rule, register
from comptroller.focus_validation.report import Severity, Violation
from comptroller.focus_validation.spec import columns_with
from comptroller.ledger.schema import Requirement

# CostAndUsage-D-0xx presence rules of the 1.2 requirements model, by column.
MODEL_REF: dict[str, str] = {
    "AvailabilityZone": "CostAndUsage-D-003-C",
    "BillingAccountName": "CostAndUsage-D-005-M",
    "BilledCost": "CostAndUsage-D-006-M",
    "ChargeCategory": "CostAndUsage-D-008-M",
    "BillingPeriodStart": "CostAndUsage-D-009-M",
    "BillingPeriodEnd": "CostAndUsage-D-010-M",
    "ConsumedQuantity": "CostAndUsage-D-011-C",
    "CommitmentDiscountName": "CostAndUsage-D-012-C",
    "CommitmentDiscountId": "CostAndUsage-D-013-C",
    "CommitmentDiscountType": "CostAndUsage-D-014-C",
    "CommitmentDiscountUnit": "CostAndUsage-D-015-C",
    "CommitmentDiscountCategory": "CostAndUsage-D-016-C",
    "CommitmentDiscountStatus": "CostAndUsage-D-017-C",
    "CommitmentDiscountQuantity": "CostAndUsage-D-018-C",
    "SubAccountId": "CostAndUsage-D-019-C",
    "CapacityReservationStatus": "CostAndUsage-D-020-C",
    "PublisherName": "CostAndUsage-D-021-M",
    "InvoiceIssuerName": "CostAndUsage-D-023-M",
    "BillingAccountId": "CostAndUsage-D-024-M",
    "ChargeDescription": "CostAndUsage-D-025-M",
    "ChargeClass": "CostAndUsage-D-026-M",
    "ChargeFrequency": "CostAndUsage-D-027-O",
    "ChargePeriodEnd": "CostAndUsage-D-028-M",
    "SubAccountName": "CostAndUsage-D-029-C",
    "ContractedCost": "CostAndUsage-D-030-M",
    "EffectiveCost": "CostAndUsage-D-031-M",
    "ListCost": "CostAndUsage-D-032-M",
    "InvoiceId": "CostAndUsage-D-033-O",
    "BillingCurrency": "CostAndUsage-D-035-M",
    "PricingQuantity": "CostAndUsage-D-036-M",
    "ChargePeriodStart": "CostAndUsage-D-037-M",
    "ProviderName": "CostAndUsage-D-038-M",
    "ServiceCategory": "CostAndUsage-D-040-M",
    "ServiceName": "CostAndUsage-D-041-M",
    "ServiceSubcategory": "CostAndUsage-D-042-O",
    "ResourceId": "CostAndUsage-D-043-C",
    "ResourceName": "CostAndUsage-D-044-C",
    "PricingCurrency": "CostAndUsage-D-045-C",
    "SkuPriceId": "CostAndUsage-D-058-C",
    "SkuMeter": "CostAndUsage-D-059-C",
    "SkuId": "CostAndUsage-D-060-C",
    "SkuPriceDetails": "CostAndUsage-D-061-C",
    "RegionName": "CostAndUsage-D-062-C",
    "RegionId": "CostAndUsage-D-063-C",
    "CapacityReservationId": "CostAndUsage-D-065-C",
    "ConsumedUnit": "CostAndUsage-D-066-C",
    "PricingUnit": "CostAndUsage-D-068-M",
}

COMMITMENT_COLUMNS = (
    "CommitmentDiscountId",
    "CommitmentDiscountName",
    "CommitmentDiscountType",
    "CommitmentDiscountCategory",
    "CommitmentDiscountStatus",
    "CommitmentDiscountQuantity",
    "CommitmentDiscountUnit",
)
SKU_COLUMNS = ("SkuId", "SkuMeter", "SkuPriceId", "SkuPriceDetails")

# Conditional columns share a provider capability ("supports commitment discounts", ...). A dataset
# that carries one column of a capability has shown the capability exists, so the spec then
# requires the rest: (capability wording, columns that reveal it, columns it makes mandatory).
CAPABILITIES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "the provider supports the measurement of usage",
        ("ConsumedQuantity", "ConsumedUnit"),
        ("ConsumedQuantity", "ConsumedUnit"),
    ),
    (
        "the provider supports commitment discounts",
        COMMITMENT_COLUMNS,
        COMMITMENT_COLUMNS,
    ),
    (
        "the provider supports capacity reservations",
        ("CapacityReservationId", "CapacityReservationStatus"),
        ("CapacityReservationId", "CapacityReservationStatus"),
    ),
    (
        "the provider supports a sub account construct",
        ("SubAccountId", "SubAccountName", "SubAccountType"),
        ("SubAccountId", "SubAccountName"),
    ),
    (
        "the provider supports deploying resources or services within a region",
        ("RegionId", "RegionName"),
        ("RegionId", "RegionName"),
    ),
    (
        "the provider supports unit pricing concepts and publishes price lists",
        SKU_COLUMNS,
        SKU_COLUMNS,
    ),
    (
        "the provider supports billing based on provisioned resources",
        ("ResourceId", "ResourceName", "ResourceType"),
        ("ResourceId", "ResourceName"),
    ),
    (
        "the provider prices in a currency other than the billing currency",
        (
            "PricingCurrencyListUnitPrice",
            "PricingCurrencyContractedUnitPrice",
            "PricingCurrencyEffectiveCost",
        ),
        ("PricingCurrency",),
    ),
)


@dataclass(frozen=True, kw_only=True)
class ColumnPresent(Rule):
    """The column is absent although the dataset must (or should) carry it.

    Consumers query FOCUS columns by name across providers, so a missing Mandatory column makes the
    dataset unusable for them; a missing Recommended column only costs fidelity and warns.
    For a Conditional column, ``revealed_by`` lists sibling columns whose presence proves the
    provider capability that makes this column mandatory.
    """

    revealed_by: tuple[str, ...] = ()
    capability: str = ""

    def check(self, data: Dataset) -> list[Violation]:
        if data.has(self.column):
            return []
        if not self.revealed_by:
            return [self.violation(f"{self.spec} The column is missing.")]
        present = [c for c in self.revealed_by if data.has(c)]
        if not present:
            return []
        return [
            self.violation(
                f"{self.column} is missing although {', '.join(present)} is present, which shows "
                f"{self.capability}; {self.spec}"
            )
        ]


def _build() -> list[ColumnPresent]:
    rules = []
    for column in columns_with("1.2", Requirement.MANDATORY):
        rules.append(
            ColumnPresent(
                rule_id=f"FOCUS-1.2/{column}/present",
                column=column,
                spec=f"{column} MUST be present in a FOCUS dataset.",
                ref=MODEL_REF.get(column, ""),
            )
        )
    for column in columns_with("1.2", Requirement.RECOMMENDED):
        rules.append(
            ColumnPresent(
                rule_id=f"FOCUS-1.2/{column}/present",
                column=column,
                spec=f"{column} is RECOMMENDED to be present in a FOCUS dataset.",
                ref=MODEL_REF.get(column, ""),
                severity=Severity.WARNING,
            )
        )
    seen: dict[str, ColumnPresent] = {}
    for capability, revealing, required in CAPABILITIES:
        for column in required:
            others = tuple(c for c in revealing if c != column)
            if column in seen:  # a column revealed by two capabilities keeps both triggers
                prev = seen[column]
                others = tuple(dict.fromkeys(prev.revealed_by + others))
            seen[column] = ColumnPresent(
                rule_id=f"FOCUS-1.2/{column}/present",
                column=column,
                spec=f"{column} MUST be present in a FOCUS dataset when {capability}.",
                ref=MODEL_REF.get(column, ""),
                revealed_by=others,
                capability=capability,
            )
    return rules + list(seen.values())


register(*_build())
