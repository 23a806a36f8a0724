"""Assemble a gateway from its configuration: engines, snapshot source, spool, cache, app.

With a ``redis_url`` in the config, budgets and rate limits are shared through Redis (several
replicas); without, they are counted in process memory (one replica). The snapshot comes from
Redis when ``snapshot.redis_url`` is set, else from a JSON file (``snapshot.file``, by default
``$COMPTROLLER_HOME/gateway-snapshot.json``). Every engine that keeps per-snapshot state is told
of each new snapshot through the source's ``on_change``.
"""

from __future__ import annotations

import inspect
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from comptroller.gateway.app import GatewayApp, Hook
from comptroller.gateway.cache import MemoryResponseCache, RedisResponseCache, ResponseCache
from comptroller.gateway.caching import CacheLayer
from comptroller.gateway.config import GatewayConfig
from comptroller.gateway.enforcement.killswitch import SnapshotKillSwitchBoard
from comptroller.gateway.enforcement.memory import MemoryBudgetReserver, MemoryRateLimiter
from comptroller.gateway.pipeline import Admission
from comptroller.gateway.prices import PriceSource
from comptroller.gateway.proxy import Gateway
from comptroller.gateway.snapshot import Snapshot
from comptroller.gateway.snapshot_source import FileSnapshotSource, RedisSnapshotSource
from comptroller.gateway.spool import Spool


def comptroller_home() -> Path:
    return Path(os.environ.get("COMPTROLLER_HOME") or ".comptroller").resolve()


@dataclass
class Parts:
    """What ``build_app`` made, so callers (tests, the CLI) can reach each engine."""

    app: GatewayApp
    admission: Admission
    source: Any
    spool: Spool
    reserver: Any
    limiter: Any
    kill_switches: SnapshotKillSwitchBoard
    closers: list[Hook] = field(default_factory=list)


def build_app(config: GatewayConfig, *, pricer: PriceSource | None = None, source: Any = None) -> Parts:
    if source is None:
        if config.snapshot.redis_url:
            source = RedisSnapshotSource(config.snapshot.redis_url, config.snapshot.redis_namespace)
        else:
            source = FileSnapshotSource(config.snapshot.file or comptroller_home() / "gateway-snapshot.json")
    closers: list[Hook] = []
    if config.redis_url:
        from comptroller.gateway.enforcement.redis_backend import RedisBudgetReserver, RedisRateLimiter

        reserver: Any = RedisBudgetReserver(config.redis_url, config.redis_namespace)
        limiter: Any = RedisRateLimiter(config.redis_url, config.redis_namespace)
        closers += [reserver.aclose, limiter.aclose]
    else:
        reserver, limiter = MemoryBudgetReserver(), MemoryRateLimiter()
    kill_switches = SnapshotKillSwitchBoard()
    spool = Spool(config.spool_dir or comptroller_home() / "spool")
    cache = _cache_layer(config, closers)
    admission = Admission(config, source, reserver, limiter, kill_switches, spool, pricer)
    gateway = Gateway(admission, cache)

    async def apply(snapshot: Snapshot) -> None:
        kill_switches.apply_snapshot(snapshot)
        result = reserver.apply_snapshot(snapshot)
        if inspect.isawaitable(result):
            await result

    async def start() -> None:
        source.on_change(apply)
        await spool.start()
        await source.start()
        await apply(source.current())

    async def stop() -> None:
        await source.stop()
        for close in closers:
            await close()
        await spool.close()

    app = GatewayApp(gateway, on_start=[start], on_stop=[stop])
    return Parts(app, admission, source, spool, reserver, limiter, kill_switches, closers)


def _cache_layer(config: GatewayConfig, closers: list[Hook]) -> CacheLayer | None:
    if not config.cache.enabled:
        return None
    exact: ResponseCache
    if config.redis_url:
        shared = RedisResponseCache(config.redis_url, config.redis_namespace)
        closers.append(shared.close)
        exact = shared
    else:
        exact = MemoryResponseCache(max_entries=config.cache.max_entries)
    options = config.cache.semantic
    if not options.enabled:
        return CacheLayer(config.cache, exact)
    from comptroller.gateway.embedders import Embedder, HashingEmbedder, UpstreamEmbedder
    from comptroller.gateway.semantic_cache import SemanticCache

    embedder: Embedder
    if options.embedder == "hashing":
        embedder = HashingEmbedder()
    else:
        target = next(d for d in config.deployments if d.name == options.embedder)
        upstream = UpstreamEmbedder(target.base_url, options.embedding_model or "", target.api_key())
        closers.append(upstream.close)
        embedder = upstream
    semantic = SemanticCache(embedder, threshold=options.threshold, max_entries=options.max_entries)
    return CacheLayer(config.cache, exact, semantic)


CONFIG_ENV = "COMPTROLLER_GATEWAY_CONFIG"


def app_from_env() -> GatewayApp:
    """uvicorn factory (``--factory``) for worker processes: the config path comes from the env."""
    from comptroller.gateway.config import load_config

    path = os.environ.get(CONFIG_ENV)
    if not path:
        raise RuntimeError(
            f"{CONFIG_ENV} is not set; start the gateway with `comptroller gateway --config FILE`"
        )
    return build_app(load_config(path)).app
