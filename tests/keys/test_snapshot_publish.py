"""Building and publishing the snapshot: versions, budget spend, the file and Redis."""

from __future__ import annotations

import dataclasses
import json
import socket
import threading
import uuid
from decimal import Decimal

import redis

from comptroller.budgets import store
from comptroller.budgets.model import Budget
from comptroller.context import Context
from comptroller.gateway.snapshot import Snapshot
from comptroller.gateway.snapshot_publish import snapshot_channel, snapshot_key
from comptroller.governance import audit
from comptroller.keys import kill_switches
from comptroller.keys.snapshot_builder import apply_change, build_snapshot, publish, snapshot_path
from comptroller.keys.specs import KillSwitchSpec

REDIS_URL = "redis://127.0.0.1:6379/0"


def unused_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def engage(ctx, value: str):
    spec = KillSwitchSpec(scope="agent", scope_value=value, reason="test")
    return apply_change(ctx, lambda s: kill_switches.engage(s, spec, actor="user:ana"))


def test_versions_only_go_up_even_under_concurrent_publishers(settings):
    with Context(settings) as ctx:
        first = publish(ctx).version
        built = build_snapshot(ctx)
    assert built.version == first + 1

    seen: list[int] = []

    def publisher() -> None:
        with Context(settings) as own:
            for _ in range(3):
                seen.append(publish(own, refresh_spend=False).version)

    threads = [threading.Thread(target=publisher) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(seen) == list(range(first + 2, first + 11))
    on_disk = Snapshot.model_validate_json(snapshot_path(settings).read_text())
    assert on_disk.version == first + 10


def test_redis_gets_the_snapshot_and_its_announcement(settings):
    namespace = f"test-{uuid.uuid4().hex}"
    client = redis.Redis.from_url(REDIS_URL)
    pubsub = client.pubsub()
    pubsub.subscribe(snapshot_channel(namespace))
    assert pubsub.get_message(timeout=5)["type"] == "subscribe"
    try:
        with Context(dataclasses.replace(settings, redis_url=REDIS_URL, redis_namespace=namespace)) as ctx:
            applied = engage(ctx, "triage")
        assert applied.published.redis_published and applied.published.redis_error is None
        message = pubsub.get_message(timeout=5)
        assert message is not None and message["data"] == str(applied.published.version).encode()
        stored = Snapshot.model_validate_json(client.get(snapshot_key(namespace)))
        assert stored.version == applied.published.version
        assert [k.scope_value for k in stored.kill_switches] == ["triage"]
    finally:
        pubsub.close()
        client.delete(snapshot_key(namespace))
        client.close()


def test_an_unreachable_redis_does_not_undo_the_change(settings):
    dead = f"redis://127.0.0.1:{unused_port()}/0"
    with Context(dataclasses.replace(settings, redis_url=dead)) as ctx:
        applied = engage(ctx, "triage")
        assert not applied.published.redis_published
        assert applied.published.redis_error and dead in applied.published.redis_error
        with ctx.state.session() as session:
            assert [s.scope_value for s in kill_switches.list_kill_switches(session)] == ["triage"]
            assert audit.list_entries(session, action="kill_switch.engage")
    on_disk = json.loads(snapshot_path(settings).read_text())
    assert on_disk["kill_switches"][0]["scope_value"] == "triage"


def test_spend_is_measured_for_budget_changes_and_reused_for_the_rest(settings):
    budget = Budget(id="search", name="Search", scope="team", scope_value="search", amount=Decimal(100))
    with Context(settings) as ctx:
        applied = apply_change(
            ctx, lambda s: store.save_budget(s, budget, actor="user:ana"), refresh_spend=True
        )
        assert "ledger" in ctx.__dict__
    snapshot = Snapshot.model_validate_json(snapshot_path(settings).read_text())
    assert snapshot.budgets == [budget] and snapshot.budget_spent == {"search": Decimal(0)}
    assert snapshot.version == applied.published.version
    with Context(settings) as ctx:
        engage(ctx, "triage")
        assert "ledger" not in ctx.__dict__  # a kill switch never waits for the ledger
    snapshot = Snapshot.model_validate_json(snapshot_path(settings).read_text())
    assert snapshot.budget_spent == {"search": Decimal(0)} and len(snapshot.kill_switches) == 1
