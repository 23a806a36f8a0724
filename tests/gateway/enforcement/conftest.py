"""Fixtures for the enforcement engines: each contract test runs against memory and Redis.

Redis is shared with other test sessions, so every test works under its own random namespace
and deletes only that namespace's keys afterwards.
"""

from __future__ import annotations

import inspect
import os
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
import redis.asyncio as redis

from comptroller.gateway.enforcement.memory import MemoryBudgetReserver, MemoryRateLimiter
from comptroller.gateway.enforcement.redis_backend import RedisBudgetReserver, RedisRateLimiter
from comptroller.gateway.snapshot import Snapshot

REDIS_URL = os.environ.get("COMPTROLLER_TEST_REDIS", "redis://127.0.0.1:6379/0")
# Nothing listens on port 1 of the loopback: connections are refused at once.
UNREACHABLE_URL = "redis://127.0.0.1:1/0"
BACKENDS = ["memory", "redis"]


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


async def drop_namespace(name: str) -> None:
    """Delete the keys of one test namespace, and nothing else; bounded, so that a test which
    failed mid-outage cannot leave its teardown waiting."""
    client = redis.Redis.from_url(REDIS_URL, socket_timeout=5.0, socket_connect_timeout=5.0)
    try:
        keys = [key async for key in client.scan_iter(match=f"{{{name}}}:*", count=500)]
        if keys:
            await client.delete(*keys)
    finally:
        await client.aclose()


@pytest.fixture
async def namespace() -> AsyncIterator[str]:
    name = f"test-enforcement-{uuid.uuid4().hex[:12]}"
    yield name
    await drop_namespace(name)


async def apply_snapshot(engine: Any, snapshot: Snapshot) -> None:
    """Memory engines apply a snapshot synchronously, Redis ones asynchronously."""
    result = engine.apply_snapshot(snapshot)
    if inspect.isawaitable(result):
        await result


class ReserverFactory:
    """Makes reservers of one backend; Redis ones share the test's namespace like replicas."""

    def __init__(self, backend: str, namespace: str) -> None:
        self.backend = backend
        self.namespace = namespace
        self._made: list[RedisBudgetReserver] = []

    def __call__(self, **options: Any) -> MemoryBudgetReserver | RedisBudgetReserver:
        if self.backend == "memory":
            return MemoryBudgetReserver(**options)
        made = RedisBudgetReserver(REDIS_URL, self.namespace, **options)
        self._made.append(made)
        return made

    async def aclose(self) -> None:
        for made in self._made:
            await made.aclose()


@pytest.fixture(params=BACKENDS)
async def make_reserver(request, namespace) -> AsyncIterator[ReserverFactory]:
    factory = ReserverFactory(request.param, namespace)
    yield factory
    await factory.aclose()


@pytest.fixture
async def reserver(make_reserver):
    return make_reserver()


@pytest.fixture(params=BACKENDS)
async def limiter(request, namespace):
    if request.param == "memory":
        yield MemoryRateLimiter()
        return
    made = RedisRateLimiter(REDIS_URL, namespace)
    yield made
    await made.aclose()
