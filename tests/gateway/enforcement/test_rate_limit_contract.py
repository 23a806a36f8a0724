"""The ``RateLimiter`` contract (GCRA per minute, concurrency slots) on memory and Redis."""

from __future__ import annotations

import asyncio

import pytest

from comptroller.gateway.enforcement.memory import MemoryRateLimiter
from comptroller.gateway.enforcement.redis_backend import RedisRateLimiter
from comptroller.gateway.ports import RateLimited
from comptroller.gateway.snapshot import RateLimit
from tests.gateway.enforcement.conftest import REDIS_URL

pytestmark = pytest.mark.anyio


def limit(limit_id: str, **values: int) -> RateLimit:
    return RateLimit(id=limit_id, scope="key", scope_value="k1", **values)


async def test_requests_per_minute(limiter):
    three = limit("rpm3", requests_per_minute=3)
    for _ in range(3):
        await limiter.acquire([three], 0)
    with pytest.raises(RateLimited) as limited:
        await limiter.acquire([three], 0)
    assert limited.value.what == "requests per minute"
    # GCRA: the next request fits when one third of a minute has passed since the first.
    assert 19 < limited.value.retry_after_s <= 20.001


async def test_tokens_per_minute_are_corrected_by_actual_use(limiter):
    tpm = limit("tpm", tokens_per_minute=1000)
    first = await limiter.acquire([tpm], 600)
    with pytest.raises(RateLimited) as limited:
        await limiter.acquire([tpm], 600)
    assert limited.value.what == "tokens per minute"
    assert 11 < limited.value.retry_after_s <= 12.001
    await limiter.release(first, 100)  # used far fewer than estimated: 500 tokens come back
    await limiter.acquire([tpm], 600)
    with pytest.raises(RateLimited):
        await limiter.acquire([tpm], 400)


async def test_tokens_beyond_the_estimate_use_up_capacity(limiter):
    tpm = limit("tpm-over", tokens_per_minute=1000)
    first = await limiter.acquire([tpm], 100)
    await limiter.release(first, 900)
    with pytest.raises(RateLimited):
        await limiter.acquire([tpm], 200)
    await limiter.acquire([tpm], 100)


async def test_concurrency_slots(limiter):
    two = limit("conc2", max_concurrent=2)
    held = [await limiter.acquire([two], 0) for _ in range(2)]
    with pytest.raises(RateLimited) as limited:
        await limiter.acquire([two], 0)
    assert limited.value.what == "concurrent requests"
    await limiter.release(held[0], 0)
    await limiter.release(held[0], 0)  # releasing twice frees one slot only
    await limiter.acquire([two], 0)
    with pytest.raises(RateLimited):
        await limiter.acquire([two], 0)


async def test_refused_request_charges_no_limit(limiter):
    roomy, tight = limit("roomy", requests_per_minute=5), limit("tight", requests_per_minute=1)
    await limiter.acquire([roomy, tight], 0)
    for _ in range(3):
        with pytest.raises(RateLimited) as limited:
            await limiter.acquire([roomy, tight], 0)
        assert limited.value.limit.id == "tight"
    for _ in range(4):
        await limiter.acquire([roomy], 0)
    with pytest.raises(RateLimited):
        await limiter.acquire([roomy], 0)


async def test_concurrent_acquires_respect_the_slot_count(limiter):
    five = limit("conc5", max_concurrent=5, requests_per_minute=1000)

    async def attempt() -> bool:
        try:
            await limiter.acquire([five], 0)
        except RateLimited:
            return False
        return True

    results = await asyncio.gather(*(attempt() for _ in range(40)))
    assert sum(results) == 5


async def test_redis_limits_are_shared_by_replicas(namespace):
    replicas = [RedisRateLimiter(REDIS_URL, namespace) for _ in range(2)]
    try:
        shared = limit("shared", requests_per_minute=4, max_concurrent=3)
        permits = [await replicas[i % 2].acquire([shared], 0) for i in range(3)]
        with pytest.raises(RateLimited) as limited:
            await replicas[1].acquire([shared], 0)
        assert limited.value.what == "concurrent requests"
        await replicas[0].release(permits[1], 0)  # a slot taken on one replica, freed by another
        await replicas[1].acquire([shared], 0)
        with pytest.raises(RateLimited) as limited:
            await replicas[0].acquire([shared], 0)
        assert limited.value.what in {"concurrent requests", "requests per minute"}
    finally:
        for replica in replicas:
            await replica.aclose()


async def test_redis_slots_of_a_crashed_replica_expire(namespace):
    crashed = RedisRateLimiter(REDIS_URL, namespace, slot_ttl_s=0.3)
    survivor = RedisRateLimiter(REDIS_URL, namespace, slot_ttl_s=0.3)
    try:
        one = limit("one-slot", max_concurrent=1)
        await crashed.acquire([one], 0)  # never released
        with pytest.raises(RateLimited):
            await survivor.acquire([one], 0)
        await asyncio.sleep(0.45)
        await survivor.acquire([one], 0)
    finally:
        await crashed.aclose()
        await survivor.aclose()


async def test_memory_limiter_windows_refill_with_time():
    now = [1000.0]
    limiter = MemoryRateLimiter(clock=lambda: now[0])
    two = limit("refill", requests_per_minute=2)
    await limiter.acquire([two], 0)
    await limiter.acquire([two], 0)
    with pytest.raises(RateLimited):
        await limiter.acquire([two], 0)
    now[0] += 30  # half a minute brings back one request
    await limiter.acquire([two], 0)
    with pytest.raises(RateLimited):
        await limiter.acquire([two], 0)
    now[0] += 60
    await limiter.acquire([two], 0)
    await limiter.acquire([two], 0)
