"""FOCUS 1.2 export of the whole ledger, attributed and allocated, as CSV or Parquet.

Business dimensions are written as resolved at export time (rules applied), so the file is the
showback a downstream tool should see. FOCUS 1.3 allocation columns are added only when an
allocation was applied; other 1.3 columns are left out of a 1.2 file.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from comptroller.attribution.specs import Attribution
from comptroller.errors import QueryError
from comptroller.ledger.schema import (
    ALLOCATION_COLUMNS,
    BUSINESS_DIMENSIONS,
    FOCUS_1_2_COLUMNS,
    dimension_column,
)
from comptroller.ledger.store import Ledger
from comptroller.reports.spend import SpendQuery, attributed_lines

AMOUNT_COLUMNS = ["BilledCost", "EffectiveCost", "ListCost", "ContractedCost"]
INTERNAL_COLUMNS = {"x_DeliveryId"}
ISO_UTC = "%Y-%m-%dT%H:%M:%SZ"


@dataclass(frozen=True, slots=True)
class ExportResult:
    path: Path
    rows: int
    columns: tuple[str, ...]


def export_table(ledger: Ledger, attribution: Attribution) -> ir.Table:
    dims = list(BUSINESS_DIMENSIONS)
    table = attributed_lines(ledger, attribution, dims, SpendQuery(), AMOUNT_COLUMNS)
    focus = [c.name for c in FOCUS_1_2_COLUMNS]
    if attribution.allocations:
        focus += list(ALLOCATION_COLUMNS)
    custom = [c for c in table.columns if c.startswith("x_") and c not in INTERNAL_COLUMNS and c not in focus]
    resolved = {dimension_column(d): table[d] for d in dims}
    resolved.update(conformed_columns(table))
    values = {name: resolved.get(name, table[name]) for name in [*focus, *custom]}
    return table.select(**values).order_by(["ChargePeriodStart", "BillingAccountId", "ServiceName"])


def conformed_columns(t: ir.Table) -> dict[str, ir.Value]:
    """Conditional columns a provider left empty, derived from the columns that imply them.

    FOCUS 1.2 requires, for instance, PricingCurrency whenever the column is present and unit
    prices on every Usage or Purchase line; exports from real providers often omit them. Each fill
    below is what the spec's own definitions make the value: nothing is invented.
    """
    usage_or_purchase = t["ChargeCategory"].isin(["Usage", "Purchase"]) & t["ChargeClass"].isnull()
    usage = t["ChargeCategory"] == "Usage"
    # Consumption belongs on Usage lines only (not on unused commitment); corrections may omit it.
    consumed = usage & t["CommitmentDiscountStatus"].fill_null("").notin(["Unused"])
    quantity = t["PricingQuantity"]
    has_quantity = quantity.notnull() & (quantity != 0)

    def unit_price(price: str, cost: str) -> ir.Value:
        derived = has_quantity.ifelse(
            (t[cost] / quantity).cast(t[price].type()), ibis.literal(0).cast(t[price].type())
        )
        return usage_or_purchase.ifelse(t[price].coalesce(derived), t[price])

    list_price = unit_price("ListUnitPrice", "ListCost")
    contracted_price = unit_price("ContractedUnitPrice", "ContractedCost")
    sku_id = usage_or_purchase.ifelse(
        t["SkuId"].coalesce(t["ServiceName"] + ibis.literal("/") + t["PricingUnit"].coalesce("")), t["SkuId"]
    )
    same_currency = t["PricingCurrency"].isnull() | (t["PricingCurrency"] == t["BillingCurrency"])
    return {
        "BillingAccountType": t["BillingAccountType"].coalesce("Billing Account"),
        "ResourceType": t["ResourceId"].notnull().ifelse(t["ResourceType"].coalesce(t["ServiceName"]), None),
        "SubAccountId": t["SubAccountId"].coalesce(t["SubAccountName"]),
        "SubAccountName": t["SubAccountName"].coalesce(t["SubAccountId"]),
        "SubAccountType": (t["SubAccountId"].notnull() | t["SubAccountName"].notnull()).ifelse(
            t["SubAccountType"].coalesce("Sub Account"), None
        ),
        "ServiceSubcategory": t["ServiceSubcategory"].coalesce(
            ibis.literal("Other (") + t["ServiceCategory"] + ibis.literal(")")
        ),
        "PricingCategory": usage_or_purchase.ifelse(
            t["PricingCategory"].coalesce("Standard"), t["PricingCategory"]
        ),
        "ConsumedQuantity": consumed.ifelse(t["ConsumedQuantity"].coalesce(quantity), None),
        "ConsumedUnit": consumed.ifelse(t["ConsumedUnit"].coalesce(t["PricingUnit"]), None),
        "ListUnitPrice": list_price,
        "ContractedUnitPrice": contracted_price,
        "SkuId": sku_id,
        "SkuPriceId": usage_or_purchase.ifelse(t["SkuPriceId"].coalesce(sku_id), t["SkuPriceId"]),
        "PricingCurrency": t["PricingCurrency"].coalesce(t["BillingCurrency"]),
        "PricingCurrencyEffectiveCost": t["PricingCurrencyEffectiveCost"].coalesce(
            same_currency.ifelse(t["EffectiveCost"], None)
        ),
        "PricingCurrencyListUnitPrice": t["PricingCurrencyListUnitPrice"].coalesce(
            same_currency.ifelse(list_price, None)
        ),
        "PricingCurrencyContractedUnitPrice": t["PricingCurrencyContractedUnitPrice"].coalesce(
            same_currency.ifelse(contracted_price, None)
        ),
    }


def export_focus(ledger: Ledger, attribution: Attribution, out: Path, fmt: str = "csv") -> ExportResult:
    if fmt not in ("csv", "parquet"):
        raise QueryError(f"export format must be csv or parquet, not {fmt!r}")
    expr = export_table(ledger, attribution)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".partial")
    rows = 0
    batches = expr.to_pyarrow_batches(chunk_size=200_000)
    schema = _file_schema(batches.schema, as_text=fmt == "csv")
    writer: pacsv.CSVWriter | pq.ParquetWriter
    writer = pacsv.CSVWriter(tmp, schema) if fmt == "csv" else pq.ParquetWriter(tmp, schema)
    try:
        for batch in batches:
            batch = pa.RecordBatch.from_arrays(
                [_to_file_type(a, f.type) for a, f in zip(batch.columns, schema, strict=True)], schema=schema
            )
            writer.write(batch)
            rows += batch.num_rows
    finally:
        writer.close()
    tmp.replace(out)
    return ExportResult(out, rows, tuple(schema.names))


def _file_schema(schema: pa.Schema, *, as_text: bool) -> pa.Schema:
    """Timestamps are UTC instants: typed in Parquet, ISO 8601 with Z in CSV, as FOCUS requires."""
    stamp = pa.string() if as_text else pa.timestamp("us", tz="UTC")
    return pa.schema([pa.field(f.name, stamp) if pa.types.is_timestamp(f.type) else f for f in schema])


def _to_file_type(array: pa.Array, target: pa.DataType) -> pa.Array:
    if pa.types.is_timestamp(array.type) and pa.types.is_string(target):
        return pc.strftime(array.cast(pa.timestamp("s")), format=ISO_UTC)
    return array.cast(target)


__all__ = ["ExportResult", "export_focus", "export_table"]
