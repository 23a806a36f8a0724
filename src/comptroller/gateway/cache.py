"""The exact response cache: identical, deterministic-enough requests answered without a call.

What is cached: the complete upstream answer, as bytes. A non-streaming answer is its body; a
streaming one is its SSE chunks, re-emitted in the same order on a hit, so the client sees the
same wire format either way. Only successful, complete answers should be stored (status 200,
a stream that reached its end event); the caller decides that, and logs each hit as a spend
event with ``avoided_cost`` = the cost the stored answer had.

What is cacheable (``cacheable``): a request whose ``x-comptroller-cache`` header says ``on``;
otherwise only when the key opted in (``VirtualKey.cache_opt_in``) and the request sets a
temperature no higher than ``max_temperature`` (default 0). Omitting temperature means the
provider's default (1.0 for OpenAI and Anthropic), which is not deterministic, so it is not
cached. ``x-comptroller-cache: off`` always bypasses the cache.

The key (``cache_key``): SHA-256 over the provider kind, the path, an optional scope (a key or
team id, so tenants never share answers) and the request body as canonical JSON (sorted keys,
no whitespace) without the fields in ``IGNORED_FIELDS``, which label or route a request but
do not change the answer (``user``, ``metadata``, ``store``, ...). ``stream`` and
``stream_options`` stay in the key: the cached bytes are the framing, so a streaming request
is answered only from a streamed answer (with the same usage chunk), never from a body.
"""

from __future__ import annotations

import hashlib
import logging
import struct
import time
from collections import OrderedDict
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Protocol

import orjson

log = logging.getLogger(__name__)

CACHE_HEADER = "x-comptroller-cache"
IGNORED_FIELDS = frozenset(
    {"user", "metadata", "store", "safety_identifier", "prompt_cache_key", "service_tier"}
)
"""Body fields that never change the answer: end-user ids, labels, storage and routing hints."""
_MAGIC = b"CR1"
_HEADER_LEN = struct.Struct(">I")


@dataclass(frozen=True, slots=True)
class CachedResponse:
    """An upstream answer as it went to the client: ``body`` or, for a stream, ``chunks``."""

    status: int
    headers: list[tuple[str, str]]
    body: bytes | None
    chunks: list[bytes] | None
    usage: dict[str, Any] | None
    cost: Decimal | None
    """What the answer cost when it was made: a hit's avoided cost."""

    @property
    def streamed(self) -> bool:
        return self.chunks is not None

    def replay(self) -> Iterator[bytes]:
        """The bytes to send again: the SSE chunks in their order, or the body."""
        if self.chunks is not None:
            yield from self.chunks
        elif self.body is not None:
            yield self.body

    def size(self) -> int:
        payload = len(self.body or b"") + sum(len(c) for c in self.chunks or ())
        return payload + sum(len(k) + len(v) for k, v in self.headers) + 64


def canonical_request(body: Mapping[str, Any], ignored: frozenset[str] = IGNORED_FIELDS) -> bytes:
    """The request as compact JSON with sorted keys, without fields that do not change the answer."""
    kept = {k: v for k, v in body.items() if k not in ignored}
    return orjson.dumps(kept, option=orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS)


def cache_key(provider_kind: str, path: str, body: Mapping[str, Any], *, scope: str = "") -> str:
    """A stable key for one request; ``scope`` (a key or team id) keeps tenants apart."""
    digest = hashlib.sha256()
    for part in (provider_kind.encode(), path.encode(), scope.encode()):
        digest.update(part)
        digest.update(b"\0")
    digest.update(canonical_request(body))
    return digest.hexdigest()


def cacheable(
    body: Mapping[str, Any],
    headers: Mapping[str, str],
    *,
    key_opt_in: bool,
    max_temperature: float = 0.0,
) -> bool:
    """Whether a request may be answered from, and stored in, the cache (see the module doc).

    ``headers`` must be keyed by lower-case names (ASGI headers are)."""
    switch = headers.get(CACHE_HEADER, "").strip().lower()
    if switch in ("off", "no", "no-store", "false", "0"):
        return False
    if switch in ("on", "yes", "true", "1"):
        return True
    if not key_opt_in:
        return False
    temperature = body.get("temperature")
    if isinstance(temperature, bool) or not isinstance(temperature, int | float):
        return False
    return temperature <= max_temperature


class ResponseCache(Protocol):
    async def lookup(self, key: str) -> CachedResponse | None:
        """The stored answer, or None on a miss, an expired entry or an unreachable store."""
        ...

    async def store(self, key: str, value: CachedResponse, ttl_s: float) -> None:
        """Keep ``value`` for ``ttl_s`` seconds; a failure to store is logged, never raised."""
        ...


class MemoryResponseCache:
    """One replica's cache: least recently used entries go first once ``max_entries`` or
    ``max_bytes`` is reached; entries expire after their TTL. Everything is in-process, so a
    lookup costs a dict access."""

    def __init__(self, max_entries: int = 10_000, max_bytes: int = 64 * 1024 * 1024) -> None:
        self.max_entries = max_entries
        self.max_bytes = max_bytes
        self._entries: OrderedDict[str, tuple[float, int, CachedResponse]] = OrderedDict()
        self._bytes = 0
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def bytes(self) -> int:
        return self._bytes

    async def lookup(self, key: str) -> CachedResponse | None:
        entry = self._entries.get(key)
        if entry is None:
            self.misses += 1
            return None
        expires, _, value = entry
        if expires <= time.monotonic():
            self._remove(key)
            self.misses += 1
            return None
        self._entries.move_to_end(key)
        self.hits += 1
        return value

    async def store(self, key: str, value: CachedResponse, ttl_s: float) -> None:
        size = value.size()
        if size > self.max_bytes or ttl_s <= 0:
            return  # larger than the whole cache: keeping it would evict everything else
        if key in self._entries:
            self._remove(key)
        self._entries[key] = (time.monotonic() + ttl_s, size, value)
        self._bytes += size
        while len(self._entries) > self.max_entries or self._bytes > self.max_bytes:
            self._remove(next(iter(self._entries)))

    def _remove(self, key: str) -> None:
        _, size, _ = self._entries.pop(key)
        self._bytes -= size


def encode_cached(value: CachedResponse) -> bytes:
    """A compact binary form for a shared store: a JSON header, then the raw bytes (no base64)."""
    parts = value.chunks if value.chunks is not None else [value.body or b""]
    header = {
        "status": value.status,
        "headers": value.headers,
        "usage": value.usage,
        "cost": None if value.cost is None else str(value.cost),
        "streamed": value.chunks is not None,
        "has_body": value.body is not None,
        "lengths": [len(p) for p in parts],
    }
    head = orjson.dumps(header)
    return b"".join((_MAGIC, _HEADER_LEN.pack(len(head)), head, *parts))


def decode_cached(data: bytes) -> CachedResponse:
    """The inverse of ``encode_cached``; raises ValueError on anything it did not write."""
    if not data.startswith(_MAGIC) or len(data) < len(_MAGIC) + _HEADER_LEN.size:
        raise ValueError("not a cached response")
    start = len(_MAGIC) + _HEADER_LEN.size
    (head_len,) = _HEADER_LEN.unpack_from(data, len(_MAGIC))
    header = orjson.loads(data[start : start + head_len])
    offset = start + head_len
    parts: list[bytes] = []
    for length in header["lengths"]:
        parts.append(data[offset : offset + length])
        offset += length
    if offset != len(data):
        raise ValueError("cached response has trailing or missing bytes")
    streamed = header["streamed"]
    return CachedResponse(
        status=header["status"],
        headers=[(k, v) for k, v in header["headers"]],
        body=None if streamed or not header["has_body"] else parts[0],
        chunks=parts if streamed else None,
        usage=header["usage"],
        cost=None if header["cost"] is None else Decimal(header["cost"]),
    )


class RedisResponseCache:
    """A cache shared by every replica, in Redis under ``<namespace>:cache:<key>`` with the TTL
    set on the key. Redis errors are logged and count as misses: the cache must never fail a
    request."""

    def __init__(self, url: str, namespace: str = "comptroller", *, client: Any = None) -> None:
        import redis.asyncio as redis

        self._redis = client if client is not None else redis.from_url(url)
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError)
        self.prefix = f"{namespace}:cache:"
        self.errors = 0

    async def lookup(self, key: str) -> CachedResponse | None:
        try:
            data = await self._redis.get(self.prefix + key)
        except self._errors as exc:
            self.errors += 1
            log.warning("response cache lookup failed, treated as a miss: %s", exc)
            return None
        if data is None:
            return None
        try:
            return decode_cached(data)
        except (ValueError, KeyError, TypeError, orjson.JSONDecodeError) as exc:
            log.warning("response cache entry %s is unreadable, treated as a miss: %s", key, exc)
            return None

    async def store(self, key: str, value: CachedResponse, ttl_s: float) -> None:
        if ttl_s <= 0:
            return
        try:
            await self._redis.set(self.prefix + key, encode_cached(value), px=max(1, int(ttl_s * 1000)))
        except self._errors as exc:
            self.errors += 1
            log.warning("response cache store failed; the answer was still sent: %s", exc)

    async def close(self) -> None:
        await self._redis.aclose()
