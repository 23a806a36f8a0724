"""Cost lines add up, per day, model, price version, flag and token kind, to the stored events."""

from __future__ import annotations

import json
from collections import defaultdict
from decimal import Decimal

import pyarrow as pa

from comptroller.ingest.usage_events import ingest_usage_events
from comptroller.pricing import Pricer
from comptroller.pricing.usage import TOKEN_KINDS
from tests.usage.mixed import mixed_events

WORDS = {
    "uncached_input": "input tokens",
    "cache_read": "cached input tokens (read)",
    "cache_write": "cache write tokens",
    "output": "output tokens",
    "reasoning": "reasoning tokens",
}


def expected_lines(ledger) -> dict[tuple, tuple]:
    """The rollup recomputed in Python from the stored events."""
    kinds = ", ".join(f"{k}_tokens, list_cost_{k}, contracted_cost_{k}" for k in TOKEN_KINDS)
    events = ledger.execute(
        f"SELECT CAST(timestamp AS DATE), model, price_version, pricing_flag, {kinds} FROM usage_events"
    )
    sums: dict[tuple, list] = defaultdict(lambda: [0, Decimal(0), Decimal(0), True])
    for day, model, version, flag, *values in events:
        for i, kind in enumerate(TOKEN_KINDS):
            tokens, list_cost, contracted_cost = values[3 * i : 3 * i + 3]
            if tokens > 0:
                line = sums[(day, model, version, flag, kind)]
                line[0] += tokens
                line[1] += list_cost or 0
                line[2] += contracted_cost or 0
                line[3] = line[3] and list_cost is not None
    return {key: tuple(value) for key, value in sums.items()}


def test_lines_are_the_sums_of_their_events(ledger):
    ingest_usage_events(ledger, pa.Table.from_pylist(mixed_events()), Pricer())
    lines = ledger.execute(
        'SELECT CAST("ChargePeriodStart" AS DATE), "x_Model", "x_PriceVersion", "x_PricingFlag", '
        '"x_TokenKind", "x_ConsumedTokens", "ListCost", "ContractedCost", "ListUnitPrice" IS NOT NULL '
        "FROM cost_lines"
    )
    got = {tuple(r[:5]): tuple(r[5:]) for r in lines}
    assert len(got) == len(lines)  # one line per key
    want = expected_lines(ledger)
    assert got == want
    assert any(not priced for *_, priced in want.values())  # unpriced lines are in the comparison


def test_line_labels_follow_the_kind_and_provider(ledger):
    ingest_usage_events(ledger, pa.Table.from_pylist(mixed_events()), Pricer())
    lines = ledger.execute(
        'SELECT "x_Model", "x_TokenKind", "ProviderName", "ServiceName", "ChargeDescription", "SkuMeter", '
        '"SkuPriceDetails", "SkuId" FROM cost_lines'
    )
    assert {r[1] for r in lines} == set(TOKEN_KINDS)
    for model, kind, provider, service, description, meter, details, sku in lines:
        name = "Anthropic" if model.startswith("claude") else "OpenAI"
        assert (provider, service) == (name, f"{name} API")
        assert (description, meter) == (f"{model} {WORDS[kind]}", WORDS[kind])
        parsed = json.loads(details)
        assert (parsed["ModelId"], parsed["x_TokenKind"]) == (model, kind)
        assert parsed["TokenDirection"] == ("Output" if kind in ("output", "reasoning") else "Input")
        assert sku == f"{name.lower()}/{model}/{kind}"
