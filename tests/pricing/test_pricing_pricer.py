"""Flags instead of silent zeros, provider/model naming, price versions and caching."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

import genai_prices
import pytest
from genai_prices.data_snapshot import DataSnapshot, set_custom_snapshot
from genai_prices.types import ClauseEquals, ModelInfo, ModelPrice, Provider

from comptroller.pricing import Pricer, TokenUsage
from comptroller.pricing.catalog import Catalog

AT = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)
USAGE = TokenUsage(uncached_input=1_000, cache_read=500, output=200, reasoning=100)


def test_unknown_model_is_flagged_with_no_cost_never_zero(pricer: Pricer):
    result = pricer.price("openai", "gpt-17-hyperturbo", USAGE, AT)
    assert result.flag == "unknown_model"
    assert result.list_cost is None
    assert result.contracted_cost is None
    assert result.catalog_model_id is None
    assert result.charges == ()
    assert result.price_version == pricer.price_version  # which catalog said "unknown"


def test_unknown_provider_is_flagged(pricer: Pricer):
    result = pricer.price("acme-llm-hosting", "gpt-4o", USAGE, AT)
    assert (result.flag, result.list_cost, result.contracted_cost) == ("unknown_provider", None, None)


def test_kind_without_a_price_makes_the_call_unpriceable(pricer: Pricer):
    # text-embedding-3-small has an input price only; output tokens cannot be priced.
    result = pricer.price("openai", "text-embedding-3-small", TokenUsage(1_000, output=5), AT)
    assert result.flag == "no_price_for_output"
    assert result.list_cost is None and result.contracted_cost is None
    assert [c.kind for c in result.charges] == ["uncached_input"]
    assert pricer.price("openai", "text-embedding-3-small", TokenUsage(1_000), AT).flag is None


def test_zero_usage_on_a_known_model_costs_exactly_zero(pricer: Pricer):
    result = pricer.price("openai", "gpt-4o", TokenUsage(), AT)
    assert (result.flag, result.list_cost, result.charges) == (None, Decimal(0), ())


def test_money_is_decimal_and_never_rounded(pricer: Pricer):
    # gpt-4o-mini cached input is 0.075 USD per 1M tokens: one token costs 7.5e-8 USD.
    result = pricer.price("openai", "gpt-4o-mini", TokenUsage(cache_read=1), AT)
    assert result.list_cost == Decimal("0.000000075")
    assert isinstance(result.list_cost, Decimal)
    assert result.currency == "USD"


@pytest.mark.parametrize("provider", ["aws-bedrock", "aws.bedrock", "bedrock", "AWS-Bedrock"])
def test_bedrock_provider_aliases(pricer: Pricer, provider: str):
    result = pricer.price(provider, "anthropic.claude-3-5-sonnet-20240620-v1:0", USAGE, AT)
    assert result.catalog_provider_id == "aws"
    assert result.flag is None


def test_azure_openai_bills_as_azure_not_openai(pricer: Pricer):
    # The catalog's substring provider matching would send "azure.ai.openai" to OpenAI.
    result = pricer.price("azure.ai.openai", "gpt-4o", USAGE, AT)
    assert result.catalog_provider_id == "azure"


@pytest.mark.parametrize(
    ("provider", "model", "catalog_id"),
    [
        ("", "openai/gpt-4o", "gpt-4o"),
        ("openai", "openai/gpt-4o", "gpt-4o"),
        ("", "gpt-4o", "gpt-4o"),
        ("google", "models/gemini-1.5-pro", "gemini-1.5-pro"),
        ("gcp.vertex_ai", "publishers/google/models/gemini-2.5-pro", "gemini-2.5-pro"),
        ("", "anthropic/claude-sonnet-4-20250514", "claude-sonnet-4-0"),
    ],
)
def test_model_refs_with_provider_prefixes(pricer: Pricer, provider: str, model: str, catalog_id: str):
    result = pricer.price(provider, model, USAGE, AT)
    assert result.catalog_model_id == catalog_id
    assert result.model == model  # as given
    assert result.list_cost is not None


def test_price_version_names_the_package_and_the_bundled_data(pricer: Pricer):
    version = pricer.price("openai", "gpt-4o", USAGE, AT).price_version
    assert re.fullmatch(
        rf"genai-prices {re.escape(genai_prices.__version__)} bundled:[0-9a-f]{{12}}", version
    )


def _one_model_snapshot(price: str) -> DataSnapshot:
    model = ModelInfo(
        id="acme-1",
        match=ClauseEquals(equals="acme-1"),
        prices=ModelPrice(input_mtok=Decimal(price), output_mtok=Decimal(price)),
    )
    provider = Provider(id="acme", name="Acme", api_pattern=r"https://acme\.example", models=[model])
    return DataSnapshot(providers=[provider], from_auto_update=True)


def test_a_pinned_snapshot_is_used_and_identified():
    pinned = Pricer(snapshot=_one_model_snapshot("2"))
    result = pinned.price("acme", "acme-1", TokenUsage(1_000_000, output=1_000_000), AT)
    assert result.list_cost == Decimal(4)
    assert " fetched:" in result.price_version
    assert pinned.price("openai", "gpt-4o", USAGE, AT).flag == "unknown_provider"


def test_an_unpinned_pricer_follows_a_refreshed_catalog():
    pricer = Pricer()
    bundled_version = pricer.price_version
    set_custom_snapshot(_one_model_snapshot("3"))
    try:
        assert pricer.price("acme", "acme-1", TokenUsage(1_000_000), AT).list_cost == Decimal(3)
        assert pricer.price_version != bundled_version
    finally:
        set_custom_snapshot(None)
    assert pricer.price_version == bundled_version
    assert pricer.price("acme", "acme-1", TokenUsage(1), AT).flag == "unknown_provider"


def test_catalog_lookups_are_cached_per_provider_model_day_and_tier(monkeypatch: pytest.MonkeyPatch):
    catalog = Catalog()
    calls: list[tuple[str, str]] = []
    real_find = catalog._find

    def counting_find(provider: str, model: str):
        calls.append((provider, model))
        return real_find(provider, model)

    monkeypatch.setattr(catalog, "_find", counting_find)
    first = catalog.rates("openai", "gpt-4o", AT)
    for minutes in range(1_000):
        assert catalog.rates("openai", "gpt-4o", AT + timedelta(minutes=minutes % 600)) is first
    assert calls == [("openai", "gpt-4o")]
    assert catalog.rates("openai", "gpt-4o", AT + timedelta(days=1)) is not first
    assert catalog.rates("openai", "gpt-4o", AT, "priority") is not first
    assert calls == [("openai", "gpt-4o")]


def test_price_many_matches_pricing_one_by_one(pricer: Pricer):
    rows = [
        ("openai", "gpt-4o", USAGE, AT, None),
        ("anthropic", "claude-sonnet-4-20250514", TokenUsage(10, 20, 30, 40), AT, None),
        ("openai", "o3", USAGE, AT - timedelta(days=600), None),
        ("openai", "o3", USAGE, AT, "flex"),
        ("openai", "no-such-model", USAGE, AT, None),
    ]
    many = pricer.price_many(rows)
    assert many == [pricer.price(*row) for row in rows]
    assert len({r.list_cost for r in many}) == len(rows)  # the rows really differ


def test_aggregated_requests_choose_the_long_context_tier_per_request():
    """An hourly bucket of three 100k-token prompts is three short prompts, not one long one."""
    pricer = Pricer()
    at = datetime(2025, 11, 1)
    one = pricer.price("anthropic", "claude-sonnet-4-5", TokenUsage(uncached_input=100_000, output=1_000), at)
    bucket = TokenUsage(uncached_input=300_000, output=3_000)
    as_three = pricer.price("anthropic", "claude-sonnet-4-5", bucket, at, requests=3)
    as_one = pricer.price("anthropic", "claude-sonnet-4-5", bucket, at)
    assert one.list_cost is not None and as_three.list_cost == 3 * one.list_cost
    assert as_one.list_cost is not None and as_one.list_cost > as_three.list_cost
