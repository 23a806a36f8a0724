"""The request path's view of the caches: exact first, then semantic, keyed per tenant (key id).

Both follow ``cache.cacheable``: a key that opted in, a request at most ``max_temperature``, or
an explicit ``x-comptroller-cache: on``. A hit is logged with the cost the stored answer had as
``avoided_cost``. The semantic cache's embeddings come from a local hashing embedder (no
network, no spend) unless the configuration names an upstream embedding deployment.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from comptroller.gateway.cache import CachedResponse, ResponseCache, cache_key, cacheable
from comptroller.gateway.call import Call
from comptroller.gateway.config import CacheConfig

if TYPE_CHECKING:  # the semantic cache needs numpy: loaded only when it is configured
    from comptroller.gateway.semantic_cache import SemanticCache

Headers = list[tuple[bytes, bytes]]


class CacheLayer:
    def __init__(
        self, config: CacheConfig, exact: ResponseCache, semantic: SemanticCache | None = None
    ) -> None:
        self.config = config
        self.exact = exact
        self.semantic = semantic

    async def lookup(self, call: Call, headers: Mapping[str, str]) -> tuple[CachedResponse, str] | None:
        """The stored answer and how it was found (``exact`` or ``semantic``), or None."""
        key = call.key
        if key is None or not cacheable(
            call.body, headers, key_opt_in=key.cache_opt_in, max_temperature=self.config.max_temperature
        ):
            return None
        endpoint = call.endpoint
        call.cache_key = cache_key(endpoint.family, endpoint.path, call.body, scope=key.id)
        hit = await self.exact.lookup(call.cache_key)
        if hit is not None:
            return hit, "exact"
        if self.semantic is None:
            return None
        from comptroller.gateway.semantic_cache import request_text, semantic_scope

        call.cache_scope = semantic_scope(endpoint.family, endpoint.path, call.body, key.id)
        call.cache_text = request_text(call.body)
        found = await self.semantic.lookup(call.cache_scope, call.cache_text)
        return (found.value, "semantic") if found is not None else None

    async def store(
        self, call: Call, status: int, headers: Headers, body: bytes | None, chunks: list[bytes] | None
    ) -> None:
        if call.cache_key is None:
            return
        plain = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in headers]
        usage = dict(call.usage.items()) if call.usage is not None else None
        entry = CachedResponse(status, plain, body, chunks, usage, call.contracted_cost)
        await self.exact.store(call.cache_key, entry, self.config.ttl_s)
        if self.semantic is not None and call.cache_scope is not None and call.cache_text is not None:
            await self.semantic.store(call.cache_scope, call.cache_text, entry, self.config.ttl_s)
