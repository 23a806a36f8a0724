"""Cloud bills: an AWS-style FOCUS 1.2 export and an Azure-style FOCUS 1.0 export.

Prices are chosen so every cost is exact at ten decimal places (unit prices have at most six
places, quantities at most four), which lets tests check ListCost = ListUnitPrice x PricingQuantity
to the last digit instead of within a tolerance. AWS carries an enterprise discount (EDP), so
list, contracted and effective cost differ the way they do on real bills.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import numpy as np

from comptroller.demo import enterprise as org
from comptroller.demo.enterprise import TAG_SETS
from comptroller.demo.waste import IDLE_GPU_ID, IDLE_GPU_WEEKS
from comptroller.demo.writer import (
    COST_COLUMNS,
    Row,
    at_midnight,
    billed_by,
    costs,
    daily,
    dec,
    money,
    running_hours,
    span,
    table,
    tags_json,
    token_details,
    usage,
    weekday_factor,
)

EDP = Decimal("0.94")
REGIONS = {"us-east-1": "US East (N. Virginia)", "eu-west-2": "Europe (London)", "eastus": "East US"}
AWS = "Amazon Web Services"
AWS_BILLED = billed_by(org.AWS_PAYER_ID, org.AWS_PAYER_NAME, f"{AWS}, Inc.", AWS)
SP_INSTANCE = "i-07b2e4d6f8a1c3590"
SP_ID = f"arn:aws:savingsplans::{org.AWS_PAYER_ID}:savingsplan/5c2a9e1f-3d7b-4f60-a8b4-91e6c0d2f7a3"
SP_HOURLY = Decimal("60.000000")
SP_RATE = Decimal("0.6")
"""Savings Plan rate as a fraction of the list price of the instance it covers."""

INSTANCES = table(f"""
# id                 name                  type           account  $/hour  sku              tags     util%  weekday weekend
{IDLE_GPU_ID}  mlr-p4d-finetune-03   p4d.24xlarge   research 32.7726 8XH3AQYWJR5YB4FF mlr-dev  0.2~3  24~24   24~24
{SP_INSTANCE}  mlr-p5-train-01       p5.48xlarge    research 98.32   Q6GSBUA7TBKPG2BR mlr-prod 72~96  24~24   14~24
i-0c81d5e3a9f2b4761  search-rerank-g5-1    g5.xlarge      search   1.006   2WWQTDG7FZ4S6ZUF search   35~62  24~24   24~24
i-0e52b7c1d9a4f3068  search-rerank-g5-2    g5.xlarge      search   1.006   2WWQTDG7FZ4S6ZUF -        30~58  24~24   24~24
i-0d4e7a1b9c3f58206  polaris-notebook-g5   g5.xlarge      sandbox  1.006   2WWQTDG7FZ4S6ZUF -        4~30   6~14    0~0
i-0a93f1c6e2d7b5840  beacon-whisper-g5     g5.12xlarge    support  5.672   TZG97WFA265PFBMW support  40~71  24~24   24~24
i-0b17c4e9a6d2f3851  eks-shared-gpu-node-a g5.12xlarge    shared   5.672   TZG97WFA265PFBMW pool     45~80  24~24   24~24
i-0f6d2a8c4b1e9e372  eks-shared-gpu-node-b g5.12xlarge    shared   5.672   TZG97WFA265PFBMW pool     40~78  24~24   24~24
i-03c8e5a1f7b2d9604  mlr-dev-g5-2          g5.2xlarge     research 1.212   CW2JQMRMB2W7GWB3 -        10~45  8~16    0~4
nw-llama-ft-v2-prod  nw-llama-ft-v2-prod   ml.g5.12xlarge research 7.09    SM7JX3W4QNDT8F2A llama    20~55  24~24   24~24
support-intent-prod  support-intent-prod   ml.g5.2xlarge  support  1.515   SMB9V4ZK2RD6H3XC support  25~50  24~24   24~24
search-embed-staging search-embed-staging  ml.g5.xlarge   search   1.408   SMC5Q8WNY7T1K4JD -        5~25   8~12    0~0
""")
# service -> ServiceCategory, ServiceSubcategory, ServiceName
SERVICES = {
    "ec2": ("Compute", "Virtual Machines", "Amazon Elastic Compute Cloud"),
    "sagemaker": ("AI and Machine Learning", "Machine Learning", "Amazon SageMaker"),
    "bedrock": ("AI and Machine Learning", "Generative AI", "Amazon Bedrock"),
    "s3": ("Storage", "Object Storage", "Amazon Simple Storage Service"),
    "savings": ("Compute", "Other (Compute)", "Savings Plans for AWS Compute usage"),
    "aoai": ("AI and Machine Learning", None, "Azure OpenAI Service"),
    "vm": ("Compute", None, "Virtual Machines"),
}


# model id -> developer, family, version, input and output list price per 1M tokens
BEDROCK_MODELS = {
    "anthropic.claude-3-5-sonnet-20241022-v2:0": ("Anthropic", "Claude 3.5 Sonnet", "20241022-v2", "3", "15"),
    "anthropic.claude-3-5-haiku-20241022-v1:0": ("Anthropic", "Claude 3.5 Haiku", "20241022-v1", "0.8", "4"),
    "meta.llama3-1-70b-instruct-v1:0": ("Meta", "Llama 3.1", "70b-instruct-v1", "0.72", "0.72"),
    "amazon.titan-embed-text-v2:0": ("Amazon", "Titan Text Embeddings", "v2", "0.02", ""),
}
BEDROCK = table("""
# account  model                                       daily input (M tokens)  tags
search     anthropic.claude-3-5-sonnet-20241022-v2:0   38                      atlas
search     anthropic.claude-3-5-haiku-20241022-v1:0    55                      search
support    anthropic.claude-3-5-sonnet-20241022-v2:0   24                      support
data       amazon.titan-embed-text-v2:0                240                     -
data       anthropic.claude-3-5-haiku-20241022-v1:0    30                      -
research   meta.llama3-1-70b-instruct-v1:0             18                      mlr
shared     anthropic.claude-3-5-haiku-20241022-v1:0    12                      -
sandbox    anthropic.claude-3-5-haiku-20241022-v1:0    6                       -
""")
BUCKETS = table("""
# account  bucket                    TB at start  TB/day  tags
research   nw-training-datasets      180          0.4     mlr
research   mlr-llm-checkpoints       95           0.9     -
search     atlas-embeddings-index    22           0.05    search
sandbox    polaris-scratch           14           0.08    -
shared     nw-shared-feature-store   40           0.1     pool
""")

# Azure OpenAI: model -> family, version, input and output list price per 1K tokens
AZURE_MODELS = {
    "gpt-4o": ("GPT-4o", "2024-11-20", "0.0025", "0.01"),
    "gpt-4o-mini": ("GPT-4o mini", "2024-07-18", "0.00015", "0.0006"),
    "text-embedding-3-large": ("text-embedding-3", "large", "0.00013", ""),
}
AZURE_OPENAI = table("""
# subscription  account          model                    daily input (K tokens)  tags     resource group
support         nw-aoai-support  gpt-4o                   9000                    support  rg-support-ai
support         nw-aoai-support  text-embedding-3-large   30000                   -        rg-support-ai
finance         nw-aoai-finance  gpt-4o-mini              20000                   finance  rg-finance-ai
experiments     nw-aoai-lab      gpt-4o                   3000                    -        rg-exp-sandbox
""")
AZURE_VMS = table("""
# subscription  vm                   size                      $/hour  tags     resource group  weekday  weekend
support         vm-support-asr-a100  Standard_NC24ads_A100_v4  3.673   support  rg-support-ai   24~24    24~24
experiments     vm-exp-a100-01       Standard_NC24ads_A100_v4  3.673   -        rg-exp-sandbox  6~12     0~0
experiments     vm-exp-a100-02       Standard_NC24ads_A100_v4  3.673   exp      rg-exp-sandbox  4~10     0~0
finance         vm-fin-ocr-t4        Standard_NC4as_T4_v3      0.526   finance  rg-finance-ai   10~14    0~0
""")


def _service(key: str) -> Row:
    category, subcategory, name = SERVICES[key]
    return {"ServiceCategory": category, "ServiceSubcategory": subcategory, "ServiceName": name}


def _contracted(price: Decimal) -> Decimal:
    return (price * EDP).quantize(Decimal("0.000001"))


def _aws(account: str) -> Row:
    acct = org.AWS_ACCOUNTS[account]
    region = "eu-west-2" if account == "data" else "us-east-1"
    return AWS_BILLED | {
        "BillingAccountType": "Management Account",
        "SubAccountType": "Member Account",
        "SubAccountId": acct.id,
        "SubAccountName": acct.name,
        "RegionId": region,
        "RegionName": REGIONS[region],
    }


def _sp(status: str | None, quantity: Decimal) -> Row:
    return {
        "CommitmentDiscountId": SP_ID,
        "CommitmentDiscountName": "Compute SP 1yr No Upfront - ml-training",
        "CommitmentDiscountCategory": "Spend",
        "CommitmentDiscountType": "Compute Savings Plan",
        "CommitmentDiscountStatus": status,
        "CommitmentDiscountQuantity": quantity,
        "CommitmentDiscountUnit": "USD",
    }


def _instances(rng: np.random.Generator, days: list[dt.date]) -> list[Row]:
    idle_first = max(days[0], days[-1] - dt.timedelta(days=7 * IDLE_GPU_WEEKS - 1))
    rows = []
    for rid, name, itype, account, price_s, sku, tags, util, weekday, weekend in INSTANCES:
        ec2, price = not itype.startswith("ml."), Decimal(price_s)
        meter, operation = ("BoxUsage", "RunInstances") if ec2 else ("Host", "RunInstance")
        arn = f"arn:aws:sagemaker:us-east-1:{org.AWS_ACCOUNTS[account].id}:endpoint/{rid}"
        what = f"On Demand Linux {itype} Instance Hour" if ec2 else f"hour for {itype} endpoint"
        for day in days:
            hours = running_hours(rng, day, weekday, weekend)
            if hours <= 0 or (rid == IDLE_GPU_ID and day < idle_first):
                continue
            row = _aws(account) | usage(day, (price, _contracted(price)), hours, "Hours")
            row |= _service("ec2" if ec2 else "sagemaker") | {
                "AvailabilityZone": "us-east-1a",
                "ChargeDescription": f"${price_s} per {what}",
                "ResourceId": rid if ec2 else arn,
                "ResourceName": name,
                "ResourceType": "Instance" if ec2 else "SageMaker Endpoint",
                "SkuId": sku,
                "SkuPriceId": f"{sku}.JRTCKXETXF.6YS6EN2CT7",
                "SkuMeter": meter,
                "Tags": tags_json(TAG_SETS[tags]),
                "x_UsageType": f"USE1-{meter}:{itype}",
                "x_Operation": operation,
                "x_GpuUtilization": dec(rng.uniform(*span(util)), 1),
            }
            if rid == SP_INSTANCE:
                effective = money(price * SP_RATE * hours)
                row |= _sp("Used", effective) | {"BilledCost": money(Decimal(0)), "EffectiveCost": effective}
                row["PricingCategory"] = "Committed"
            rows.append(row)
    return rows


def _commitment(days: list[dt.date], months: list[list[dt.date]], used: dict[dt.date, Decimal]) -> list[Row]:
    """Savings Plan: a monthly recurring purchase (EffectiveCost 0) plus a daily Unused row, so that
    Used + Unused EffectiveCost equals the purchase in every billing month."""
    common = _service("savings")
    rows = []
    for day in days:
        unused = money(SP_HOURLY * 24 - used.get(day, Decimal(0)))
        zero = Decimal("0.000000")
        row = _aws("research") | usage(day, (zero, zero), unused, "USD") | common | _sp("Unused", unused)
        row |= {
            "EffectiveCost": unused,
            "ChargeDescription": "Unused portion of Compute Savings Plan commitment",
            "PricingCategory": "Committed",
            "ConsumedQuantity": None,
            "ConsumedUnit": None,
            "SkuId": "SPUnusedCommitment",
            "SkuMeter": "UnusedCommitment",
            "SkuPriceId": "SPUnusedCommitment",
        }
        rows.append(row)
    for month in months:
        hours = Decimal(24 * len(month)).quantize(Decimal("0.01"))
        row = _aws("research") | daily(month[0]) | common | _sp(None, money(SP_HOURLY * hours))
        row |= costs(SP_HOURLY, SP_HOURLY, hours, SP_HOURLY * hours)
        row |= {
            "ChargePeriodEnd": at_midnight(month[-1] + dt.timedelta(days=1)),
            "EffectiveCost": money(Decimal(0)),
            "ChargeCategory": "Purchase",
            "ChargeFrequency": "Recurring",
            "ChargeDescription": f"Compute Savings Plan recurring fee, ${SP_HOURLY:.2f}/hour commitment",
            "PricingCategory": "Standard",
            "PricingUnit": "Hours",
            "SkuId": "SavingsPlanRecurringFee",
            "SkuMeter": "RecurringFee",
            "SkuPriceId": "SavingsPlanRecurringFee.1yr.NoUpfront",
        }
        rows.append(row)
    return rows


def _bedrock(rng: np.random.Generator, days: list[dt.date]) -> list[Row]:
    rows = []
    for account, model, median_m, tags in BEDROCK:
        developer, family, version, pin, pout = BEDROCK_MODELS[model]
        short = model.split(".")[1].split(":")[0]
        region = "EUW2" if account == "data" else "USE1"
        for day in days:
            tokens_in = int(float(median_m) * 1e6 * weekday_factor(day, 0.45) * rng.lognormal(0, 0.25))
            lines = [("input", "uncached_input", tokens_in, pin)]
            if pout:
                lines.append(("output", "output", int(tokens_in * rng.uniform(0.08, 0.16)), pout))
            for direction, kind, tokens, price_s in lines:
                price, qty = Decimal(price_s), Decimal(tokens) / Decimal(1_000_000)
                row = _aws(account) | usage(day, (price, _contracted(price)), qty, "1000000 Tokens")
                row |= _service("bedrock") | {
                    "ChargeDescription": f"{family} {direction} tokens, on-demand",
                    "ConsumedQuantity": Decimal(tokens),
                    "ConsumedUnit": "Tokens",
                    "PublisherName": developer,
                    "SkuId": f"BR-{short}-{direction}",
                    "SkuPriceId": f"BR-{short}-{direction}.OnDemand",
                    "SkuMeter": f"{direction.capitalize()}Tokens",
                    "SkuPriceDetails": token_details(model, developer, family, version, direction, kind),
                    "Tags": tags_json(TAG_SETS[tags]),
                    "x_UsageType": f"{region}-{short}-{direction}-tokens",
                    "x_Operation": "InvokeModel",
                }
                rows.append(row)
    return rows


def _buckets(rng: np.random.Generator, days: list[dt.date]) -> list[Row]:
    price = Decimal("0.023")
    rows = []
    for account, bucket, tb0, growth, tags in BUCKETS:
        for i, day in enumerate(days):
            period = daily(day)
            month_days = (period["BillingPeriodEnd"] - period["BillingPeriodStart"]).days
            gb = (float(tb0) + float(growth) * i) * 1024 * rng.uniform(0.995, 1.005)
            row = _aws(account) | usage(day, (price, _contracted(price)), dec(gb / month_days, 4), "GB-Month")
            row |= _service("s3") | {
                "ChargeDescription": "$0.023 per GB-Month of storage used in S3 Standard",
                "ResourceId": f"arn:aws:s3:::{bucket}",
                "ResourceName": bucket,
                "ResourceType": "Bucket",
                "SkuId": "WP9ANXZGBYYSGJEA",
                "SkuPriceId": "WP9ANXZGBYYSGJEA.JRTCKXETXF.PGHJ3S3EYE",
                "SkuMeter": "TimedStorage-ByteHrs",
                "Tags": tags_json(TAG_SETS[tags]),
                "x_UsageType": f"{'EUW2' if account == 'data' else 'USE1'}-TimedStorage-ByteHrs",
                "x_Operation": "StandardStorage",
            }
            rows.append(row)
    return rows


def _tax_and_credit(rows: list[Row], months: list[list[dt.date]]) -> list[Row]:
    """VAT on the London account's Bedrock usage, computed from the taxed rows' own four costs,
    and one promotional credit; neither has a price or quantity, as FOCUS requires."""
    bedrock = _service("bedrock")
    out = []
    for month in months:
        start = at_midnight(month[0])
        taxed = [r for r in rows if r["SubAccountName"] == "Orion Data" and r["BillingPeriodStart"] == start]
        row = _aws("data") | daily(month[0]) | bedrock
        row |= {c: money(sum((r[c] for r in taxed), Decimal(0)) * Decimal("0.20")) for c in COST_COLUMNS}
        row |= {
            "ChargePeriodEnd": at_midnight(month[-1] + dt.timedelta(days=1)),
            "ChargeCategory": "Tax",
            "ChargeFrequency": "Recurring",
            "ChargeDescription": "VAT (20%) on Amazon Bedrock usage, Orion Data",
        }
        out.append(row)
    row = _aws("search") | daily(months[0][0]) | bedrock | {c: money(Decimal(-2500)) for c in COST_COLUMNS}
    row |= {
        "ChargeCategory": "Credit",
        "ChargeFrequency": "One-Time",
        "ChargeDescription": "AWS Generative AI Accelerator promotional credit",
    }
    return [*out, row]


def aws_rows(rng: np.random.Generator, days: list[dt.date], months: list[list[dt.date]]) -> list[Row]:
    """All AWS rows; ``months`` holds each billing month's days. Closed months carry an InvoiceId,
    the month-to-date one does not (no invoice has been issued for it yet)."""
    rows = _instances(rng, days)
    used = {r["ChargePeriodStart"].date(): r["EffectiveCost"] for r in rows if r.get("CommitmentDiscountId")}
    rows += _commitment(days, months, used)
    rows += _bedrock(rng, days)
    rows += _buckets(rng, days)
    rows += _tax_and_credit(rows, months)
    invoices = {at_midnight(m[0]): f"2219{437751 + i * 1013:06d}" for i, m in enumerate(months[:-1])}
    for row in rows:
        row["InvoiceId"] = invoices.get(row["BillingPeriodStart"])
    return rows


def _azure(sub: str, group: str, service: str) -> Row:
    """Azure rows carry ResourceGroup and MeterCategory, provider columns without the x_ prefix."""
    acct = org.AZURE_SUBSCRIPTIONS[sub]
    return (
        billed_by(org.AZURE_BILLING_ID, org.AZURE_BILLING_NAME, "Microsoft", "Microsoft")
        | {
            "SubAccountId": f"/subscriptions/{acct.id}",
            "SubAccountName": acct.name,
            "RegionId": "eastus",
            "RegionName": REGIONS["eastus"],
            "ResourceGroup": group,
            "MeterCategory": "Cognitive Services" if service == "aoai" else "Virtual Machines",
        }
        | _service(service)
    )


def _meter(name: str) -> str:
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"https://northwind.example/azure-meter/{name}"))


def azure_rows(rng: np.random.Generator, days: list[dt.date]) -> list[Row]:
    """Azure OpenAI token lines and GPU VMs, priced per 1K tokens as Azure's meters are."""
    rows = []
    for sub, account, model, median_k, tags, group in AZURE_OPENAI:
        _family, version, pin, pout = AZURE_MODELS[model]
        rid = f"/subscriptions/{org.AZURE_SUBSCRIPTIONS[sub].id}/resourceGroups/{group}"
        rid += f"/providers/Microsoft.CognitiveServices/accounts/{account}"
        for day in days:
            k_in = int(float(median_k) * weekday_factor(day, 0.4) * rng.lognormal(0, 0.3))
            lines = [("input", "uncached_input", k_in, pin)]
            if pout:
                lines.append(("output", "output", int(k_in * rng.uniform(0.1, 0.2)), pout))
            for direction, _kind, k_tokens, price_s in lines:
                price, qty = Decimal(price_s), Decimal(k_tokens)
                meter = f"{model}-{version} {direction} glbl"
                row = _azure(sub, group, "aoai") | usage(day, (price, price), qty, "1000 Tokens")
                row |= {
                    "ChargeDescription": f"{meter} 1K Tokens",
                    "ConsumedQuantity": qty * 1000,
                    "ConsumedUnit": "Tokens",
                    "ResourceId": rid,
                    "ResourceName": account,
                    "ResourceType": "Azure OpenAI",
                    "SkuId": _meter(meter),
                    "SkuPriceId": f"{_meter(meter)}/Consumption",
                    "Tags": tags_json(TAG_SETS[tags]),
                }
                rows.append(row)
    for sub, vm, size, price_s, tags, group, weekday, weekend in AZURE_VMS:
        price = Decimal(price_s)
        rid = f"/subscriptions/{org.AZURE_SUBSCRIPTIONS[sub].id}/resourceGroups/{group}"
        rid += f"/providers/Microsoft.Compute/virtualMachines/{vm}"
        for day in days:
            hours = running_hours(rng, day, weekday, weekend)
            if hours <= 0:
                continue
            row = _azure(sub, group, "vm") | usage(day, (price, price), hours, "Hours")
            row |= {
                "AvailabilityZone": "eastus-1",
                "ChargeDescription": f"{size.replace('Standard_', '')} Linux - Pay as you go",
                "ResourceId": rid,
                "ResourceName": vm,
                "ResourceType": "Virtual machine",
                "SkuId": _meter(size),
                "SkuPriceId": f"{_meter(size)}/Consumption",
                "Tags": tags_json(TAG_SETS[tags]),
            }
            rows.append(row)
    return rows
