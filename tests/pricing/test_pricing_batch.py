"""Batch pricing gives, call for call, exactly what pricing each call alone gives."""

from __future__ import annotations

import random
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal

import pytest

from comptroller.pricing import ContractOverride, PricedUsage, Pricer, TokenUsage
from comptroller.pricing.batch import PricedColumns, price_columns
from comptroller.pricing.usage import TOKEN_KINDS

MODELS = [
    ("openai", "gpt-4o"),
    ("openai", "gpt-4o-mini"),
    ("openai", "text-embedding-3-small"),  # no output price: calls with output are unpriceable
    ("openai", "northwind-ft-9"),  # not in the catalog
    ("acme-llm-hosting", "gpt-4o"),  # provider not in the catalog
    ("", "openai/gpt-4o-mini"),  # provider from the model's prefix
    ("anthropic", "claude-sonnet-4-5"),  # long-context tier above 200k input tokens
    ("anthropic", "claude-haiku-4-5"),  # has a batch price variant
    ("deepseek", "deepseek-chat"),  # time-of-day prices
]
TIERS = [None, None, "batch", "flex", "priority", "scale"]
START = datetime(2025, 3, 1, tzinfo=UTC)
OVERRIDES = [
    ContractOverride(
        id="ea",
        provider="openai",
        model="gpt-4o*",
        effective_from=date(2025, 3, 2),
        discount_pct=Decimal("12.5"),
    ),
    ContractOverride(
        id="ant",
        provider="anthropic",
        model="claude-sonnet-4-5",
        effective_from=date(2024, 1, 1),
        unit_prices={"uncached_input": Decimal("2.7"), "output": Decimal("13.5")},
    ),
]

Call = tuple[str, str, datetime, str | None, int, TokenUsage]


def mixed_calls(n: int = 400, seed: int = 11) -> list[Call]:
    """Calls over three days (naive, UTC and offset timestamps), every tier, every cache kind,
    zero and long-context prompts and aggregated usage (``requests`` > 1)."""
    rng = random.Random(seed)
    calls: list[Call] = []
    for _ in range(n):
        provider, model = rng.choice(MODELS)
        at = START + timedelta(minutes=rng.randrange(3 * 24 * 60))
        at = rng.choice([at, at.replace(tzinfo=None), at.astimezone(timezone(timedelta(hours=-7)))])
        prompt = rng.choice([0, rng.randrange(1, 5_000), rng.randrange(150_000, 400_000)])
        cache_read = rng.choice([0, prompt // 3])
        cache_write = rng.choice([0, prompt // 5])
        usage = TokenUsage(
            uncached_input=prompt - cache_read - cache_write,
            cache_read=cache_read,
            cache_write=cache_write,
            output=rng.choice([0, rng.randrange(1, 3_000)]),
            reasoning=rng.choice([0, 0, rng.randrange(1, 800)]),
        )
        calls.append((provider, model, at, rng.choice(TIERS), rng.choice([1, 1, 1, 3]), usage))
    return calls


def batch(pricer: Pricer, calls: list[Call]) -> PricedColumns:
    return price_columns(
        pricer,
        [c[0] for c in calls],
        [c[1] for c in calls],
        [c[2] for c in calls],
        [c[3] for c in calls],
        {kind: [getattr(c[5], kind) for c in calls] for kind in TOKEN_KINDS},
        [c[4] for c in calls],
    )


def one_by_one(pricer: Pricer, calls: list[Call]) -> list[PricedUsage]:
    return [pricer.price(p, m, usage, at, tier, requests=r) for p, m, at, tier, r, usage in calls]


def exact(value: Decimal | None) -> tuple[object, ...] | None:
    """Sign, digits and exponent: equal Decimals with different exponents count as different."""
    return None if value is None else tuple(value.as_tuple())


@pytest.mark.parametrize("overrides", [(), OVERRIDES], ids=["list", "overrides"])
def test_batch_prices_every_call_exactly_as_pricing_it_alone(overrides):
    calls = mixed_calls()
    got = batch(Pricer(overrides), calls)
    want = one_by_one(Pricer(overrides), calls)
    for i, priced in enumerate(want):
        assert got.flag[i] == priced.flag, calls[i]
        assert got.price_version[i] == priced.price_version, calls[i]
        assert exact(got.list_cost[i]) == exact(priced.list_cost), calls[i]
        assert exact(got.contracted_cost[i]) == exact(priced.contracted_cost), calls[i]
        for kind in TOKEN_KINDS:
            charge = priced.charge(kind)
            assert exact(got.kind_list_cost[kind][i]) == exact(charge and charge.list_cost), (kind, calls[i])
            assert exact(got.kind_contracted_cost[kind][i]) == exact(charge and charge.contracted_cost)


def test_the_mixed_batch_exercises_every_outcome():
    """Guards the test above: a batch that missed a case would prove nothing about it."""
    calls = mixed_calls()
    want = one_by_one(Pricer(OVERRIDES), calls)
    flags = {p.flag for p in want}
    assert {
        None,
        "unknown_model",
        "unknown_provider",
        "no_price_for_output",
        "unpriced_service_tier",
    } <= flags
    assert any(p.override_id == "ea" for p in want) and any(p.override_id == "ant" for p in want)
    long_context = [
        p
        for p, c in zip(want, calls, strict=True)
        if c[1] == "claude-sonnet-4-5" and c[5].total_input > 200_000
    ]
    assert long_context and any(p.list_cost for p in long_context)
    assert {c[2].date() for c in calls} >= {date(2025, 3, 1), date(2025, 3, 2), date(2025, 3, 3)}


def test_long_context_tier_is_chosen_per_call_within_one_group():
    at = datetime(2025, 6, 1, 12, tzinfo=UTC)
    short, long = TokenUsage(uncached_input=100_000), TokenUsage(uncached_input=300_000)
    got = price_columns(
        Pricer(),
        ["anthropic"] * 2,
        ["claude-sonnet-4-5"] * 2,
        [at, at],
        [None, None],
        {k: [getattr(short, k), getattr(long, k)] for k in TOKEN_KINDS},
    )
    one = [Pricer().price("anthropic", "claude-sonnet-4-5", u, at) for u in (short, long)]
    assert got.list_cost == [p.list_cost for p in one]
    # The cliff: three times the tokens cost more than three times as much.
    assert got.list_cost[1] > 3 * got.list_cost[0]


def test_counts_are_checked_as_token_usage_checks_them():
    at = [datetime(2025, 3, 1)]
    counts = {k: [0] for k in TOKEN_KINDS}
    with pytest.raises(ValueError, match="output must be >= 0"):
        price_columns(Pricer(), ["openai"], ["gpt-4o"], at, [None], {**counts, "output": [-1]})
    for bad in (1.5, None, True):
        with pytest.raises(TypeError, match="cache_read must be an int"):
            price_columns(Pricer(), ["openai"], ["gpt-4o"], at, [None], {**counts, "cache_read": [bad]})
    with pytest.raises(ValueError, match="one value per call"):
        price_columns(Pricer(), ["openai", "openai"], ["gpt-4o"], at, [None], counts)


def test_empty_batch_prices_nothing():
    got = price_columns(Pricer(), [], [], [], [], {k: [] for k in TOKEN_KINDS})
    assert got.list_cost == [] and got.kind_list_cost["output"] == []
