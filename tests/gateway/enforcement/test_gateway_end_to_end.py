"""The budget guarantee end to end: two gateway processes, one Redis, one mock provider.

200 concurrent chat completions, half to each gateway, all on one key whose hard-cap budget
fits 50 of them. Every call reserves its worst case before going upstream, so the spend the
shared counter records never exceeds the budget, and every admitted call is counted once.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import time
from collections import Counter
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import pytest
from aiohttp import web

from comptroller.budgets.model import Budget, BudgetScope
from comptroller.gateway.enforcement.redis_backend import RedisBudgetReserver
from comptroller.gateway.snapshot import KillSwitch, Snapshot, VirtualKey, hash_key
from comptroller.gateway.snapshot_publish import publish_snapshot_redis
from comptroller.gateway.spool import read_segment
from comptroller.mock_provider.app import MockSettings, create_app
from tests.gateway.enforcement.conftest import REDIS_URL

pytestmark = pytest.mark.anyio

ROOT = Path(__file__).resolve().parents[3]
PROBE, LOAD, IDLE = "sk-cmp-e2e-probe", "sk-cmp-e2e-load", "sk-cmp-e2e-idle"
REQUEST = {"model": "gpt-4o-mini", "max_tokens": 8, "messages": [{"role": "user", "content": "Say hello."}]}


def key(secret: str, name: str) -> VirtualKey:
    return VirtualKey(id=f"key_{name}", key_hash=hash_key(secret), name=name, attribution={"team": "e2e"})


def budget(name: str, amount: Decimal) -> Budget:
    return Budget(id=f"b_{name}", name=name, scope=BudgetScope.KEY, scope_value=f"key_{name}", amount=amount)


async def wait_until(check, timeout_s: float = 30.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.05)


def start_gateway(tmp_path: Path, name: str, mock_url: str, namespace: str) -> subprocess.Popen:
    config = {
        "deployments": [
            {
                "name": "mock",
                "provider": "openai",
                "base_url": f"{mock_url}/v1",
                "models": {"gpt-4o-mini": "gpt-4o-mini"},
            }
        ],
        "spool_dir": str(tmp_path / f"spool-{name}"),
        "redis_url": REDIS_URL,
        "redis_namespace": namespace,
        "snapshot": {"redis_url": REDIS_URL, "redis_namespace": namespace},
    }
    path = tmp_path / f"{name}.json"
    path.write_text(json.dumps(config))
    with (tmp_path / f"{name}.log").open("w") as log:
        # The log shows in the report of a failed test (printed at the end of the test).
        return subprocess.Popen(
            [sys.executable, "-m", "tests.gateway.enforcement.gateway_replica", str(path)],
            cwd=ROOT,
            stdout=subprocess.PIPE,
            stderr=log,
            text=True,
        )


def gateway_url(process: subprocess.Popen) -> str:
    port = process.stdout.readline().strip()
    assert port.isdigit(), f"gateway {process.args} did not start"
    return f"http://127.0.0.1:{port}"


def spooled(directory: Path) -> list[dict]:
    return [
        r
        for path in sorted(directory.glob("*"))
        if path.suffix in (".seg", ".open")
        for r in read_segment(path).records
    ]


async def test_two_gateways_hold_a_budget_that_fits_fifty(tmp_path, namespace):
    mock = web.AppRunner(create_app(MockSettings(latency_ms=20)), access_log=None)
    await mock.setup()
    await web.TCPSite(mock, "127.0.0.1", 0).start()
    mock_url = f"http://127.0.0.1:{mock.addresses[0][1]}"
    processes: list[subprocess.Popen] = []
    counters = RedisBudgetReserver(REDIS_URL, namespace)
    try:
        roomy = budget("probe", Decimal(100))
        # The idle key's budget refuses every call before it goes upstream: a cheap probe.
        no_room = budget("idle", Decimal("0.000001"))
        keys = [key(PROBE, "probe"), key(IDLE, "idle")]
        await publish_snapshot_redis(
            REDIS_URL, namespace, Snapshot(version=1, keys=keys, budgets=[roomy, no_room])
        )
        processes += [start_gateway(tmp_path, name, mock_url, namespace) for name in ("a", "b")]
        gateways = [gateway_url(process) for process in processes]
        limits = httpx.Limits(max_connections=256, keepalive_expiry=1.0)
        async with httpx.AsyncClient(timeout=30, limits=limits) as client:
            # One call prices a request: every call of the load is the same, so costs the same.
            probe = await client.post(
                f"{gateways[0]}/v1/chat/completions",
                json=REQUEST,
                headers={"authorization": f"Bearer {PROBE}"},
            )
            assert probe.status_code == 200, probe.text

            async def probe_settled() -> bool:
                return await counters.spent(roomy, datetime.now(UTC)) > 0

            await wait_until(probe_settled)
            per_call = await counters.spent(roomy, datetime.now(UTC))
            fits_fifty = budget("load", per_call * 50)
            keys.append(key(LOAD, "load"))
            budgets = [roomy, no_room, fits_fifty]
            await publish_snapshot_redis(
                REDIS_URL, namespace, Snapshot(version=2, keys=keys, budgets=budgets)
            )
            for url in gateways:

                async def knows_load_key(url: str = url) -> bool:
                    answer = await client.get(f"{url}/v1/models", headers={"authorization": f"Bearer {LOAD}"})
                    return answer.status_code == 200

                await wait_until(knows_load_key)

            async def call(i: int) -> httpx.Response:
                return await client.post(
                    f"{gateways[i % 2]}/v1/chat/completions",
                    json=REQUEST,
                    headers={"authorization": f"Bearer {LOAD}"},
                )

            answers = await asyncio.gather(*(call(i) for i in range(200)))
        statuses = Counter(a.status_code for a in answers)
        admitted = statuses[200]
        blocked = [a for a in answers if a.status_code != 200]
        assert all("budget" in a.text for a in blocked), {a.status_code: a.text for a in blocked}

        async def all_settled() -> bool:
            return await counters.spent(fits_fifty, datetime.now(UTC)) == per_call * admitted

        await wait_until(all_settled, 10)
        spend = await counters.spent(fits_fifty, datetime.now(UTC))
        print(f"e2e: {admitted} admitted, {len(blocked)} blocked, spend {spend} of {fits_fifty.amount}")
        assert spend <= fits_fifty.amount  # real cost never above the reservation: bound 0
        assert 0 < admitted <= 50

        # A kill switch from the control plane stops a key on both gateways within 1 s.
        switch = KillSwitch(id="ks_idle", scope="key", scope_value="key_idle", engaged_at=datetime.now(UTC))
        async with httpx.AsyncClient(timeout=10) as client:

            async def both_stopped() -> bool:
                answers = await asyncio.gather(
                    *(
                        client.post(
                            f"{url}/v1/chat/completions",
                            json=REQUEST,
                            headers={"authorization": f"Bearer {IDLE}"},
                        )
                        for url in gateways
                    )
                )
                return all("kill_switch_engaged" in a.text for a in answers)

            assert not await both_stopped()
            published = time.perf_counter()
            await publish_snapshot_redis(
                REDIS_URL, namespace, Snapshot(version=3, keys=keys, budgets=budgets, kill_switches=[switch])
            )
            await wait_until(both_stopped, 5)
        elapsed = time.perf_counter() - published
        print(f"e2e: kill switch stopped both gateways {elapsed * 1000:.0f} ms after publishing")
        assert elapsed < 1.0
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            # Waited for off the loop: the mock provider it may still be calling runs on it.
            await asyncio.to_thread(process.wait, 20)
        await mock.cleanup()
        for log in sorted(tmp_path.glob("*.log")):
            print(f"--- {log.name}\n{log.read_text()}")
        await counters.aclose()
    events = spooled(tmp_path / "spool-a") + spooled(tmp_path / "spool-b")
    load_events = Counter(e["status"] for e in events if e.get("api_key_id") == "key_load")
    assert load_events["ok"] == admitted
    assert load_events["blocked_budget"] == len(blocked)
