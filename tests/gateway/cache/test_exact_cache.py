"""The exact cache: keys, the cacheability rule, LRU and TTL in memory, the stored form."""

from __future__ import annotations

import asyncio
import time
from decimal import Decimal

import pytest

from comptroller.gateway.cache import (
    CachedResponse,
    MemoryResponseCache,
    cache_key,
    cacheable,
    decode_cached,
    encode_cached,
)
from tests.gateway.cache.helpers import body_response, stream_response

REQUEST = {
    "model": "gpt-4o-mini",
    "messages": [{"role": "user", "content": "Capital of France?"}],
    "temperature": 0,
}


def test_the_key_ignores_labels_and_key_order_but_not_the_answer_or_framing():
    key = cache_key("openai", "/v1/chat/completions", REQUEST)
    relabelled = {"user": "u-7", "metadata": {"run": "3"}, **dict(reversed(list(REQUEST.items())))}
    assert cache_key("openai", "/v1/chat/completions", relabelled) == key
    assert cache_key("openai", "/v1/chat/completions", {**REQUEST, "max_tokens": 5}) != key
    assert cache_key("openai", "/v1/chat/completions", {**REQUEST, "stream": True}) != key
    assert cache_key("openai", "/v1/responses", REQUEST) != key
    assert cache_key("anthropic", "/v1/chat/completions", REQUEST) != key
    assert cache_key("openai", "/v1/chat/completions", REQUEST, scope="team-a") != key


@pytest.mark.parametrize(
    ("body", "headers", "opt_in", "expected"),
    [
        (REQUEST, {}, True, True),  # opted-in key, temperature 0
        (REQUEST, {}, False, False),  # the key did not opt in
        ({**REQUEST, "temperature": 0.7}, {}, True, False),  # not deterministic enough
        ({k: v for k, v in REQUEST.items() if k != "temperature"}, {}, True, False),  # default is 1.0
        ({**REQUEST, "temperature": 0.7}, {"x-comptroller-cache": "on"}, False, True),  # asked for
        (REQUEST, {"x-comptroller-cache": "off"}, True, False),  # refused
        ({**REQUEST, "temperature": True}, {}, True, False),
    ],
)
def test_cacheable(body, headers, opt_in, expected):
    assert cacheable(body, headers, key_opt_in=opt_in) is expected


def test_a_threshold_admits_low_temperatures():
    assert cacheable({**REQUEST, "temperature": 0.2}, {}, key_opt_in=True, max_temperature=0.2)


def test_memory_cache_evicts_least_recently_used_and_expires():
    async def run():
        cache = MemoryResponseCache(max_entries=2)
        await cache.store("a", body_response("A"), 60)
        await cache.store("b", body_response("B"), 60)
        assert await cache.lookup("a") is not None  # a is now the most recent
        await cache.store("c", body_response("C"), 60)
        assert await cache.lookup("b") is None and len(cache) == 2
        assert (await cache.lookup("a")).body == body_response("A").body
        await cache.store("short", body_response(), 0.05)
        time.sleep(0.06)
        assert await cache.lookup("short") is None
        assert (cache.hits, cache.misses) == (2, 2)

    asyncio.run(run())


def test_memory_cache_holds_to_its_byte_budget():
    async def run():
        one = body_response().size()
        cache = MemoryResponseCache(max_entries=100, max_bytes=3 * one)
        for n in range(5):
            await cache.store(str(n), body_response(), 60)
        assert len(cache) == 3 and cache.bytes <= 3 * one
        assert await cache.lookup("0") is None and await cache.lookup("4") is not None
        huge = CachedResponse(200, [], b"x" * (4 * one), None, None, None)
        await cache.store("huge", huge, 60)  # bigger than the cache: not kept, nothing evicted
        assert await cache.lookup("huge") is None and len(cache) == 3
        await cache.store("4", body_response("again"), 60)  # replacing an entry keeps the count right
        assert cache.bytes == sum(e[1] for e in cache._entries.values())

    asyncio.run(run())


def test_a_stream_replays_its_chunks_in_order():
    stream = stream_response()
    assert stream.streamed and list(stream.replay()) == stream.chunks
    assert list(body_response().replay()) == [body_response().body]


@pytest.mark.parametrize(
    "value",
    [
        body_response(),
        stream_response(),
        CachedResponse(204, [("x-a", "1")], None, None, None, None),
        CachedResponse(200, [], b"", None, {"input_tokens": 3}, Decimal("1E-7")),
        CachedResponse(200, [], None, [], None, Decimal(0)),
    ],
)
def test_encoding_round_trips(value):
    assert decode_cached(encode_cached(value)) == value


def test_decoding_refuses_foreign_or_cut_data():
    data = encode_cached(stream_response())
    with pytest.raises(ValueError):
        decode_cached(b"hello")
    with pytest.raises(ValueError):
        decode_cached(data[:-3])
