"""Snapshot delivery: the watched file, Redis pub/sub across replicas, and outages of either."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from decimal import Decimal

import pytest

from comptroller.budgets.model import Budget, BudgetScope
from comptroller.gateway.enforcement.killswitch import SnapshotKillSwitchBoard
from comptroller.gateway.snapshot import KillSwitch, Snapshot, VirtualKey
from comptroller.gateway.snapshot_publish import publish_snapshot_redis, write_snapshot_file
from comptroller.gateway.snapshot_source import FileSnapshotSource, RedisSnapshotSource
from tests.gateway.enforcement.conftest import REDIS_URL, UNREACHABLE_URL
from tests.gateway.enforcement.tcp_proxy import CuttableProxy

pytestmark = pytest.mark.anyio

BOT = {"key": "key_bot", "agent": "triage-bot", "team": "support"}


def snapshot(version: int, *switches: KillSwitch) -> Snapshot:
    return Snapshot(
        version=version,
        keys=[VirtualKey(id="key_bot", key_hash="ab" * 32, name="bot", attribution={"team": "support"})],
        budgets=[
            Budget(id="b1", name="support", scope=BudgetScope.TEAM, scope_value="support", amount=Decimal(9))
        ],
        budget_spent={"b1": Decimal("1.5")},
        kill_switches=list(switches),
    )


def switch(scope: str, value: str) -> KillSwitch:
    return KillSwitch(
        id=f"ks_{scope}", scope=scope, scope_value=value, reason="runaway loop", engaged_at=datetime.now(UTC)
    )


async def wait_for(condition, timeout_s: float = 10.0) -> float:
    """Seconds until ``condition()`` held; fails the test after ``timeout_s``."""
    started = time.perf_counter()
    while not condition():
        if time.perf_counter() - started > timeout_s:
            raise AssertionError(f"condition not met within {timeout_s}s")
        await asyncio.sleep(0.005)
    return time.perf_counter() - started


async def test_file_source_applies_changes_within_a_second(tmp_path):
    path = tmp_path / "snapshot.json"
    source = FileSnapshotSource(path)
    seen: list[int] = []
    board = SnapshotKillSwitchBoard()
    source.on_change(board.apply_snapshot)

    async def record(new: Snapshot) -> None:
        seen.append(new.version)

    source.on_change(record)
    await source.start()
    try:
        assert source.current().version == 0 and source.current().keys == []
        write_snapshot_file(path, snapshot(1))
        await wait_for(lambda: source.current().version == 1)
        written = time.perf_counter()
        write_snapshot_file(path, snapshot(2, switch("agent", "triage-bot")))
        await wait_for(lambda: board.engaged(BOT) is not None)
        assert time.perf_counter() - written < 1.0
        assert seen == [1, 2]
        assert source.current().budget_spent == {"b1": Decimal("1.5")}
    finally:
        await source.stop()


async def test_file_source_keeps_the_last_good_snapshot(tmp_path):
    path = tmp_path / "snapshot.json"
    write_snapshot_file(path, snapshot(5, switch("team", "support")))
    source = FileSnapshotSource(path, poll_interval_s=0.02)
    await source.start()
    try:
        assert source.current().version == 5
        path.write_text('{"version": "not a number"')
        await asyncio.sleep(0.1)
        assert source.current().version == 5
        path.unlink()
        await asyncio.sleep(0.1)
        assert source.current().version == 5
        write_snapshot_file(path, snapshot(6))
        await wait_for(lambda: source.current().version == 6)
    finally:
        await source.stop()


async def test_kill_switch_reaches_two_replicas_within_a_second(namespace):
    await publish_snapshot_redis(REDIS_URL, namespace, snapshot(1))
    replicas = [RedisSnapshotSource(REDIS_URL, namespace) for _ in range(2)]
    boards = [SnapshotKillSwitchBoard() for _ in replicas]
    for source, board in zip(replicas, boards, strict=True):
        source.on_change(board.apply_snapshot)
        await source.start()
    try:
        for source in replicas:
            await asyncio.wait_for(source.connected.wait(), 10)
            assert source.current().version == 1
        assert all(board.engaged(BOT) is None for board in boards)
        published = time.perf_counter()
        await publish_snapshot_redis(REDIS_URL, namespace, snapshot(2, switch("key", "key_bot")))
        await wait_for(lambda: all(board.engaged(BOT) is not None for board in boards))
        elapsed = time.perf_counter() - published
        print(f"kill switch reached both replicas in {elapsed * 1000:.1f} ms")
        assert elapsed < 1.0, f"kill switch took {elapsed:.3f}s to reach both replicas"
        assert boards[0].engaged(BOT).reason == "runaway loop"
        assert boards[1].engaged({"key": "key_other", "team": "sales"}) is None
    finally:
        for source in replicas:
            await source.stop()


async def test_redis_outage_keeps_the_last_snapshot_and_catches_up(namespace):
    await publish_snapshot_redis(REDIS_URL, namespace, snapshot(1, switch("agent", "triage-bot")))
    proxy = await CuttableProxy().start()
    source = RedisSnapshotSource(proxy.url, namespace, backoff_initial_s=0.05, backoff_max_s=0.2)
    board = SnapshotKillSwitchBoard()
    source.on_change(board.apply_snapshot)
    await source.start()
    try:
        await asyncio.wait_for(source.connected.wait(), 10)
        await proxy.cut()
        await wait_for(lambda: not source.connected.is_set())
        # The control plane lifts the switch while this replica cannot hear it.
        await publish_snapshot_redis(REDIS_URL, namespace, snapshot(2))
        await asyncio.sleep(0.2)
        assert source.current().version == 1
        assert board.engaged(BOT) is not None  # keys and switches keep working meanwhile
        await proxy.restore()
        await wait_for(lambda: source.current().version == 2)
        assert board.engaged(BOT) is None
    finally:
        await source.stop()
        await proxy.cut()


async def test_redis_source_starts_without_redis(namespace):
    source = RedisSnapshotSource(UNREACHABLE_URL, namespace, backoff_initial_s=0.05)
    await source.start()
    try:
        assert source.current().version == 0
        await asyncio.sleep(0.1)
        assert not source.connected.is_set()
    finally:
        await source.stop()


async def test_board_indexes_switches_per_scope():
    board = SnapshotKillSwitchBoard(snapshot(7, switch("team", "support"), switch("workflow", "nightly")))
    assert board.version == 7
    assert board.engaged({"team": "support"}).scope == "team"
    assert board.engaged({"team": "sales", "workflow": "nightly"}).scope == "workflow"
    assert board.engaged({"team": "sales", "workflow": None, "agent": "nightly"}) is None
    board.apply_snapshot(snapshot(8))
    assert board.engaged({"team": "support"}) is None
