"""With ``redis_url`` set the gateway counts budgets and limits and caches answers in Redis."""

from __future__ import annotations

import uuid

import openai
import pytest
import redis

from tests.gateway.harness import Stack, secret

REDIS = "redis://127.0.0.1:6379/0"
MESSAGES = [{"role": "user", "content": "hello redis"}]


@pytest.fixture(scope="module")
def redis_stack(tmp_path_factory):
    namespace = f"test-gw-{uuid.uuid4().hex[:10]}"
    running = Stack(
        tmp_path_factory.mktemp("redis-gateway"), redis_url=REDIS, redis_namespace=namespace
    ).start()
    try:
        yield running, namespace
    finally:
        running.stop()
        client = redis.Redis.from_url(REDIS)
        keys = list(client.scan_iter(f"*{namespace}*"))
        if keys:
            client.delete(*keys)
        client.close()


def test_requests_are_counted_in_redis(redis_stack):
    stack, namespace = redis_stack
    from comptroller.gateway.enforcement.redis_backend import RedisBudgetReserver, RedisRateLimiter

    assert isinstance(stack.parts.reserver, RedisBudgetReserver)
    assert isinstance(stack.parts.limiter, RedisRateLimiter)
    client = openai.OpenAI(base_url=f"{stack.url}/v1", api_key=secret("budgeted"), max_retries=0)
    client.chat.completions.create(model="fast", messages=MESSAGES)
    assert list(redis.Redis.from_url(REDIS).scan_iter(f"*{namespace}*")), "counters live under the namespace"
    limited = openai.OpenAI(base_url=f"{stack.url}/v1", api_key=secret("limited"), max_retries=0)
    limited.chat.completions.create(model="fast", messages=MESSAGES)
    limited.chat.completions.create(model="fast", messages=MESSAGES)
    with pytest.raises(openai.RateLimitError):
        limited.chat.completions.create(model="fast", messages=MESSAGES)
    broke = openai.OpenAI(base_url=f"{stack.url}/v1", api_key=secret("broke"), max_retries=0)
    with pytest.raises(openai.APIStatusError) as caught:
        broke.chat.completions.create(model="fast", messages=MESSAGES)
    assert caught.value.status_code == 402


def test_cache_is_shared_through_redis(redis_stack):
    stack, _ = redis_stack
    client = openai.OpenAI(base_url=f"{stack.url}/v1", api_key=secret("cached"), max_retries=0)
    client.chat.completions.create(model="gpt-4o", messages=MESSAGES, temperature=0)
    raw = client.chat.completions.with_raw_response.create(model="gpt-4o", messages=MESSAGES, temperature=0)
    assert raw.headers["x-comptroller-cache"] == "exact"
