"""A small FOCUS 1.2 table that passes every rule; each test breaks one field of it.

Rows (1-based as reported): 1 model-API usage, 2 commitment purchase, 3 usage covered by the
commitment, 4 tax. Cells are strings, as a CSV export would carry them.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pyarrow as pa
import pytest

from comptroller.ledger.schema import FOCUS_1_2_COLUMNS

BP = {"BillingPeriodStart": "2024-01-01T00:00:00Z", "BillingPeriodEnd": "2024-02-01T00:00:00Z"}
COMMON: dict[str, Any] = {
    **BP,
    "AvailabilityZone": None,
    "BillingAccountId": "acct-1",
    "BillingAccountName": "Main account",
    "BillingAccountType": "Billing Account",
    "BillingCurrency": "USD",
    "CapacityReservationId": None,
    "CapacityReservationStatus": None,
    "ChargeClass": None,
    "InvoiceId": "INV-2024-01",
    "InvoiceIssuerName": "Anthropic",
    "ProviderName": "Anthropic",
    "PublisherName": "Anthropic",
    "RegionId": "us-east-1",
    "RegionName": "US East",
    "ServiceCategory": "AI and Machine Learning",
    "ServiceSubcategory": "Generative AI",
    "ServiceName": "Claude API",
    "SubAccountId": "ws-1",
    "SubAccountName": "Search team",
    "SubAccountType": "Workspace",
    "PricingCurrency": "USD",
    "Tags": '{"team": "search", "env": "prod"}',
}
NO_COMMITMENT = {k: None for k in ("Id", "Name", "Type", "Category", "Status", "Quantity", "Unit")}

ROWS: list[dict[str, Any]] = [
    {  # 1: usage of a model API, list price
        "ChargeCategory": "Usage",
        "ChargeDescription": "Input tokens",
        "ChargeFrequency": "Usage-Based",
        "ChargePeriodStart": "2024-01-05T00:00:00Z",
        "ChargePeriodEnd": "2024-01-06T00:00:00Z",
        "BilledCost": "12.5",
        "EffectiveCost": "12.5",
        "ListCost": "15",
        "ContractedCost": "12.5",
        "ListUnitPrice": "3",
        "ContractedUnitPrice": "2.5",
        "PricingQuantity": "5",
        "PricingUnit": "1000000 Tokens",
        "PricingCategory": "Standard",
        "PricingCurrencyListUnitPrice": "3",
        "PricingCurrencyContractedUnitPrice": "2.5",
        "PricingCurrencyEffectiveCost": "12.5",
        "ConsumedQuantity": "5000000",
        "ConsumedUnit": "Tokens",
        "ResourceId": "key-1",
        "ResourceName": "search-key",
        "ResourceType": "API Key",
        "SkuId": "claude-in",
        "SkuPriceId": "claude-in-std",
        "SkuMeter": "Input Tokens",
        "SkuPriceDetails": '{"ModelId": "claude-x", "TokenDirection": "Input", "x_Tier": "std"}',
        **{f"CommitmentDiscount{k}": v for k, v in NO_COMMITMENT.items()},
    },
    {  # 2: upfront commitment purchase; its cost is amortized into usage, so EffectiveCost is 0
        "ChargeCategory": "Purchase",
        "ChargeDescription": "Annual commitment",
        "ChargeFrequency": "One-Time",
        "ChargePeriodStart": "2024-01-01T00:00:00Z",
        "ChargePeriodEnd": "2025-01-01T00:00:00Z",
        "BilledCost": "1000",
        "EffectiveCost": "0",
        "ListCost": "1000",
        "ContractedCost": "1000",
        "ListUnitPrice": "1000",
        "ContractedUnitPrice": "1000",
        "PricingQuantity": "1",
        "PricingUnit": "Commitment",
        "PricingCategory": "Standard",
        "PricingCurrencyListUnitPrice": "1000",
        "PricingCurrencyContractedUnitPrice": "1000",
        "PricingCurrencyEffectiveCost": "0",
        "ConsumedQuantity": None,
        "ConsumedUnit": None,
        "ResourceId": "cd-1",
        "ResourceName": "Annual commitment",
        "ResourceType": "Commitment",
        "SkuId": "commit",
        "SkuPriceId": "commit-annual",
        "SkuMeter": "Commitment",
        "SkuPriceDetails": None,
        "CommitmentDiscountId": "cd-1",
        "CommitmentDiscountName": "Annual commitment",
        "CommitmentDiscountType": "Spend Commitment",
        "CommitmentDiscountCategory": "Spend",
        "CommitmentDiscountStatus": None,
        "CommitmentDiscountQuantity": "1000",
        "CommitmentDiscountUnit": "USD",
    },
    {  # 3: usage covered by the commitment
        "ChargeCategory": "Usage",
        "ChargeDescription": "Output tokens",
        "ChargeFrequency": "Usage-Based",
        "ChargePeriodStart": "2024-01-05T00:00:00Z",
        "ChargePeriodEnd": "2024-01-06T00:00:00Z",
        "BilledCost": "0",
        "EffectiveCost": "2",
        "ListCost": "3",
        "ContractedCost": "3",
        "ListUnitPrice": "0.5",
        "ContractedUnitPrice": "0.5",
        "PricingQuantity": "6",
        "PricingUnit": "1000000 Tokens",
        "PricingCategory": "Committed",
        "PricingCurrencyListUnitPrice": "0.5",
        "PricingCurrencyContractedUnitPrice": "0.5",
        "PricingCurrencyEffectiveCost": "2",
        "ConsumedQuantity": "6000000",
        "ConsumedUnit": "Tokens",
        "ResourceId": "key-1",
        "ResourceName": "search-key",
        "ResourceType": "API Key",
        "SkuId": "claude-out",
        "SkuPriceId": "claude-out-std",
        "SkuMeter": "Output Tokens",
        "SkuPriceDetails": '{"ModelId": "claude-x", "TokenDirection": "Output", "CoreCount": 4}',
        "CommitmentDiscountId": "cd-1",
        "CommitmentDiscountName": "Annual commitment",
        "CommitmentDiscountType": "Spend Commitment",
        "CommitmentDiscountCategory": "Spend",
        "CommitmentDiscountStatus": "Used",
        "CommitmentDiscountQuantity": "2",
        "CommitmentDiscountUnit": "USD",
    },
    {  # 4: tax: no price, no SKU, no quantity
        "ChargeCategory": "Tax",
        "ChargeDescription": "Sales tax",
        "ChargeFrequency": "Recurring",
        "ChargePeriodStart": "2024-01-01T00:00:00Z",
        "ChargePeriodEnd": "2024-02-01T00:00:00Z",
        "BilledCost": "1.25",
        "EffectiveCost": "1.25",
        "ListCost": "1.25",
        "ContractedCost": "1.25",
        "ListUnitPrice": None,
        "ContractedUnitPrice": None,
        "PricingQuantity": None,
        "PricingUnit": None,
        "PricingCategory": None,
        "PricingCurrencyListUnitPrice": None,
        "PricingCurrencyContractedUnitPrice": None,
        "PricingCurrencyEffectiveCost": "1.25",
        "ConsumedQuantity": None,
        "ConsumedUnit": None,
        "ResourceId": None,
        "ResourceName": None,
        "ResourceType": None,
        "SkuId": None,
        "SkuPriceId": None,
        "SkuMeter": None,
        "SkuPriceDetails": None,
        **{f"CommitmentDiscount{k}": v for k, v in NO_COMMITMENT.items()},
    },
]


def build_table(rows: list[dict[str, Any]] | None = None) -> pa.Table:
    """Every FOCUS 1.2 column as strings, in spec order, plus one custom x_ column."""
    rows = [{**COMMON, **r} for r in (rows or ROWS)]
    columns = [c.name for c in FOCUS_1_2_COLUMNS]
    missing = set(columns) - set(rows[0])
    assert not missing, f"fixture lacks {missing}"
    data = {name: pa.array([r[name] for r in rows], pa.string()) for name in columns}
    data["x_Source"] = pa.array(["fixture"] * len(rows), pa.string())
    return pa.table(data)


def set_cell(table: pa.Table, column: str, row: int, value: Any) -> pa.Table:
    """Copy of ``table`` with the cell at 1-based ``row`` replaced."""
    values = table.column(column).to_pylist()
    values[row - 1] = value
    index = table.column_names.index(column)
    return table.set_column(index, column, pa.array(values, table.schema.field(column).type))


@pytest.fixture
def valid_table() -> pa.Table:
    return build_table()


@pytest.fixture
def mutate(valid_table: pa.Table) -> Callable[..., pa.Table]:
    """mutate(column, row, value, ...) -> the valid table with those cells replaced."""

    def apply(*edits: Any) -> pa.Table:
        table = valid_table
        for column, row, value in zip(edits[::3], edits[1::3], edits[2::3], strict=True):
            table = set_cell(table, column, row, value)
        return table

    return apply
