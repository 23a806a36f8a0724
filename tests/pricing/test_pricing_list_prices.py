"""List prices per token kind, checked against prices published in the genai-prices 0.2.3 data.

Rates below (USD per 1M tokens) were read from genai_prices/data.py; each test states the one
catalog fact it depends on, so a changed catalog fails with a clear reason.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from genai_prices import Usage, calc_price
from hypothesis import given, settings
from hypothesis import strategies as st

from comptroller.pricing import PricedUsage, Pricer, TokenUsage
from comptroller.pricing.catalog import price_context
from comptroller.pricing.providers import catalog_provider_id

AT = datetime(2026, 11, 1, 12, 0, tzinfo=UTC)


def cost(tokens: int, usd_per_mtok: str) -> Decimal:
    return Decimal(usd_per_mtok) * tokens / Decimal(1_000_000)


def rates(result: PricedUsage) -> dict[str, Decimal]:
    return {c.kind: c.list_unit_price for c in result.charges}


def test_openai_cached_input_is_priced_at_the_cache_read_rate(pricer: Pricer):
    # gpt-4o: input 2.5, cached input 1.25, output 10.
    usage = TokenUsage.from_openai(
        {
            "prompt_tokens": 10_000,
            "completion_tokens": 1_000,
            "prompt_tokens_details": {"cached_tokens": 8_000},
        }
    )
    result = pricer.price("openai", "gpt-4o", usage, AT)
    assert result.flag is None
    assert rates(result) == {
        "uncached_input": Decimal("2.5"),
        "cache_read": Decimal("1.25"),
        "output": Decimal("10"),
    }
    expected = cost(2_000, "2.5") + cost(8_000, "1.25") + cost(1_000, "10")
    assert result.list_cost == expected == Decimal("0.025")
    assert result.list_cost == sum(c.list_cost for c in result.charges)
    assert result.contracted_cost == result.list_cost


@pytest.mark.parametrize(
    ("model", "catalog_id"),
    [("claude-sonnet-4-20250514", "claude-sonnet-4-0"), ("claude-3-5-sonnet-20241022", "claude-3-5-sonnet")],
)
def test_anthropic_cache_write_and_read_rates(pricer: Pricer, model: str, catalog_id: str):
    # Both: input 3, cache write (5 min) 3.75, cache read 0.3, output 15.
    usage = TokenUsage.from_anthropic(
        {
            "input_tokens": 1_000,
            "cache_read_input_tokens": 20_000,
            "cache_creation_input_tokens": 5_000,
            "output_tokens": 700,
        }
    )
    result = pricer.price("anthropic", model, usage, AT)
    assert result.catalog_model_id == catalog_id
    assert rates(result) == {
        "uncached_input": Decimal("3"),
        "cache_read": Decimal("0.3"),
        "cache_write": Decimal("3.75"),
        "output": Decimal("15"),
    }
    expected = cost(1_000, "3") + cost(20_000, "0.3") + cost(5_000, "3.75") + cost(700, "15")
    assert result.list_cost == expected


def test_reasoning_tokens_are_priced_once_at_the_output_rate(pricer: Pricer):
    # o3 since 2025-06-10: output 8, no separate reasoning price.
    split = pricer.price("openai", "o3", TokenUsage(uncached_input=1_000, output=100, reasoning=900), AT)
    assert rates(split)["reasoning"] == rates(split)["output"] == Decimal("8")
    assert split.list_cost == cost(1_000, "2") + cost(1_000, "8")
    unsplit = pricer.price("openai", "o3", TokenUsage(uncached_input=1_000, output=1_000), AT)
    assert split.list_cost == unsplit.list_cost


def test_reasoning_uses_its_own_rate_when_the_catalog_has_one(pricer: Pricer):
    # perplexity sonar-deep-research: output 8, reasoning 3.
    result = pricer.price(
        "perplexity", "sonar-deep-research", TokenUsage(10, output=100, reasoning=1_000), AT
    )
    assert rates(result) == {
        "uncached_input": Decimal("2"),
        "output": Decimal("8"),
        "reasoning": Decimal("3"),
    }
    assert result.list_cost == cost(10, "2") + cost(100, "8") + cost(1_000, "3")


@pytest.mark.parametrize(
    ("total_input", "input_rate", "output_rate"),
    [(128_000, "1.25", "5"), (128_001, "2.5", "10")],
)
def test_long_context_tier_reprices_the_whole_request(
    pricer: Pricer, total_input: int, input_rate: str, output_rate: str
):
    # gemini-1.5-pro: 1.25 / 5, and 2.5 / 10 for prompts over 128k tokens (all tokens, output too).
    result = pricer.price("google", "gemini-1.5-pro", TokenUsage(total_input, output=2_000), AT)
    assert rates(result) == {"uncached_input": Decimal(input_rate), "output": Decimal(output_rate)}
    assert result.list_cost == cost(total_input, input_rate) + cost(2_000, output_rate)


def test_cached_tokens_count_towards_the_long_context_threshold(pricer: Pricer):
    # claude-sonnet-4-5 tiers at 200k total input: input 3->6, cache read 0.3->0.6, output 15->22.5.
    # Uncached input alone (100k) is under the threshold; the whole prompt (250k) is over it.
    usage = TokenUsage(uncached_input=100_000, cache_read=150_000, output=1_000)
    result = pricer.price("anthropic", "claude-sonnet-4-5", usage, AT)
    assert rates(result) == {
        "uncached_input": Decimal("6"),
        "cache_read": Decimal("0.6"),
        "output": Decimal("22.5"),
    }


def test_prices_effective_at_the_call_date(pricer: Pricer):
    # o3 was 10 / 40 and dropped to 2 / 8 from 2025-06-10 (UTC).
    usage = TokenUsage(uncached_input=1_000_000, output=1_000_000)
    before = pricer.price("openai", "o3", usage, datetime(2025, 6, 9, 23, 59))  # naive = UTC
    after = pricer.price("openai", "o3", usage, datetime(2025, 6, 10, 0, 0, tzinfo=UTC))
    assert before.list_cost == Decimal(50)
    assert after.list_cost == Decimal(10)
    # 21:00 on the 9th at UTC-5 is already the 10th in UTC.
    local = datetime(2025, 6, 9, 21, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert pricer.price("openai", "o3", usage, local).list_cost == Decimal(10)


def test_dated_prices_and_tiers_combine(pricer: Pricer):
    # claude-opus-4-6: 5 / 25 with a 200k tier (10 / 37.5) until 2026-03-13, flat 5 / 25 after.
    usage = TokenUsage(uncached_input=300_000, output=1_000)
    early = pricer.price("anthropic", "claude-opus-4-6", usage, datetime(2026, 3, 12, tzinfo=UTC))
    late = pricer.price("anthropic", "claude-opus-4-6", usage, datetime(2026, 3, 13, tzinfo=UTC))
    assert rates(early) == {"uncached_input": Decimal("10"), "output": Decimal("37.5")}
    assert rates(late) == {"uncached_input": Decimal("5"), "output": Decimal("25")}


@pytest.mark.parametrize(
    ("tier", "expected"),
    [
        # o3 variants from 2026-10-12 (batch from 2026-10-14); batch does not discount cached input.
        (None, {"uncached_input": "2", "cache_read": "0.5", "output": "8"}),
        ("default", {"uncached_input": "2", "cache_read": "0.5", "output": "8"}),
        ("flex", {"uncached_input": "1", "cache_read": "0.25", "output": "4"}),
        ("priority", {"uncached_input": "3.5", "cache_read": "0.875", "output": "14"}),
        ("batch", {"uncached_input": "1", "cache_read": "0.5", "output": "4"}),
    ],
)
def test_service_tiers_select_catalog_price_variants(
    pricer: Pricer, tier: str | None, expected: dict[str, str]
):
    result = pricer.price("openai", "o3", TokenUsage(1_000, 1_000, output=1_000), AT, service_tier=tier)
    assert result.flag is None
    assert rates(result) == {k: Decimal(v) for k, v in expected.items()}


def test_service_tier_without_a_catalog_price_is_flagged_not_guessed(pricer: Pricer):
    usage = TokenUsage(1_000, output=1_000)
    standard = pricer.price("openai", "o3", usage, datetime(2026, 10, 1, tzinfo=UTC))
    flex_before_listed = pricer.price("openai", "o3", usage, datetime(2026, 10, 1, tzinfo=UTC), "flex")
    assert flex_before_listed.flag == "unpriced_service_tier"
    assert flex_before_listed.list_cost == standard.list_cost
    assert pricer.price("openai", "gpt-4o", usage, AT, "flex").flag == "unpriced_service_tier"


def test_service_tier_variants_do_not_leak_through_fallback_providers(pricer: Pricer):
    # Azure prices gpt-4o through its OpenAI fallback; genai-prices applies OpenAI's priority
    # variant (4.25 / 17) only to OpenAI itself, so Azure priority stays at standard and is flagged.
    usage = TokenUsage(1_000_000, output=1_000_000)
    openai = pricer.price("openai", "gpt-4o", usage, AT, "priority")
    azure = pricer.price("azure", "gpt-4o", usage, AT, "priority")
    assert (openai.list_cost, openai.flag) == (Decimal("21.25"), None)
    assert (azure.list_cost, azure.flag) == (Decimal("12.5"), "unpriced_service_tier")


def test_time_of_day_prices_are_not_cached_across_the_day(pricer: Pricer):
    # deepseek-chat: 0.27 / 1.1 from 00:30 to 16:30 UTC, 0.135 / 0.55 otherwise.
    usage = TokenUsage(1_000_000, output=1_000_000)
    day = pricer.price("deepseek", "deepseek-chat", usage, datetime(2026, 11, 1, 3, 0, tzinfo=UTC))
    night = pricer.price("deepseek", "deepseek-chat", usage, datetime(2026, 11, 1, 20, 0, tzinfo=UTC))
    assert day.list_cost == Decimal("1.37")
    assert night.list_cost == Decimal("0.685")


_MODELS = [
    ("openai", "gpt-4o"),
    ("openai", "o3"),
    ("openai", "gpt-5.4"),
    ("openai", "gpt-4o-2024-05-13"),
    ("anthropic", "claude-sonnet-4-5"),
    ("anthropic", "claude-opus-4-6"),
    ("google", "gemini-2.5-pro"),
    ("aws-bedrock", "us.anthropic.claude-sonnet-4-20250514-v1:0"),
    ("azure", "gpt-4o"),
    ("perplexity", "sonar-deep-research"),
    ("deepseek", "deepseek-chat"),
]


@settings(max_examples=300, deadline=None, database=None)
@given(
    model=st.sampled_from(_MODELS),
    counts=st.tuples(*(st.integers(0, 400_000) for _ in range(5))),
    at=st.datetimes(datetime(2024, 1, 1), datetime(2027, 1, 1), timezones=st.just(UTC)),
    tier=st.sampled_from([None, "batch", "flex", "priority"]),
)
def test_total_list_cost_matches_genai_prices_calc_price(
    model: tuple[str, str], counts: tuple[int, int, int, int, int], at: datetime, tier: str | None
):
    """Our per-kind split must add up to exactly what the catalog's own calculator charges."""
    provider, ref = model
    usage = TokenUsage(*counts)
    ours = _PRICER.price(provider, ref, usage, at, tier)
    theirs = calc_price(
        Usage(
            input_tokens=usage.total_input,
            cache_read_tokens=usage.cache_read,
            cache_write_tokens=usage.cache_write,
            output_tokens=usage.total_output,
            output_reasoning_tokens=usage.reasoning,
        ),
        ref,
        provider_id=catalog_provider_id(provider),
        genai_request_timestamp=at,
        price_context=price_context(tier),
    )
    assert ours.list_cost == theirs.total_price


_PRICER = Pricer()
