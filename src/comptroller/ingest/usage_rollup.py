"""Rolling per-call usage events up into FOCUS cost lines, one line per day and token kind.

Model-API spend then sits in the same table as every other cost, so showback, budgets and the
FOCUS export see it without a special case. Each line follows the FOCUS AI-token conventions:
``PricingUnit`` "1000000 Tokens" and ``SkuPriceDetails`` with ModelId, TokenDirection and
TokenCacheAction. A day's lines are always rebuilt from all of that day's events, so late events
and replays never double count. Lines are kept apart per event source (``x_UsageSource``: gateway,
otlp, a provider's usage export, ...) so showback can tell per-call telemetry from a provider's
own records of the same traffic (``reconcile.precedence``).
"""

from __future__ import annotations

from collections.abc import Callable

from comptroller.ledger.schema import (
    BUSINESS_DIMENSIONS,
    COST_LINE_COLUMNS,
    TOKEN_KINDS,
    dimension_column,
)
from comptroller.ledger.sqltypes import DUCKDB_TYPES, literal, quote

ROLLUP_SOURCE = "telemetry"
ROLLUP_SCOPE: tuple[str, ...] = ("x_Source", "ChargePeriodStart")

PROVIDER_NAMES: dict[str, str] = {
    "openai": "OpenAI",
    "anthropic": "Anthropic",
    "google": "Google",
    "google-gla": "Google",
    "gemini": "Google",
    "vertex_ai": "Google",
    "azure": "Microsoft",
    "azure-openai": "Microsoft",
    "aws-bedrock": "AWS",
    "bedrock": "AWS",
    "mistral": "Mistral AI",
    "cohere": "Cohere",
    "groq": "Groq",
    "deepseek": "DeepSeek",
    "x-ai": "xAI",
    "together": "Together AI",
    "fireworks": "Fireworks AI",
    "self-hosted": "Self-hosted",
}

# token kind -> (TokenDirection, TokenCacheAction or None, words for ChargeDescription)
KIND_DETAILS: dict[str, tuple[str, str | None, str]] = {
    "uncached_input": ("Input", "Uncached", "input tokens"),
    "cache_read": ("Input", "Read", "cached input tokens (read)"),
    "cache_write": ("Input", "Write", "cache write tokens"),
    "output": ("Output", None, "output tokens"),
    "reasoning": ("Output", None, "reasoning tokens"),
}

EVENT_DIMENSIONS = tuple(d for d in BUSINESS_DIMENSIONS if d not in ("model", "vendor", "cost_layer"))


def provider_name_sql(column: str) -> str:
    cases = " ".join(f"WHEN {literal(k)} THEN {literal(v)}" for k, v in PROVIDER_NAMES.items())
    return f"CASE lower({column}) {cases} ELSE {column} END"


def _per_kind(kind: str) -> str:
    """One event-group's totals for one kind, over the events that used that kind at all."""
    tokens = f"{kind}_tokens"
    used = f"FILTER (WHERE {tokens} > 0)"
    return (
        f"count(*) {used} AS n_{kind}, sum({tokens}) {used} AS tokens_{kind}, "
        f"sum(list_cost_{kind}) {used} AS list_{kind}, "
        f"sum(contracted_cost_{kind}) {used} AS contracted_{kind}, "
        f"bool_and(list_cost_{kind} IS NOT NULL) {used} AS priced_{kind}"
    )


def _sku_price_details(kind: str) -> str:
    direction, cache_action, _ = KIND_DETAILS[kind]
    details = [("ModelId", "model"), ("TokenDirection", literal(direction))]
    if cache_action:
        details.append(("TokenCacheAction", literal(cache_action)))
    details.append(("x_TokenKind", literal(kind)))
    json_args = ", ".join(f"{literal(k)}, {v}" for k, v in details)
    return f"CAST(json_object({json_args}) AS VARCHAR)"


def _by_kind(expression: Callable[[str], str]) -> str:
    """The expression for the line's own token kind, e.g. ``tokens_output`` on an output line."""
    cases = " ".join(f"WHEN {literal(k)} THEN {expression(k)}" for k in TOKEN_KINDS)
    return f"CASE token_kind {cases} END"


def _line_values(delivery_id: str) -> dict[str, str]:
    """Each ledger column a rolled-up line fills, with its expression over the grouped events."""
    decimal = DUCKDB_TYPES[COST_LINE_COLUMNS[1].kind]
    provider = "provider_name"
    values: dict[str, str] = {
        "BilledCost": "contracted",
        "BillingAccountId": "account",
        "BillingAccountName": "account",
        "BillingCurrency": "currency",
        "BillingPeriodEnd": "date_trunc('month', day) + INTERVAL 1 MONTH",
        "BillingPeriodStart": "date_trunc('month', day)",
        "ChargeCategory": "'Usage'",
        "ChargeDescription": "model || ' ' || kind_words",
        "ChargeFrequency": "'Usage-Based'",
        "ChargePeriodEnd": "day + INTERVAL 1 DAY",
        "ChargePeriodStart": "day",
        "ConsumedQuantity": f"CAST(tokens AS {decimal})",
        "ConsumedUnit": "'Tokens'",
        "ContractedCost": "contracted",
        "ContractedUnitPrice": f"CASE WHEN priced THEN CAST(contracted / (tokens / 1e6) AS {decimal}) END",
        "EffectiveCost": "contracted",
        "InvoiceIssuerName": provider,
        "ListCost": "list",
        "ListUnitPrice": f"CASE WHEN priced THEN CAST(list / (tokens / 1e6) AS {decimal}) END",
        "PricingCategory": "'Standard'",
        "PricingQuantity": f"CAST(tokens / 1e6 AS {decimal})",
        "PricingUnit": "'1000000 Tokens'",
        "ProviderName": provider,
        "PublisherName": provider,
        "ServiceCategory": "'AI and Machine Learning'",
        "ServiceName": f"{provider} || ' API'",
        "ServiceSubcategory": "'Generative AI'",
        "SkuId": "provider || '/' || model || '/' || token_kind",
        "SkuPriceId": "provider || '/' || model || '/' || token_kind || '@' || COALESCE(price_version, 'unpriced')",
        "SkuMeter": "kind_words",
        "SkuPriceDetails": "sku_price_details",
        "SubAccountId": "project_id",
        "SubAccountName": "project_id",
        "ServiceProviderName": provider,
        "x_Source": literal(ROLLUP_SOURCE),
        "x_DeliveryId": literal(delivery_id),
        "x_FocusVersion": "'1.2'",
        "x_Model": "model",
        "x_Vendor": provider,
        "x_CostLayer": "'model_api'",
        "x_PriceVersion": "price_version",
        "x_PricingFlag": "pricing_flag",
        "x_ConsumedTokens": "tokens",
        "x_TokenKind": "token_kind",
        "x_UsageSource": "source",
    }
    for dim in EVENT_DIMENSIONS:
        values[dimension_column(dim)] = dim
    return values


ROLLUP_COLUMNS: tuple[str, ...] = tuple(c.name for c in COST_LINE_COLUMNS if c.name in _line_values(""))
"""The columns a rolled-up line fills, in ledger order; the ledger stores no others for it."""


def rollup_select(events: str, delivery_id: str) -> str:
    """DuckDB SQL producing cost lines (``ROLLUP_COLUMNS``, in order) from a relation of events."""
    keys = [
        "day",
        "provider",
        "model",
        "account",
        "project_id",
        "currency",
        "source",
        "price_version",
        "pricing_flag",
        *EVENT_DIMENSIONS,
    ]
    descriptions = " ".join(f"WHEN {literal(k)} THEN {literal(v[2])}" for k, v in KIND_DETAILS.items())
    values = _line_values(delivery_id)
    select = ", ".join(
        f"CAST({values[c.name]} AS {DUCKDB_TYPES[c.kind]}) AS {quote(c.name)}"
        for c in COST_LINE_COLUMNS
        if c.name in values
    )
    group = ", ".join(keys)
    kinds = ", ".join(f"({literal(k)})" for k in TOKEN_KINDS)
    # Events are grouped once and each group is then split into its kinds' lines, rather than
    # each event into five rows first: the day is re-read on every delivery, so this scan is
    # what a busy day's ingest costs.
    return (
        f"SELECT {select} FROM ("
        f"SELECT {group}, token_kind, {_by_kind(lambda k: f'tokens_{k}')} AS tokens, "
        f"COALESCE({_by_kind(lambda k: f'list_{k}')}, 0) AS list, "
        f"COALESCE({_by_kind(lambda k: f'contracted_{k}')}, 0) AS contracted, "
        f"{_by_kind(lambda k: f'priced_{k}')} AS priced, "
        f"{_by_kind(_sku_price_details)} AS sku_price_details, "
        f"{provider_name_sql('provider')} AS provider_name, CASE token_kind {descriptions} END AS kind_words "
        f"FROM (SELECT {group}, {', '.join(_per_kind(k) for k in TOKEN_KINDS)} "
        f"FROM (SELECT *, CAST(date_trunc('day', timestamp) AS TIMESTAMP) AS day, "
        f"COALESCE(billing_account_id, provider) AS account FROM {events}) AS e "
        f"GROUP BY {group}) AS g "
        f"CROSS JOIN (VALUES {kinds}) AS k(token_kind) "
        f"WHERE {_by_kind(lambda k: f'n_{k}')} > 0) AS g"
    )
