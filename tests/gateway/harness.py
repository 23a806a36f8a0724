"""A real gateway (uvicorn + httptools) and the mock provider (aiohttp), both on loopback.

Both run on one uvloop in a background thread, so tests drive them with the official blocking
SDKs and plain httpx. Keys, budgets, limits and kill switches come from a snapshot file the
gateway watches; spend events are read back from the real spool on disk.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import uvicorn
import uvloop
from aiohttp import web

from comptroller.budgets.model import Budget, BudgetBehaviour, BudgetScope
from comptroller.gateway.build import Parts, build_app
from comptroller.gateway.config import parse_config
from comptroller.gateway.http_protocol import GatewayHttpProtocol
from comptroller.gateway.snapshot import KillSwitch, RateLimit, Snapshot, VirtualKey, hash_key
from comptroller.gateway.snapshot_source import FileSnapshotSource
from comptroller.gateway.spool import read_segment
from comptroller.mock_provider.app import RECORDED, MockSettings, create_app


def secret(name: str) -> str:
    return f"sk-cmp-test-{name}"


def key(name: str, **fields: Any) -> VirtualKey:
    attribution = {"team": "platform", **fields.pop("attribution", {})}
    return VirtualKey(
        id=f"key_{name}", key_hash=hash_key(secret(name)), name=name, attribution=attribution, **fields
    )


def default_snapshot() -> Snapshot:
    past = datetime.now(UTC) - timedelta(days=1)
    keys = [
        key("main"),
        key("cached", cache_opt_in=True),
        key("scoped", models=("gpt-4o-mini",)),
        key("expired", expires_at=past),
        key("revoked", revoked=True),
        key("killed", attribution={"team": "red"}),
        key("limited"),
        key("broke"),
        key("approval"),
        key("personal", data_classes=("personal",)),
        key("eu", attribution={"region": "eu"}),
        key("prompts", store_prompts=True),
        key("budgeted"),
        key("flip"),
        key("capped"),
    ]
    budgets = [
        Budget(
            id="b_broke",
            name="broke",
            scope=BudgetScope.KEY,
            scope_value="key_broke",
            amount=Decimal("0.0001"),
        ),
        Budget(
            id="b_approval",
            name="needs approval",
            scope=BudgetScope.KEY,
            scope_value="key_approval",
            amount=Decimal("0.0001"),
            behaviour=BudgetBehaviour.APPROVAL,
        ),
        Budget(
            id="b_budgeted",
            name="roomy",
            scope=BudgetScope.KEY,
            scope_value="key_budgeted",
            amount=Decimal(100),
        ),
    ]
    budgets.append(
        Budget(
            id="b_capped",
            name="capped",
            scope=BudgetScope.KEY,
            scope_value="key_capped",
            amount=Decimal("0.003"),
        )
    )
    limits = [RateLimit(id="rl_limited", scope="key", scope_value="key_limited", requests_per_minute=2)]
    switches = [
        KillSwitch(id="ks_red", scope="team", scope_value="red", reason="runaway agent", engaged_at=past)
    ]
    return Snapshot(version=1, keys=keys, budgets=budgets, rate_limits=limits, kill_switches=switches)


def gateway_config(
    mock_url: str, spool_dir: Path, snapshot_file: Path, cache: bool = True, **extra: Any
) -> dict[str, Any]:
    v1 = f"{mock_url}/v1"
    return {
        "deployments": [
            {
                "name": "oa-us",
                "provider": "openai",
                "base_url": v1,
                "region": "us",
                "models": {
                    "gpt-4o": "gpt-4o",
                    "gpt-4o-mini": "gpt-4o-mini",
                    "o3-mini": "o3-mini",
                    "text-embedding-3-small": "text-embedding-3-small",
                    "mystery": "mystery-model-x",
                },
            },
            {
                "name": "azure",
                "provider": "azure",
                "base_url": mock_url,
                "api_version": "2024-10-21",
                "azure_deployments": {"gpt-4o": "prod-4o"},
                "models": {"azure-4o": "gpt-4o"},
            },
            {
                "name": "oa-eu",
                "provider": "openai",
                "base_url": v1,
                "region": "eu",
                "models": {"gpt-4o": "gpt-4o"},
            },
            {
                "name": "private-llm",
                "provider": "openai_compatible",
                "base_url": v1,
                "private": True,
                "allowed_data_classes": ["personal"],
                "models": {"gpt-4o": "gpt-4o"},
            },
            {
                "name": "anthropic",
                "provider": "anthropic",
                "base_url": v1,
                "models": {"claude-sonnet-4-5": "claude-sonnet-4-5"},
            },
            {
                "name": "fails-500",
                "provider": "openai",
                "base_url": f"{mock_url}/fault/500/v1",
                "models": {"m500": "gpt-4o-mini"},
            },
            {
                "name": "fails-429",
                "provider": "openai",
                "base_url": f"{mock_url}/fault/429/v1",
                "models": {"m429": "gpt-4o-mini"},
            },
            {
                "name": "hangs",
                "provider": "openai",
                "base_url": f"{mock_url}/fault/hang/v1",
                "timeout_s": 0.3,
                "models": {"mhang": "gpt-4o-mini"},
            },
            {
                "name": "refuses",
                "provider": "openai",
                "base_url": "http://127.0.0.1:9/v1",
                "models": {"mconn": "gpt-4o-mini"},
            },
            {
                "name": "cuts",
                "provider": "openai",
                "base_url": f"{mock_url}/fault/cut/v1",
                "models": {"cut-model": "gpt-4o-mini"},
            },
            {
                "name": "slow",
                "provider": "openai",
                "base_url": f"{mock_url}/fault/slow/v1",
                "models": {"slow-model": "gpt-4o-mini"},
            },
            {
                "name": "anthropic-500",
                "provider": "anthropic",
                "base_url": f"{mock_url}/fault/500/v1",
                "models": {"claude-broken": "claude-sonnet-4-5"},
            },
        ],
        "aliases": {
            "fast": ["gpt-4o-mini"],
            "resilient-500": ["m500", "gpt-4o-mini"],
            "resilient-429": ["m429", "gpt-4o-mini"],
            "resilient-hang": ["mhang", "gpt-4o-mini"],
            "resilient-conn": ["mconn", "gpt-4o-mini"],
        },
        "retries": {"attempts": 2, "cooldown_s": 0.0},
        "cache": {"enabled": cache, "ttl_s": 60, "semantic": {"enabled": cache, "threshold": 0.9}},
        "pii": {"detectors": ["email", "phone", "card", "us_ssn", "uk_nino"]},
        "spool_dir": str(spool_dir),
        "snapshot": {"file": str(snapshot_file)},
        **extra,
    }


class Stack:
    """Mock provider + gateway on one background event loop."""

    def __init__(
        self,
        root: Path,
        snapshot: Snapshot | None = None,
        mock: MockSettings | None = None,
        cache: bool = True,
        **extra: Any,
    ) -> None:
        self._cache = cache
        self._extra = extra
        self.root = root
        self.spool_dir = root / "spool"
        self.snapshot_file = root / "snapshot.json"
        self.snapshot_file.write_text((snapshot or default_snapshot()).model_dump_json())
        self._mock_settings = mock or MockSettings()
        self.loop = uvloop.new_event_loop()
        self._thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.parts: Parts | None = None
        self._server: uvicorn.Server | None = None
        self._runner: web.AppRunner | None = None
        self._serve_task: Any = None

    def run(self, coro: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def start(self) -> Stack:
        self._thread.start()
        self.mock_app = create_app(self._mock_settings)
        self.mock_url = self.run(self._start_mock())
        config = parse_config(
            gateway_config(self.mock_url, self.spool_dir, self.snapshot_file, self._cache, **self._extra)
        )
        self.config = config
        source = FileSnapshotSource(self.snapshot_file, poll_interval_s=0.05)
        self.parts = build_app(config, source=source)
        self.url = self.run(self._start_gateway())
        return self

    async def _start_mock(self) -> str:
        self._runner = web.AppRunner(self.mock_app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        port = self._runner.addresses[0][1]
        return f"http://127.0.0.1:{port}"

    async def _start_gateway(self) -> str:
        assert self.parts is not None
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(("127.0.0.1", 0))
        config = uvicorn.Config(
            self.parts.app, http=GatewayHttpProtocol, lifespan="on", access_log=False, log_level="warning"
        )
        self._server = uvicorn.Server(config)
        self._serve_task = asyncio.ensure_future(self._server.serve(sockets=[sock]))
        for _ in range(200):
            if self._server.started:
                break
            await asyncio.sleep(0.01)
        return f"http://127.0.0.1:{sock.getsockname()[1]}"

    def stop(self) -> None:
        async def _stop() -> None:
            if self._server is not None:
                self._server.should_exit = True
                await self._serve_task
            if self._runner is not None:
                await self._runner.cleanup()

        self.run(_stop())
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(5)
        self.loop.close()

    # -- inspection -----------------------------------------------------------------------------
    def recorded(self) -> list[dict[str, Any]]:
        return list(self.mock_app[RECORDED])

    def events(self) -> list[dict[str, Any]]:
        assert self.parts is not None
        self.run(self.parts.spool.flush())
        records: list[dict[str, Any]] = []
        for path in sorted(self.spool_dir.glob("*")):
            if path.suffix in (".seg", ".open"):
                records.extend(read_segment(path).records)
        return records

    def events_for(self, key_name: str) -> list[dict[str, Any]]:
        return [e for e in self.events() if e.get("api_key_id") == f"key_{key_name}"]

    def wait_for(self, predicate: Callable[[], bool], timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if predicate():
                return
            time.sleep(0.02)
        raise AssertionError("condition not met in time")

    def publish(self, snapshot: Snapshot) -> None:
        tmp = self.snapshot_file.with_suffix(f".{uuid.uuid4().hex}.tmp")
        tmp.write_text(snapshot.model_dump_json())
        tmp.replace(self.snapshot_file)
        assert self.parts is not None
        source = self.parts.source
        self.wait_for(lambda: source.current().version == snapshot.version)
