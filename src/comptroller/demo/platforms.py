"""AI platform vendors billed in FOCUS 1.2: a vector database, LLM observability, evals, GPU cloud.

These are the bills that sit between the clouds and the model APIs and are easiest to lose: each
vendor is its own invoice issuer, mixes a monthly platform fee (a Purchase) with metered usage,
and tags only as well as the team that set it up. LangSmith lines form the observability cost
pool and the CoreWeave inference node joins the shared-platform pool.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import numpy as np

from comptroller.demo import enterprise as org
from comptroller.demo.enterprise import TAG_SETS
from comptroller.demo.writer import (
    Row,
    at_midnight,
    billed_by,
    costs,
    dec,
    next_month,
    table,
    tags_json,
    usage,
    weekday_factor,
)

# vendor -> provider name, invoice issuer, billing account id, service, category, subcategory
VENDORS = {
    "pinecone": ("Pinecone", "Pinecone Systems, Inc.", "org-7QdK2mNw", "Pinecone Serverless", "Databases",
                 "Other (Databases)"),
    "langsmith": ("LangChain", "LangChain, Inc.", "ls-org-3f9e1c", "LangSmith", "Management and Governance",
                  "Observability"),
    "braintrust": ("Braintrust", "Braintrust Data, Inc.", "bt-northwind", "Braintrust Evals",
                   "AI and Machine Learning", "Other (AI and Machine Learning)"),
    "coreweave": ("CoreWeave", "CoreWeave, Inc.", "cw-nwlabs-01", "CoreWeave GPU Compute", "Compute",
                  "Virtual Machines"),
}  # fmt: skip

METERED = table("""
# vendor     project / resource       meter          unit                   $/unit  contract  daily median  tags
pinecone     nw-search-prod           storage        GB-Month               0.33    0.33      2100          search
pinecone     nw-search-prod           read-units     1000000+Read+Units     16      14.4      38            search
pinecone     nw-search-prod           write-units    1000000+Write+Units    4       3.6       9             search
pinecone     nw-recs                  storage        GB-Month               0.33    0.33      650           recs
pinecone     nw-recs                  read-units     1000000+Read+Units     16      14.4      12            recs
pinecone     nw-rag-sandbox           storage        GB-Month               0.33    0.33      180           -
pinecone     nw-rag-sandbox           read-units     1000000+Read+Units     16      14.4      2.5           -
langsmith    nw-prod-tracing          base-traces    1000+Traces            0.5     0.5       420           obs
langsmith    nw-prod-tracing          extended-traces 1000+Traces           5       5         18            obs
braintrust   ml-research-evals        scores         1000+Scores            2.5     2.5       60            mlr
braintrust   growth-prompt-tests      scores         1000+Scores            2.5     2.5       22            -
coreweave    cw-shared-inference-01   gpu-node-hours Hours                  49.24   39.392    24            cw-pool
coreweave    cw-mlr-train-02          gpu-node-hours Hours                  49.24   39.392    24            mlr
""")

FEES = table("""
# vendor     plan                         $/month  tags
langsmith    LangSmith+Plus+platform+fee  2500     obs
braintrust   Braintrust+Pro+platform+fee  1200     mlr
pinecone     Pinecone+Standard+minimum    500      -
""")


def _base(vendor: str) -> Row:
    provider, issuer, account, service, category, subcategory = VENDORS[vendor]
    return billed_by(account, org.COMPANY, issuer, provider) | {
        "BillingAccountType": "Organization",
        "ServiceName": service,
        "ServiceCategory": category,
        "ServiceSubcategory": subcategory,
    }


def _quantity(rng: np.random.Generator, meter: str, median: float, day: dt.date, month_days: int) -> Decimal:
    if meter == "gpu-node-hours":
        return Decimal("24.00")
    if meter == "storage":
        return dec(median * rng.uniform(0.98, 1.02) / month_days, 4)
    return dec(median * weekday_factor(day, 0.5) * rng.lognormal(0, 0.3), 4)


def platform_rows(rng: np.random.Generator, days: list[dt.date], months: list[list[dt.date]]) -> list[Row]:
    """Daily metered usage plus one platform-fee Purchase per vendor and billing month."""
    rows: list[Row] = []
    for vendor, resource, meter, unit, list_s, contract_s, median, tags in METERED:
        prices = (Decimal(list_s), Decimal(contract_s))
        for day in days:
            period_days = (next_month(day.replace(day=1)) - day.replace(day=1)).days
            qty = _quantity(rng, meter, float(median), day, period_days)
            row = _base(vendor) | usage(day, prices, qty, unit)
            row |= {
                "ChargeDescription": f"{VENDORS[vendor][3]} {meter.replace('-', ' ')}",
                "ResourceId": f"{vendor}://{VENDORS[vendor][2]}/{resource}",
                "ResourceName": resource,
                "ResourceType": "GPU Node" if vendor == "coreweave" else "Project",
                "SkuId": f"{vendor}-{meter}",
                "SkuPriceId": f"{vendor}-{meter}-{'committed' if contract_s != list_s else 'list'}",
                "SkuMeter": meter,
                "Tags": tags_json(TAG_SETS[tags]),
            }
            if vendor == "coreweave":
                row |= {
                    "RegionId": "us-east-04",
                    "RegionName": "US East 04",
                    "AvailabilityZone": "us-east-04a",
                }
            rows.append(row)
    for vendor, plan, fee_s, tags in FEES:
        fee = Decimal(fee_s)
        for month in months:
            start, end = (
                at_midnight(month[0].replace(day=1)),
                at_midnight(next_month(month[0].replace(day=1))),
            )
            row = _base(vendor) | costs(fee, fee, Decimal(1), fee)
            row |= {
                "BillingPeriodStart": start,
                "BillingPeriodEnd": end,
                "ChargePeriodStart": start,
                "ChargePeriodEnd": end,
                "ChargeCategory": "Purchase",
                "ChargeFrequency": "Recurring",
                "ChargeDescription": plan,
                "PricingCategory": "Standard",
                "PricingUnit": "Months",
                "SkuId": f"{vendor}-platform-fee",
                "SkuMeter": "platform-fee",
                "SkuPriceId": f"{vendor}-platform-fee-monthly",
                "Tags": tags_json(TAG_SETS[tags]),
            }
            rows.append(row)
    closed = {at_midnight(m[0].replace(day=1)) for m in months[:-1]}
    for row in rows:
        start = row["BillingPeriodStart"]
        if start in closed:
            row["InvoiceId"] = f"INV-{row['ProviderName'][:3].upper()}-{start:%Y%m}"
    return rows
