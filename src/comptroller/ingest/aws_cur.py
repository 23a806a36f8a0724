"""AWS Cost and Usage Report 2.0 (CUR 2.0) files as FOCUS 1.2 cost lines.

Many AWS payers still export CUR 2.0 rather than AWS's own FOCUS table, so we convert it. The
mapping is done in DuckDB SQL (CUR files run to hundreds of MB) and follows AWS's published
amortization logic (the CUR "amortized cost" queries of the Well-Architected labs):

- ``BilledCost`` is ``line_item_unblended_cost`` on every line, so it sums to the invoice.
- ``EffectiveCost`` is amortized: ``SavingsPlanCoveredUsage`` carries
  ``savings_plan_savings_plan_effective_cost``, ``DiscountedUsage`` carries
  ``reservation_effective_cost``; the ``SavingsPlanNegation`` that cancels the covered usage's
  on-demand cost, and commitment fees (``SavingsPlanRecurringFee``, ``SavingsPlanUpfrontFee``,
  ``RIFee``, RI upfront ``Fee``), carry 0, because their money is already in the covered usage.
  The unused part of a commitment (commitment to date minus used; RI unused fees) becomes one
  extra ``Usage`` line with ``CommitmentDiscountStatus`` "Unused", as FOCUS prescribes, so used
  plus unused equals the commitment fee and nothing is counted twice.
- ``ListCost`` is ``pricing_public_on_demand_cost``; ``ContractedCost`` is the unblended cost
  (CUR has no separate negotiated-rate column).
- ``ChargeCategory``: usage types are Usage, fees are Purchase, Tax is Tax, Credit/Refund and
  the Savings Plan negation are Credit, anything else (discount types, EDP) is Adjustment.

The rows are written to a temporary Parquet file and ingested with ``ingest_focus`` under source
"aws_cur": atomic, and a re-delivered month replaces its (payer account, billing period).
"""

from __future__ import annotations

import tempfile
from collections.abc import Sequence
from pathlib import Path

import duckdb

from comptroller.errors import IngestError, Problem
from comptroller.ingest.currency import CurrencyConversion
from comptroller.ingest.files import FileFormat, describe, detect_format
from comptroller.ingest.focus_checks import diagnostic_connection
from comptroller.ingest.focus_ingest import DeliveryResult, ingest_focus
from comptroller.ledger.sqltypes import literal, quote
from comptroller.ledger.store import Ledger

SOURCE = "aws_cur"

REQUIRED: tuple[str, ...] = (
    "bill_payer_account_id",
    "bill_billing_period_start_date",
    "bill_billing_period_end_date",
    "line_item_usage_start_date",
    "line_item_usage_end_date",
    "line_item_line_item_type",
    "line_item_unblended_cost",
    "line_item_product_code",
    "line_item_currency_code",
)
"""Columns no line can be mapped without; CUR 2.0 always has them."""

COSTS: tuple[str, ...] = (
    "line_item_unblended_cost",
    "line_item_usage_amount",
    "pricing_public_on_demand_cost",
    "savings_plan_savings_plan_effective_cost",
    "savings_plan_total_commitment_to_date",
    "savings_plan_used_commitment",
    "reservation_effective_cost",
    "reservation_unused_amortized_upfront_fee_for_billing_period",
    "reservation_unused_recurring_fee",
    "reservation_unused_quantity",
)
"""Numeric columns; each must parse as a decimal when it is not empty."""

DATES: tuple[str, ...] = REQUIRED[1:5]

OPTIONAL: tuple[str, ...] = (
    "bill_payer_account_name",
    "bill_invoice_id",
    "line_item_usage_account_id",
    "line_item_usage_account_name",
    "line_item_line_item_description",
    "line_item_usage_type",
    "line_item_resource_id",
    "line_item_availability_zone",
    "pricing_unit",
    "pricing_term",
    "product_sku",
    "product_servicecode",
    "product_region_code",
    "pricing_rate_code",
    "savings_plan_savings_plan_a_r_n",
    "reservation_reservation_a_r_n",
    *COSTS[1:],
)
"""Columns read when present and taken as empty when not (hand-trimmed or older exports)."""

SERVICES: dict[str, tuple[str, str, str]] = {
    "AmazonBedrock": ("Amazon Bedrock", "AI and Machine Learning", "Generative AI"),
    "AmazonSageMaker": ("Amazon SageMaker", "AI and Machine Learning", "Machine Learning"),
    "AmazonEC2": ("Amazon Elastic Compute Cloud", "Compute", "Virtual Machines"),
    "AWSLambda": ("AWS Lambda", "Compute", "Serverless Compute"),
    "AmazonECS": ("Amazon Elastic Container Service", "Compute", "Containers"),
    "AmazonEKS": ("Amazon Elastic Kubernetes Service", "Compute", "Containers"),
    "ComputeSavingsPlans": ("Savings Plans for AWS Compute usage", "Compute", "Other (Compute)"),
    "AmazonS3": ("Amazon Simple Storage Service", "Storage", "Object Storage"),
    "AmazonEFS": ("Amazon Elastic File System", "Storage", "File Storage"),
    "AmazonRDS": ("Amazon Relational Database Service", "Databases", "Relational Databases"),
    "AmazonDynamoDB": ("Amazon DynamoDB", "Databases", "NoSQL Databases"),
    "AmazonCloudFront": ("Amazon CloudFront", "Networking", "Content Delivery"),
    "AmazonVPC": ("Amazon Virtual Private Cloud", "Networking", "Network Infrastructure"),
    "AWSDataTransfer": ("AWS Data Transfer", "Networking", "Network Connectivity"),
    "AmazonCloudWatch": ("Amazon CloudWatch", "Management and Governance", "Observability"),
}
"""line_item_product_code -> (ServiceName, ServiceCategory, ServiceSubcategory). Codes not listed
keep the CUR product name (or code) as ServiceName and go to "Other"."""

USAGE_TYPES = ("Usage", "DiscountedUsage", "SavingsPlanCoveredUsage")
PURCHASE_TYPES = ("Fee", "RIFee", "SavingsPlanRecurringFee", "SavingsPlanUpfrontFee")
CREDIT_TYPES = ("Credit", "Refund", "SavingsPlanNegation")


def ingest_aws_cur(
    ledger: Ledger, paths: Sequence[Path], *, fx: CurrencyConversion | None = None
) -> DeliveryResult:
    """Convert CUR 2.0 files and ingest them as one FOCUS delivery; bad input writes nothing.
    With ``fx``, lines billed in another currency are converted like any FOCUS line."""
    con = diagnostic_connection()
    try:
        selects = [_file_select(con, Path(p), i) for i, p in enumerate(paths)]
        with tempfile.TemporaryDirectory(prefix="comptroller-cur-") as tmp:
            out = Path(tmp) / "aws_cur_focus.parquet"
            con.execute(f"COPY ({' UNION ALL '.join(selects)}) TO {literal(str(out))} (FORMAT parquet)")
            return ingest_focus(ledger, [out], source=SOURCE, fx=fx)
    finally:
        con.close()


def _file_select(con: duckdb.DuckDBPyConnection, path: Path, index: int) -> str:
    """Register one file as a view of text cells, check it, and return its FOCUS SELECT."""
    fmt = detect_format(path)
    types = dict(describe(con, path, fmt))
    missing = [c for c in REQUIRED if c not in types]
    if missing:
        raise IngestError([Problem(str(path), "missing the CUR 2.0 column", column=c) for c in missing])
    if fmt is FileFormat.PARQUET:
        reader, first_row = f"read_parquet({literal(str(path))})", 1
    else:
        reader, first_row = f"read_csv({literal(str(path))}, header = true, all_varchar = true)", 2
    cells = [
        f"NULLIF(TRIM(CAST({quote(c)} AS VARCHAR)), '') AS {quote(c)}"
        if c in types
        else f"CAST(NULL AS VARCHAR) AS {quote(c)}"
        for c in (*REQUIRED, *OPTIONAL)
    ]
    view = f"_cur_{index}"
    con.execute(
        f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT {', '.join(cells)}, "
        f"{_json_text(types, 'resource_tags')} AS _tags, {_region(types)} AS _product_region, "
        f"{_json_text(types, 'product', 'product_name')} AS _product_name, "
        f"row_number() OVER () + {first_row - 1} AS _row FROM {reader}"
    )
    _check(con, path, view)
    return _focus_select(view)


def _json_text(types: dict[str, str], column: str, key: str | None = None) -> str:
    """A MAP column (Parquet) or JSON text (CSV) as JSON text, or one key of it."""
    kind = types.get(column)
    col = quote(column)
    if kind is None:
        return "CAST(NULL AS VARCHAR)"
    if kind.upper().startswith("MAP"):
        if key is not None:
            return f"CAST({col}[{literal(key)}] AS VARCHAR)"
        return f"CASE WHEN cardinality({col}) > 0 THEN CAST(to_json({col}) AS VARCHAR) END"
    text = f"NULLIF(TRIM(CAST({col} AS VARCHAR)), '')"
    if key is not None:
        return f"CASE WHEN json_valid({text}) THEN json_extract_string({text}, {literal('$.' + key)}) END"
    return f"CASE WHEN {text} IS NULL OR {text} = '{{}}' THEN NULL ELSE {text} END"


def _region(types: dict[str, str]) -> str:
    return _json_text(types, "product", "region")


def _check(con: duckdb.DuckDBPyConnection, path: Path, view: str) -> None:
    """Name file, row and column of every cell the mapping cannot read (first few per column)."""
    checks = [(c, f"{quote(c)} IS NULL", "is empty, but every CUR line has one") for c in REQUIRED]
    checks += [(c, f"{_ts(c)} IS NULL", "is not a date and time") for c in DATES]
    checks += [
        (c, f"{quote(c)} IS NOT NULL AND TRY_CAST({quote(c)} AS DECIMAL(38, 12)) IS NULL", "is not a number")
        for c in COSTS
    ]
    checks.append(("resource_tags", "_tags IS NOT NULL AND NOT json_valid(_tags)", "is not a JSON object"))
    problems: list[Problem] = []
    for column, bad, message in checks:
        rows = con.execute(f"SELECT _row FROM {view} WHERE {bad} ORDER BY _row LIMIT 5").fetchall()
        problems += [Problem(str(path), message, row=int(r[0]), column=column) for r in rows]
    if problems:
        raise IngestError(sorted(problems, key=lambda p: (p.row or 0, p.column or "")))


def _ts(column: str) -> str:
    """CUR timestamps: typed in Parquet, ISO 8601 text ("2025-03-01T00:00:00.000Z") in CSV."""
    return f"TRY_CAST(replace(replace({quote(column)}, 'T', ' '), 'Z', '') AS TIMESTAMP)"


def _iso(column: str) -> str:
    return f"strftime({_ts(column)}, '%Y-%m-%dT%H:%M:%SZ')"


def _num(column: str) -> str:
    return f"CAST({quote(column)} AS DECIMAL(38, 12))"


def _in(values: Sequence[str]) -> str:
    return "(" + ", ".join(literal(v) for v in values) + ")"


def _case(mapping: dict[str, tuple[str, str, str]], part: int, default: str) -> str:
    whens = " ".join(f"WHEN {literal(k)} THEN {literal(v[part])}" for k, v in mapping.items())
    return f"CASE line_item_product_code {whens} ELSE {default} END"


def _focus_select(view: str) -> str:
    """Each CUR line as one FOCUS row, plus one "Unused" row per under-used commitment fee."""
    t = "line_item_line_item_type"
    unblended = _num("line_item_unblended_cost")
    usage = f"{t} IN {_in(USAGE_TYPES)}"
    sp_unused = (
        f"COALESCE({_num('savings_plan_total_commitment_to_date')}, 0)"
        f" - COALESCE({_num('savings_plan_used_commitment')}, 0)"
    )
    ri_unused = (
        f"COALESCE({_num('reservation_unused_amortized_upfront_fee_for_billing_period')}, 0)"
        f" + COALESCE({_num('reservation_unused_recurring_fee')}, 0)"
    )
    unused_cost = f"CASE {t} WHEN 'SavingsPlanRecurringFee' THEN {sp_unused} ELSE {ri_unused} END"
    effective = (
        f"CASE WHEN {t} = 'SavingsPlanCoveredUsage' THEN {_num('savings_plan_savings_plan_effective_cost')}"
        f" WHEN {t} = 'DiscountedUsage' THEN {_num('reservation_effective_cost')}"
        f" WHEN {t} IN ('SavingsPlanNegation', 'SavingsPlanRecurringFee', 'SavingsPlanUpfrontFee', 'RIFee')"
        " THEN 0 WHEN {t} = 'Fee' AND reservation_reservation_a_r_n IS NOT NULL THEN 0"
        f" ELSE {unblended} END"
    ).replace("{t}", t)
    commitment = "COALESCE(savings_plan_savings_plan_a_r_n, reservation_reservation_a_r_n)"
    is_sp = "savings_plan_savings_plan_a_r_n IS NOT NULL"
    category = (
        f"CASE WHEN {usage} THEN 'Usage' WHEN {t} IN {_in(PURCHASE_TYPES)} THEN 'Purchase'"
        f" WHEN {t} = 'Tax' THEN 'Tax' WHEN {t} IN {_in(CREDIT_TYPES)} THEN 'Credit' ELSE 'Adjustment' END"
    )
    sku = "COALESCE(product_sku, line_item_product_code || '/' || COALESCE(line_item_usage_type, " + t + "))"
    base = {
        "_kind": t,
        "_unused": "false",
        "_billed": unblended,
        "_effective": effective,
        "_list": f"CASE WHEN {usage} THEN COALESCE({_num('pricing_public_on_demand_cost')}, {unblended})"
        f" ELSE {unblended} END",
        "_quantity": f"COALESCE({_num('line_item_usage_amount')}, 1)",
        "_unit": "COALESCE(pricing_unit, 'Units')",
        "_cd_quantity": f"CASE WHEN {t} = 'SavingsPlanCoveredUsage' THEN "
        f"{_num('savings_plan_savings_plan_effective_cost')} WHEN {is_sp} THEN ABS({unblended})"
        f" ELSE COALESCE({_num('line_item_usage_amount')}, 1) END",
        "_category": category,
        "_sku": sku,
        "_description": "line_item_line_item_description",
    }
    unused = {
        **base,
        "_unused": "true",
        "_billed": "0",
        "_effective": unused_cost,
        "_list": "0",
        "_quantity": unused_cost,
        "_cd_quantity": f"CASE WHEN {is_sp} THEN {sp_unused}"
        f" ELSE COALESCE({_num('reservation_unused_quantity')}, 0) END",
        "_unit": f"CASE WHEN {is_sp} THEN line_item_currency_code ELSE 'Hours' END",
        "_category": "'Usage'",
        "_sku": sku + " || '/Unused'",
        "_description": f"'Unused commitment: ' || {commitment}",
    }
    inner = [
        f"SELECT *, {', '.join(f'{v} AS {k}' for k, v in base.items())} FROM {view}",
        f"SELECT *, {', '.join(f'{v} AS {k}' for k, v in unused.items())} FROM {view} "
        f"WHERE {t} IN ('SavingsPlanRecurringFee', 'RIFee') AND {unused_cost} > 0",
    ]
    return _output_sql(f"({' UNION ALL '.join(inner)})", commitment, is_sp)


def _output_sql(rows: str, commitment: str, is_sp: str) -> str:
    """FOCUS columns from the working columns of ``_focus_select``; all cells as text."""
    priced = "_category IN ('Usage', 'Purchase')"
    consumed = "_category = 'Usage' AND NOT _unused"
    has_cd = f"{commitment} IS NOT NULL AND _category IN ('Usage', 'Purchase', 'Credit')"
    ratio = "CASE WHEN _quantity <> 0 THEN {cost} / _quantity ELSE 0 END"
    name = "COALESCE(_product_name, line_item_product_code)"
    columns = {
        "BillingAccountId": "bill_payer_account_id",
        "BillingAccountName": "COALESCE(bill_payer_account_name, bill_payer_account_id)",
        "BillingAccountType": "'Payer Account'",
        "BillingCurrency": "line_item_currency_code",
        "BillingPeriodStart": _iso("bill_billing_period_start_date"),
        "BillingPeriodEnd": _iso("bill_billing_period_end_date"),
        "ChargePeriodStart": _iso("line_item_usage_start_date"),
        "ChargePeriodEnd": _iso("line_item_usage_end_date"),
        "BilledCost": "_billed",
        "EffectiveCost": "_effective",
        "ListCost": f"CASE WHEN {priced} THEN _list ELSE _billed END",
        "ContractedCost": "CASE WHEN _unused THEN 0 ELSE _billed END",
        "ChargeCategory": "_category",
        "ChargeClass": "CAST(NULL AS VARCHAR)",
        "ChargeDescription": f"COALESCE(_description, _kind || ' ' || {name})",
        "ChargeFrequency": "CASE WHEN _kind IN ('Fee', 'SavingsPlanUpfrontFee') THEN 'One-Time'"
        " WHEN _kind IN ('RIFee', 'SavingsPlanRecurringFee') AND NOT _unused THEN 'Recurring'"
        " WHEN _category = 'Tax' THEN 'Recurring' ELSE 'Usage-Based' END",
        "InvoiceId": "bill_invoice_id",
        "InvoiceIssuerName": "'AWS'",
        "ProviderName": "'AWS'",
        "PublisherName": "'AWS'",
        "ServiceName": _case(SERVICES, 0, name),
        "ServiceCategory": _case(SERVICES, 1, "'Other'"),
        "ServiceSubcategory": _case(SERVICES, 2, "'Other (Other)'"),
        "SubAccountId": "line_item_usage_account_id",
        "SubAccountName": "CASE WHEN line_item_usage_account_id IS NOT NULL THEN "
        "COALESCE(line_item_usage_account_name, line_item_usage_account_id) END",
        "SubAccountType": "CASE WHEN line_item_usage_account_id IS NOT NULL THEN 'Linked Account' END",
        "RegionId": "COALESCE(product_region_code, _product_region)",
        "RegionName": "COALESCE(product_region_code, _product_region)",
        "AvailabilityZone": "line_item_availability_zone",
        "ResourceId": "line_item_resource_id",
        "ResourceType": "CASE WHEN line_item_resource_id IS NOT NULL THEN "
        "COALESCE(line_item_usage_type, line_item_product_code) END",
        "Tags": "CASE WHEN _tags IS NOT NULL THEN CAST(json(_tags) AS VARCHAR) END",
        "PricingQuantity": f"CASE WHEN {priced} THEN _quantity END",
        "PricingUnit": f"CASE WHEN {priced} THEN _unit END",
        "PricingCategory": f"CASE WHEN NOT ({priced}) THEN NULL WHEN {commitment} IS NOT NULL AND "
        "_category = 'Usage' THEN 'Committed' WHEN pricing_term = 'Spot' THEN 'Dynamic' ELSE 'Standard' END",
        "PricingCurrency": "line_item_currency_code",
        "ListUnitPrice": f"CASE WHEN {priced} THEN {ratio.format(cost='_list')} END",
        "ContractedUnitPrice": f"CASE WHEN {priced} AND NOT _unused THEN {ratio.format(cost='_billed')}"
        f" WHEN {priced} THEN 0 END",
        "SkuId": f"CASE WHEN {priced} THEN _sku END",
        "SkuPriceId": f"CASE WHEN {priced} THEN _sku || '/' || COALESCE(pricing_rate_code, 'list') END",
        "SkuMeter": f"CASE WHEN {priced} THEN COALESCE(line_item_usage_type, _kind) END",
        "ConsumedQuantity": f"CASE WHEN {consumed} THEN _quantity END",
        "ConsumedUnit": f"CASE WHEN {consumed} THEN _unit END",
        "CommitmentDiscountId": f"CASE WHEN {has_cd} THEN {commitment} END",
        "CommitmentDiscountName": f"CASE WHEN {has_cd} THEN {commitment} END",
        "CommitmentDiscountCategory": f"CASE WHEN {has_cd} THEN CASE WHEN {is_sp} THEN 'Spend' ELSE 'Usage' END END",
        "CommitmentDiscountType": f"CASE WHEN {has_cd} THEN CASE WHEN {is_sp} THEN 'Savings Plan' "
        "ELSE 'Reserved Instance' END END",
        "CommitmentDiscountStatus": f"CASE WHEN {has_cd} AND _category = 'Usage' THEN "
        "CASE WHEN _unused THEN 'Unused' ELSE 'Used' END END",
        "CommitmentDiscountQuantity": f"CASE WHEN {has_cd} AND {priced} THEN _cd_quantity END",
        "CommitmentDiscountUnit": f"CASE WHEN {has_cd} AND {priced} THEN CASE WHEN {is_sp} THEN "
        "line_item_currency_code ELSE 'Hours' END END",
    }
    columns["PricingCurrencyListUnitPrice"] = columns["ListUnitPrice"]
    columns["PricingCurrencyContractedUnitPrice"] = columns["ContractedUnitPrice"]
    columns["PricingCurrencyEffectiveCost"] = "_effective"
    columns["x_CurLineItemType"] = "_kind"
    cells = ", ".join(f"CAST({expr} AS VARCHAR) AS {quote(col)}" for col, expr in columns.items())
    return f"SELECT {cells} FROM {rows}"
