"""The upstream embedder against an aiohttp server on loopback speaking OpenAI's embeddings format."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import pytest
from aiohttp import web

from comptroller.gateway.embedders import EmbedderUnavailableError, HashingEmbedder, UpstreamEmbedder
from comptroller.gateway.semantic_cache import SemanticCache
from tests.gateway.cache.helpers import body_response

KEY = "sk-upstream-test"


@asynccontextmanager
async def embeddings_server(fail_with: int | None = None) -> AsyncIterator[tuple[str, list[dict]]]:
    """POST /v1/embeddings as OpenAI answers it; vectors come from the hashing embedder, data
    items in reverse order (clients must sort by index)."""
    seen: list[dict] = []
    local = HashingEmbedder(dimensions=64)

    async def embeddings(request: web.Request) -> web.Response:
        payload = await request.json()
        seen.append({"auth": request.headers.get("authorization"), **payload})
        if fail_with:
            return web.json_response({"error": {"message": "overloaded"}}, status=fail_with)
        texts = payload["input"] if isinstance(payload["input"], list) else [payload["input"]]
        data = [
            {"object": "embedding", "index": i, "embedding": (local.vector(t) * 3).tolist()}
            for i, t in enumerate(texts)
        ]
        return web.json_response(
            {
                "object": "list",
                "data": list(reversed(data)),
                "model": payload["model"],
                "usage": {"prompt_tokens": 7 * len(texts), "total_tokens": 7 * len(texts)},
            }
        )

    app = web.Application()
    app.router.add_post("/v1/embeddings", embeddings)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
    try:
        yield f"http://127.0.0.1:{port}/v1", seen
    finally:
        await runner.cleanup()


def test_vectors_come_back_normalised_and_in_order():
    async def run():
        async with embeddings_server() as (base_url, seen):
            embedder = UpstreamEmbedder(base_url, "text-embedding-3-small", KEY)
            try:
                vectors = await embedder.embed(["first text", "second text"])
            finally:
                await embedder.close()
        local = HashingEmbedder(dimensions=64)
        assert vectors[0] == pytest.approx(local.vector("first text").tolist(), abs=1e-6)
        assert vectors[1] == pytest.approx(local.vector("second text").tolist(), abs=1e-6)
        assert seen == [
            {
                "auth": f"Bearer {KEY}",
                "model": "text-embedding-3-small",
                "input": ["first text", "second text"],
                "encoding_format": "float",
            }
        ]
        assert embedder.last_usage == {"prompt_tokens": 14, "total_tokens": 14}

    asyncio.run(run())


def test_the_semantic_cache_over_the_upstream_embedder_embeds_once_per_text():
    async def run():
        async with embeddings_server() as (base_url, seen):
            embedder = UpstreamEmbedder(base_url, "text-embedding-3-small", KEY)
            try:
                cache = SemanticCache(embedder, threshold=0.9)
                question = "How do I rotate an API key?"
                assert await cache.lookup("team-a", question) is None
                await cache.store("team-a", question, body_response(), 60)  # reuses the lookup's vector
                hit = await cache.lookup("team-a", "how do I rotate an API key")
            finally:
                await embedder.close()
        assert hit is not None and hit.similarity > 0.9
        assert len(seen) == 2

    asyncio.run(run())


def test_errors_and_unreachable_endpoints_raise_embedder_unavailable():
    async def run():
        async with embeddings_server(fail_with=503) as (base_url, _):
            embedder = UpstreamEmbedder(base_url, "m")
            try:
                with pytest.raises(EmbedderUnavailableError, match="503"):
                    await embedder.embed(["x"])
            finally:
                await embedder.close()
        embedder = UpstreamEmbedder("http://127.0.0.1:1/v1", "m", timeout_s=2)
        try:
            with pytest.raises(EmbedderUnavailableError, match="unreachable"):
                await embedder.embed(["x"])
        finally:
            await embedder.close()

    asyncio.run(run())
