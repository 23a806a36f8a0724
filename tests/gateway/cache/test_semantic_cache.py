"""The semantic cache with the local hashing embedder: thresholds, scopes, expiry, eviction."""

from __future__ import annotations

import asyncio
import time

import pytest

from comptroller.gateway.embedders import EmbedderUnavailableError, HashingEmbedder
from comptroller.gateway.semantic_cache import SemanticCache, request_text, semantic_scope
from tests.gateway.cache.helpers import body_response

QUESTION = "What is the capital city of France? Answer in one word."
CHAT = "/v1/chat/completions"


def chat(text: str, **settings: object) -> dict:
    return {
        "model": "gpt-4o-mini",
        "temperature": 0,
        "messages": [{"role": "user", "content": text}],
        **settings,
    }


def scope(body: dict, tenant: str = "team-a") -> str:
    return semantic_scope("openai", CHAT, body, tenant)


def test_near_duplicates_hit_other_questions_miss():
    async def run():
        cache = SemanticCache(HashingEmbedder(), threshold=0.8)
        await cache.store(scope(chat(QUESTION)), QUESTION, body_response(), 60)
        near = "what is the capital city of france?  answer in one word"
        hit = await cache.lookup(scope(chat(near)), near)
        assert hit is not None and hit.similarity > 0.9 and hit.value == body_response()
        other = "Summarise the attached quarterly report in three bullet points."
        assert await cache.lookup(scope(chat(other)), other) is None

    asyncio.run(run())


def test_the_threshold_decides():
    async def run():
        embedder = HashingEmbedder()
        variant = "What is the capital city of Germany? Answer in one word."
        similarity = float(embedder.vector(QUESTION) @ embedder.vector(variant))
        assert 0.5 < similarity < 0.99
        for threshold, expected in ((similarity - 0.01, True), (min(1.0, similarity + 0.01), False)):
            cache = SemanticCache(embedder, threshold=threshold)
            await cache.store(scope(chat(QUESTION)), QUESTION, body_response(), 60)
            assert (await cache.lookup(scope(chat(variant)), variant) is not None) is expected

    asyncio.run(run())


def test_answers_never_cross_tenants_models_or_settings():
    async def run():
        cache = SemanticCache(HashingEmbedder(), threshold=0.8)
        await cache.store(scope(chat(QUESTION)), QUESTION, body_response(), 60)
        assert await cache.lookup(scope(chat(QUESTION)), QUESTION) is not None
        assert await cache.lookup(scope(chat(QUESTION), tenant="team-b"), QUESTION) is None
        assert await cache.lookup(scope(chat(QUESTION, model="gpt-4o")), QUESTION) is None
        assert await cache.lookup(scope(chat(QUESTION, max_tokens=3)), QUESTION) is None
        assert await cache.lookup(scope(chat(QUESTION, tools=[{"type": "function"}])), QUESTION) is None

    asyncio.run(run())


def test_entries_expire_and_the_least_recently_used_go_first():
    async def run():
        cache = SemanticCache(HashingEmbedder(), threshold=0.99, max_entries=2)
        texts = [f"question number {n}: how many moons does planet {n} have?" for n in range(3)]
        for text in texts[:2]:
            await cache.store("s", text, body_response(text), 60)
        assert await cache.lookup("s", texts[0]) is not None
        await cache.store("s", texts[2], body_response(texts[2]), 60)
        assert len(cache) == 2 and await cache.lookup("s", texts[1]) is None
        assert (await cache.lookup("s", texts[0])).value == body_response(texts[0])
        await cache.store("t", "short-lived", body_response(), 0.05)
        time.sleep(0.06)
        assert await cache.lookup("t", "short-lived") is None

    asyncio.run(run())


def test_a_failing_embedder_is_a_miss(caplog):
    class Broken:
        async def embed(self, texts):
            raise EmbedderUnavailableError("down")

    async def run():
        cache = SemanticCache(Broken())
        await cache.store("s", QUESTION, body_response(), 60)
        assert await cache.lookup("s", QUESTION) is None and len(cache) == 0

    asyncio.run(run())
    assert "treated as a miss" in caplog.text


def test_request_text_reads_each_wire_format():
    anthropic = {
        "system": [{"type": "text", "text": "Be brief."}],
        "messages": [{"role": "user", "content": [{"type": "text", "text": "Hi"}]}],
    }
    assert request_text(anthropic) == "system: Be brief.\nuser: Hi"
    assert request_text({"instructions": "Be brief.", "input": "Hi"}) == "instructions: Be brief.\nuser: Hi"
    assert request_text({"prompt": "Hi"}) == "user: Hi"


def test_threshold_must_be_a_similarity():
    with pytest.raises(ValueError, match="threshold"):
        SemanticCache(HashingEmbedder(), threshold=1.5)
