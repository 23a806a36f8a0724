"""The canonical ledger schema: FOCUS cost lines plus per-call usage events.

Everything that lands in the ledger is shaped by the two tables declared here, so every other
package (ingest, pricing, attribution, export, the gateway's spool drain) agrees on one set of
names and types. Cost lines are FOCUS 1.2 rows with the 1.3 allocation columns; our own fields
follow the spec's rule for custom columns and carry an ``x_`` prefix, placed after the FOCUS ones.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Kind(StrEnum):
    """Logical column types; each storage backend maps them to its own SQL types."""

    STRING = "string"
    DECIMAL = "decimal"
    TIMESTAMP = "timestamp"
    JSON = "json"
    INTEGER = "integer"
    FLOAT = "float"
    BOOLEAN = "boolean"


class Requirement(StrEnum):
    MANDATORY = "M"
    RECOMMENDED = "R"
    CONDITIONAL = "C"
    CUSTOM = "X"


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    kind: Kind
    requirement: Requirement
    since: str = "1.0"
    """FOCUS version that introduced the column ("x" for our own columns)."""
    nullable: bool = True


def _focus(name: str, kind: Kind, req: str, since: str = "1.0", nullable: bool = True) -> Column:
    return Column(name, kind, Requirement(req), since, nullable)


S, D, T, J = Kind.STRING, Kind.DECIMAL, Kind.TIMESTAMP, Kind.JSON

# FOCUS 1.2 columns in the spec's order of appearance, then the 1.3 additions.
FOCUS_COLUMNS: tuple[Column, ...] = (
    _focus("AvailabilityZone", S, "R"),
    _focus("BilledCost", D, "M", nullable=False),
    _focus("BillingAccountId", S, "M", nullable=False),
    _focus("BillingAccountName", S, "M"),
    _focus("BillingAccountType", S, "C", "1.2"),
    _focus("BillingCurrency", S, "M", nullable=False),
    _focus("BillingPeriodEnd", T, "M", nullable=False),
    _focus("BillingPeriodStart", T, "M", nullable=False),
    _focus("CapacityReservationId", S, "C", "1.1"),
    _focus("CapacityReservationStatus", S, "C", "1.1"),
    _focus("ChargeCategory", S, "M", nullable=False),
    _focus("ChargeClass", S, "M"),
    _focus("ChargeDescription", S, "M"),
    _focus("ChargeFrequency", S, "R"),
    _focus("ChargePeriodEnd", T, "M", nullable=False),
    _focus("ChargePeriodStart", T, "M", nullable=False),
    _focus("CommitmentDiscountCategory", S, "C"),
    _focus("CommitmentDiscountId", S, "C"),
    _focus("CommitmentDiscountName", S, "C"),
    _focus("CommitmentDiscountQuantity", D, "C", "1.1"),
    _focus("CommitmentDiscountStatus", S, "C"),
    _focus("CommitmentDiscountType", S, "C"),
    _focus("CommitmentDiscountUnit", S, "C", "1.1"),
    _focus("ConsumedQuantity", D, "C"),
    _focus("ConsumedUnit", S, "C"),
    _focus("ContractedCost", D, "M", nullable=False),
    _focus("ContractedUnitPrice", D, "C"),
    _focus("EffectiveCost", D, "M", nullable=False),
    _focus("InvoiceId", S, "R", "1.2"),
    _focus("InvoiceIssuerName", S, "M", nullable=False),
    _focus("ListCost", D, "M", nullable=False),
    _focus("ListUnitPrice", D, "C"),
    _focus("PricingCategory", S, "C"),
    _focus("PricingCurrency", S, "C", "1.2"),
    _focus("PricingCurrencyContractedUnitPrice", D, "C", "1.2"),
    _focus("PricingCurrencyEffectiveCost", D, "C", "1.2"),
    _focus("PricingCurrencyListUnitPrice", D, "C", "1.2"),
    _focus("PricingQuantity", D, "M"),
    _focus("PricingUnit", S, "M"),
    _focus("ProviderName", S, "M", nullable=False),
    _focus("PublisherName", S, "M", nullable=False),
    _focus("RegionId", S, "C"),
    _focus("RegionName", S, "C"),
    _focus("ResourceId", S, "C"),
    _focus("ResourceName", S, "C"),
    _focus("ResourceType", S, "C"),
    _focus("ServiceCategory", S, "M", nullable=False),
    _focus("ServiceName", S, "M", nullable=False),
    _focus("ServiceSubcategory", S, "R", "1.1"),
    _focus("SkuId", S, "C"),
    _focus("SkuMeter", S, "C", "1.1"),
    _focus("SkuPriceDetails", J, "C", "1.1"),
    _focus("SkuPriceId", S, "C"),
    _focus("SubAccountId", S, "C"),
    _focus("SubAccountName", S, "C"),
    _focus("SubAccountType", S, "C", "1.2"),
    _focus("Tags", J, "C"),
    # FOCUS 1.3
    _focus("AllocatedMethodDetails", J, "C", "1.3"),
    _focus("AllocatedMethodId", S, "C", "1.3"),
    _focus("AllocatedResourceId", S, "C", "1.3"),
    _focus("AllocatedResourceName", S, "C", "1.3"),
    _focus("AllocatedTags", J, "C", "1.3"),
    _focus("ContractApplied", J, "C", "1.3"),
    _focus("HostProviderName", S, "C", "1.3"),
    _focus("ServiceProviderName", S, "C", "1.3"),
)

FOCUS_1_2_COLUMNS: tuple[Column, ...] = tuple(c for c in FOCUS_COLUMNS if c.since != "1.3")
ALLOCATION_COLUMNS: tuple[str, ...] = (
    "AllocatedMethodDetails",
    "AllocatedMethodId",
    "AllocatedResourceId",
    "AllocatedResourceName",
    "AllocatedTags",
)

# Business dimensions. Each is materialised at ingest into its own x_ column (from tags, telemetry
# attribution or SkuPriceDetails) and resolved at query time through virtual-tag rules.
BUSINESS_DIMENSIONS: tuple[str, ...] = (
    "team",
    "product",
    "function",
    "customer_segment",
    "workflow",
    "model",
    "vendor",
    "risk_tier",
    "environment",
    "owner",
    "feature",
    "agent",
    "customer",
    "cost_layer",
)


def dimension_column(dimension: str) -> str:
    """The x_ column that stores a business dimension's own (tagged or reported) value."""
    return "x_" + "".join(part.capitalize() for part in dimension.split("_"))


def _custom(name: str, kind: Kind, nullable: bool = True) -> Column:
    return Column(name, kind, Requirement.CUSTOM, "x", nullable)


# Our own columns on cost lines. x_Source names the connector; x_DeliveryId the ingest that wrote
# the row, which is how a corrected re-export replaces exactly what an earlier one wrote.
LEDGER_CUSTOM_COLUMNS: tuple[Column, ...] = (
    _custom("x_Source", S, nullable=False),
    _custom("x_DeliveryId", S, nullable=False),
    _custom("x_SourceFile", S),
    _custom("x_FocusVersion", S),
    *(_custom(dimension_column(d), S) for d in BUSINESS_DIMENSIONS),
    _custom("x_PriceVersion", S),
    _custom("x_PricingFlag", S),
    _custom("x_ConsumedTokens", Kind.INTEGER),
    _custom("x_TokenKind", S),
    # Lines billed in another currency are converted at ingest (ingest.currency); these keep what
    # the invoice said and the rate used.
    _custom("x_OriginalCurrency", S),
    _custom("x_OriginalBilledCost", D),
    _custom("x_OriginalEffectiveCost", D),
    _custom("x_OriginalListCost", D),
    _custom("x_OriginalContractedCost", D),
    _custom("x_FxRate", D),
    _custom("x_FxRateDate", T),
    # The usage-event source (otlp, gateway, openai_usage, ...) a telemetry line was rolled up
    # from; empty on lines from files and bills. Showback precedence reads it (reconcile.precedence).
    _custom("x_UsageSource", S),
)

COST_LINE_COLUMNS: tuple[Column, ...] = FOCUS_COLUMNS + LEDGER_CUSTOM_COLUMNS
COST_LINES_TABLE = "cost_lines"


# Cost layers: the four places AI money goes, derived from ServiceCategory/ChargeCategory at ingest.
COST_LAYERS: tuple[str, ...] = ("infrastructure", "model_api", "ai_platform", "saas_seats")


TOKEN_KINDS: tuple[str, ...] = (
    "uncached_input",
    "cache_read",
    "cache_write",
    "output",
    "reasoning",
)

# Per-call AI telemetry. Token counts are disjoint kinds: total input is
# uncached + cache_read + cache_write, total output is output + reasoning. Providers report these
# differently (OpenAI counts cached tokens inside prompt_tokens and reasoning inside
# completion_tokens; Anthropic reports cache tokens beside input_tokens), so connectors convert to
# disjoint kinds once, at the edge, and nothing downstream has to remember which provider it was.
USAGE_EVENT_COLUMNS: tuple[Column, ...] = (
    _custom("event_id", S, nullable=False),
    _custom("timestamp", T, nullable=False),
    _custom("source", S, nullable=False),
    _custom("provider", S, nullable=False),
    _custom("model", S, nullable=False),
    _custom("operation", S),
    _custom("billing_account_id", S),
    _custom("project_id", S),
    _custom("api_key_id", S),
    _custom("request_id", S),
    _custom("trace_id", S),
    _custom("uncached_input_tokens", Kind.INTEGER, nullable=False),
    _custom("cache_read_tokens", Kind.INTEGER, nullable=False),
    _custom("cache_write_tokens", Kind.INTEGER, nullable=False),
    _custom("output_tokens", Kind.INTEGER, nullable=False),
    _custom("reasoning_tokens", Kind.INTEGER, nullable=False),
    _custom("latency_ms", Kind.FLOAT),
    _custom("time_to_first_token_ms", Kind.FLOAT),
    _custom("status", S, nullable=False),
    _custom("error_type", S),
    _custom("retries", Kind.INTEGER, nullable=False),
    _custom("tool_calls", Kind.INTEGER, nullable=False),
    _custom("requests", Kind.INTEGER, nullable=False),
    _custom("service_tier", S),
    _custom("route", S),
    _custom("cache_hit", Kind.BOOLEAN),
    *(_custom(d, S) for d in BUSINESS_DIMENSIONS if d not in ("model", "vendor", "cost_layer")),
    _custom("tags", J),
    _custom("list_cost", D),
    _custom("contracted_cost", D),
    _custom("currency", S, nullable=False),
    *(_custom(f"{cost}_{kind}", D) for cost in ("list_cost", "contracted_cost") for kind in TOKEN_KINDS),
    _custom("price_version", S),
    _custom("pricing_flag", S),
    _custom("delivery_id", S, nullable=False),
    # Gateway outcomes (added later, so placed last: existing ledgers gain them at the end).
    _custom("overhead_ms", Kind.FLOAT),
    _custom("stream", Kind.BOOLEAN),
    _custom("avoided_cost", D),
    _custom("block_reason", S),
    _custom("approval_request_id", S),
    # The agent run (invoke_agent span) and workflow run (invoke_workflow span) a call belongs to,
    # as "trace id + span id" in hex; the calls and tool calls of one run share it. Also last.
    _custom("agent_run_id", S),
    _custom("workflow_run_id", S),
)
USAGE_EVENTS_TABLE = "usage_events"
