"""The providers' own bills: OpenAI Costs API and Anthropic cost report pages as FOCUS cost lines.

Usage exports say what was used and leave pricing to us; the cost endpoints
(OpenAI ``/v1/organization/costs``, Anthropic ``/v1/organizations/cost_report``) say what the
provider will charge. They are the bill, so each result becomes one FOCUS ``Usage`` line of the
day's bucket as the provider stated it, never re-priced. Showback then takes the bill as the
system of record (``reconcile.precedence``) and ``comptroller reconcile`` compares it with what
telemetry priced.

Results grouped by line item (OpenAI, e.g. ``"gpt-4o-2024-08-06, cached input"``) or by
description (Anthropic: ``model`` and ``token_type``) carry the model and token kind in
``SkuPriceDetails``; the project (OpenAI ``project_id``, Anthropic ``workspace_id``) is the
sub-account. Anthropic states amounts in cents as decimal strings; OpenAI in dollars as numbers.

Saved pages go through ``ingest_focus_rows`` and restate (source, provider, month): ingest a
month's pages together, as with other FOCUS deliveries. A live pull (``ingest.provider_pull``)
usually covers part of a month, from its cursor to today, so it restates (source, provider, day)
instead: the days it brought replace what they said before and the rest of the month stays.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from comptroller.ingest.anthropic_usage import rfc3339
from comptroller.ingest.currency import CurrencyConversion
from comptroller.ingest.focus_ingest import SCOPE_COLUMNS, DeliveryResult, ingest_focus_rows
from comptroller.ingest.openai_usage import ExportParser, iter_results, load_pages, unix_time
from comptroller.ingest.usage_rollup import KIND_DETAILS
from comptroller.ledger.store import Ledger

OPENAI_SOURCE = "openai_costs"
ANTHROPIC_SOURCE = "anthropic_costs"
CENTS = Decimal(100)

OPENAI_KINDS = (
    ("cached input", "cache_read"),
    ("cache write", "cache_write"),
    ("input", "uncached_input"),
    ("output", "output"),
)
"""Line-item suffix -> token kind, most specific first (``"cached input"`` before ``"input"``)."""
ANTHROPIC_KINDS = {
    "uncached_input_tokens": "uncached_input",
    "output_tokens": "output",
    "cache_read_input_tokens": "cache_read",
    "cache_creation.ephemeral_5m_input_tokens": "cache_write",
    "cache_creation.ephemeral_1h_input_tokens": "cache_write",
}


@dataclass(frozen=True, slots=True)
class BillLine:
    """One result of a cost page, before it is shaped as a FOCUS row."""

    provider: str
    start: datetime
    amount: Decimal
    currency: str
    project_id: str | None
    model: str | None
    token_kind: str | None
    description: str
    detail: dict[str, Any]


PROVIDERS = {"openai": ("OpenAI", OPENAI_SOURCE), "anthropic": ("Anthropic", ANTHROPIC_SOURCE)}


def _stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def focus_row(line: BillLine) -> dict[str, str | None]:
    name, _ = PROVIDERS[line.provider]
    day = line.start.replace(hour=0, minute=0, second=0, microsecond=0)
    month = day.replace(day=1)
    following = (month + timedelta(days=32)).replace(day=1)
    amount = format(line.amount.normalize(), "f")
    sku: dict[str, Any] = {}
    if line.model:
        sku["ModelId"] = line.model
    if line.token_kind:
        direction, action, _ = KIND_DETAILS[line.token_kind]
        sku |= {"TokenDirection": direction, "x_TokenKind": line.token_kind}
        if action:
            sku["TokenCacheAction"] = action
    sku |= {f"x_{k}": v for k, v in line.detail.items() if v is not None}
    return {
        "BillingAccountId": line.provider,
        "BillingAccountName": f"{name} organization",
        "BillingPeriodStart": _stamp(month),
        "BillingPeriodEnd": _stamp(following),
        "ChargePeriodStart": _stamp(day),
        "ChargePeriodEnd": _stamp(day + timedelta(days=1)),
        "BillingCurrency": line.currency,
        **dict.fromkeys(("BilledCost", "EffectiveCost", "ListCost", "ContractedCost"), amount),
        "ChargeCategory": "Usage",
        "ChargeClass": None,
        "ChargeFrequency": "Usage-Based",
        "ChargeDescription": line.description,
        **dict.fromkeys(("ProviderName", "PublisherName", "InvoiceIssuerName", "ServiceProviderName"), name),
        "ServiceCategory": "AI and Machine Learning",
        "ServiceSubcategory": "Generative AI",
        "ServiceName": f"{name} API",
        "SubAccountId": line.project_id,
        "SubAccountName": line.project_id,
        "SkuPriceDetails": json.dumps(sku, sort_keys=True) if sku else None,
    }


def _decimal(parser: ExportParser, value: Any, row: int, column: str, *, text: bool) -> Decimal | None:
    """An amount: a JSON number (OpenAI) or a decimal string (Anthropic)."""
    if (
        isinstance(value, bool)
        or (text and not isinstance(value, str))
        or (not text and not isinstance(value, int | float))
    ):
        kind = "a decimal string" if text else "a number"
        parser.problem(f"{value!r} is not {kind}", row, column)
        return None
    try:
        amount = Decimal(str(value))
    except InvalidOperation:
        amount = Decimal("NaN")
    if not amount.is_finite():
        parser.problem(f"{value!r} is not an amount", row, column)
        return None
    return amount


def openai_bill_lines(pages: list[Any], origin: str) -> list[BillLine]:
    parser = ExportParser(origin)
    lines: list[BillLine] = []
    for row, bucket, result in iter_results(parser, pages):
        start = unix_time(parser, bucket, "start_time", row)
        money = result.get("amount")
        if not isinstance(money, Mapping):
            parser.problem(f"{money!r} is not an object with value and currency", row, "amount")
            continue
        amount = _decimal(parser, money.get("value"), row, "amount.value", text=False)
        currency = parser.text(money, "currency", row) or "usd"
        item = parser.text(result, "line_item", row)
        project = parser.text(result, "project_id", row)
        if start is None or amount is None or parser.problems:
            continue
        model, kind = _openai_line_item(item)
        detail = {"LineItem": item, "ApiKeyId": result.get("api_key_id")}
        description = item or "OpenAI API usage"
        lines.append(
            BillLine("openai", start, amount, currency.upper(), project, model, kind, description, detail)
        )
    if parser.problems:
        parser.table()
    return lines


def _openai_line_item(item: str | None) -> tuple[str | None, str | None]:
    """``"gpt-4o-2024-08-06, cached input"`` -> (model, token kind); other items have neither."""
    if not item or ", " not in item:
        return None, None
    model, suffix = item.rsplit(", ", 1)
    suffix = suffix.lower()
    kind = next((k for text, k in OPENAI_KINDS if suffix.startswith(text)), None)
    return (model, kind) if kind else (None, None)


def anthropic_bill_lines(pages: list[Any], origin: str) -> list[BillLine]:
    parser = ExportParser(origin)
    lines: list[BillLine] = []
    for row, bucket, result in iter_results(parser, pages):
        start = rfc3339(parser, bucket, "starting_at", row)
        cents = _decimal(parser, result.get("amount"), row, "amount", text=True)
        currency = parser.text(result, "currency", row) or "USD"
        model = parser.text(result, "model", row)
        token_type = parser.text(result, "token_type", row)
        workspace = parser.text(result, "workspace_id", row)
        description = parser.text(result, "description", row)
        if token_type is not None and token_type not in ANTHROPIC_KINDS:
            parser.problem(f"unknown token_type {token_type!r}", row, "token_type")
        if start is None or cents is None or parser.problems:
            continue
        detail = {
            "CostType": result.get("cost_type"),
            "TokenType": token_type,
            "ServiceTier": result.get("service_tier"),
            "ContextWindow": result.get("context_window"),
        }
        kind = ANTHROPIC_KINDS.get(token_type or "")
        text = description or "Claude API usage"
        lines.append(
            BillLine(
                "anthropic", start, cents / CENTS, currency.upper(), workspace, model, kind, text, detail
            )
        )
    if parser.problems:
        parser.table()
    return lines


READERS = {OPENAI_SOURCE: openai_bill_lines, ANTHROPIC_SOURCE: anthropic_bill_lines}

MONTH_SCOPE = SCOPE_COLUMNS
DAY_SCOPE = ("x_Source", "BillingAccountId", "ChargePeriodStart")
"""What a pull restates: each day it brought, per source and provider, not the whole month."""


def ingest_provider_costs(
    ledger: Ledger, paths: list[Path], source: str, *, fx: CurrencyConversion | None = None
) -> DeliveryResult | None:
    """Ingest saved cost pages of one provider as one delivery; None when they held no results."""
    read = READERS[source]
    rows = [focus_row(line) for path in paths for line in read(load_pages(path), str(path))]
    return store_bill_rows(ledger, rows, source, fx=fx, scope=MONTH_SCOPE)


def bill_rows(pages: list[Any], source: str, origin: str) -> list[dict[str, str | None]]:
    """Cost pages as FOCUS rows, every bad cell named (``IngestError``) before anything is written."""
    return [focus_row(line) for line in READERS[source](pages, origin)]


def store_bill_rows(
    ledger: Ledger,
    rows: list[dict[str, str | None]],
    source: str,
    *,
    fx: CurrencyConversion | None = None,
    scope: tuple[str, ...] = MONTH_SCOPE,
) -> DeliveryResult | None:
    """One atomic delivery of bill rows restating ``scope``; None when there are no rows."""
    if not rows:
        return None
    return ingest_focus_rows(ledger, rows, source=source, name=source, fx=fx, scope=scope)
