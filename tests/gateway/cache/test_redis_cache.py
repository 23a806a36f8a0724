"""The shared response cache on the real Redis, under a namespace of its own per test."""

from __future__ import annotations

import asyncio
import logging
import os
import uuid

import redis.asyncio as redis

from comptroller.gateway.cache import RedisResponseCache
from tests.gateway.cache.helpers import body_response, stream_response

REDIS_URL = os.environ.get("COMPTROLLER_TEST_REDIS", "redis://127.0.0.1:6379/0")


def run_with_cache(test):
    async def run():
        namespace = f"test-{uuid.uuid4().hex}"
        cache = RedisResponseCache(REDIS_URL, namespace)
        try:
            await test(cache, namespace)
        finally:
            cleanup = redis.from_url(REDIS_URL)
            keys = [key async for key in cleanup.scan_iter(match=f"{namespace}:*")]
            if keys:
                await cleanup.delete(*keys)
            await cleanup.aclose()
            await cache.close()

    asyncio.run(run())


def test_stored_answers_are_shared_and_expire():
    async def test(cache, namespace):
        await cache.store("k1", body_response(), 60)
        await cache.store("k2", stream_response(), 0.2)
        other_replica = RedisResponseCache(REDIS_URL, namespace)
        try:
            assert await other_replica.lookup("k1") == body_response()
            assert await other_replica.lookup("k2") == stream_response()
        finally:
            await other_replica.close()
        assert await cache.lookup("missing") is None
        await asyncio.sleep(0.3)
        assert await cache.lookup("k2") is None  # Redis dropped it at its TTL
        elsewhere = RedisResponseCache(REDIS_URL, f"{namespace}-other")
        try:
            assert await elsewhere.lookup("k1") is None  # namespaces do not share
        finally:
            await elsewhere.close()

    run_with_cache(test)


def test_an_unreadable_entry_is_a_miss(caplog):
    async def test(cache, namespace):
        raw = redis.from_url(REDIS_URL)
        await raw.set(f"{namespace}:cache:k", b"not ours", ex=60)
        await raw.aclose()
        assert await cache.lookup("k") is None
        assert "unreadable" in caplog.text

    run_with_cache(test)


def test_an_unreachable_redis_never_fails_a_request(caplog):
    async def run():
        cache = RedisResponseCache("redis://127.0.0.1:1/0", "nowhere")
        try:
            assert await cache.lookup("k") is None
            await cache.store("k", body_response(), 60)
        finally:
            await cache.close()
        assert cache.errors == 2
        assert "treated as a miss" in caplog.text and "still sent" in caplog.text

    with caplog.at_level(logging.WARNING):
        asyncio.run(run())
