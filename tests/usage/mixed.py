"""A mixed batch of usage events: priced, partly priceable and unknown models, long prompts,
cache kinds, service tiers and aggregated calls, over two days."""

from __future__ import annotations

import random
from datetime import datetime, timedelta

MODELS = [
    ("openai", "gpt-4o"),
    ("openai", "gpt-4o-mini"),
    ("openai", "text-embedding-3-small"),
    ("openai", "northwind-ft-9"),
    ("anthropic", "claude-sonnet-4-5"),
    ("anthropic", "claude-haiku-4-5"),
]


def mixed_events(n: int = 120) -> list[dict]:
    rng = random.Random(3)
    rows = []
    for i in range(n):
        provider, model = rng.choice(MODELS)
        prompt = rng.choice([rng.randrange(1, 5_000), rng.randrange(150_000, 300_000)])
        cache_read = rng.choice([0, prompt // 4])
        rows.append(
            {
                "event_id": f"e{i}",
                "timestamp": datetime(2025, 3, 1) + timedelta(minutes=rng.randrange(2 * 24 * 60)),
                "source": "otlp",
                "provider": provider,
                "model": model,
                "service_tier": rng.choice([None, "batch", "flex"]),
                "requests": rng.choice([1, 1, 2]),
                "uncached_input_tokens": prompt - cache_read,
                "cache_read_tokens": cache_read,
                "cache_write_tokens": rng.choice([0, rng.randrange(1, 500)]),
                "output_tokens": rng.choice([0, rng.randrange(1, 900)]),
                "reasoning_tokens": rng.choice([0, rng.randrange(1, 300)]),
            }
        )
    return rows
