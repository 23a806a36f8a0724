"""Kill switches reach the snapshot in the same call that engages or releases them."""

from __future__ import annotations

import pytest

from comptroller.errors import InvalidInputError, NotFoundError
from comptroller.gateway.snapshot import Snapshot
from comptroller.governance import audit
from comptroller.keys import kill_switches, virtual_keys
from comptroller.keys.snapshot_builder import apply_change, snapshot_path
from comptroller.keys.specs import KeySpec, KillSwitchSpec


def on_disk(ctx) -> Snapshot:
    return Snapshot.model_validate_json(snapshot_path(ctx.settings).read_text())


def engage(ctx, scope: str, value: str, reason: str = "runaway loop"):
    spec = KillSwitchSpec(scope=scope, scope_value=value, reason=reason)
    return apply_change(ctx, lambda s: kill_switches.engage(s, spec, actor="user:ana"))


def release(ctx, switch_id: str):
    return apply_change(ctx, lambda s: kill_switches.release(s, switch_id, actor="user:bo"))


def test_engage_and_release_publish_and_audit(ctx):
    engaged = engage(ctx, "agent", "triage-bot")
    switch = engaged.result
    snapshot = on_disk(ctx)
    assert snapshot.version == engaged.published.version
    assert [(k.id, k.scope, k.scope_value, k.reason) for k in snapshot.kill_switches] == [
        (switch.id, "agent", "triage-bot", "runaway loop")
    ]
    assert snapshot.kill_switches[0].applies_to({"agent": "triage-bot", "team": "search"})
    released = release(ctx, switch.id)
    assert released.published.version > engaged.published.version
    assert on_disk(ctx).kill_switches == [] and released.result.released_by == "user:bo"
    with ctx.state.session() as session:
        entries = audit.list_entries(session, subject=f"kill_switch:{switch.id}")
        history = kill_switches.list_kill_switches(session)
        engaged_now = kill_switches.list_kill_switches(session, engaged_only=True)
    assert [(e.action, e.actor) for e in entries] == [
        ("kill_switch.release", "user:bo"),
        ("kill_switch.engage", "user:ana"),
    ]
    assert entries[1].detail == {"scope": "agent", "scope_value": "triage-bot", "reason": "runaway loop"}
    assert [s.id for s in history] == [switch.id] and not history[0].engaged and engaged_now == []


def test_mistakes_are_refused_with_the_reason(ctx):
    switch = engage(ctx, "team", "growth").result
    with pytest.raises(
        InvalidInputError, match=f"^scope_value: kill switch {switch.id} already stops team=growth"
    ):
        engage(ctx, "team", "growth")
    release(ctx, switch.id)
    with pytest.raises(InvalidInputError, match=f"kill switch {switch.id} was released already, by user:bo"):
        release(ctx, switch.id)
    with pytest.raises(NotFoundError, match="no kill switch with id 'nope'"):
        release(ctx, "nope")
    with pytest.raises(NotFoundError, match="no virtual key with id 'k-unknown'"):
        engage(ctx, "key", "k-unknown")
    engage(ctx, "team", "growth")  # engaging again after a release is a new incident


def test_a_key_can_be_stopped_by_its_id(ctx):
    spec = KeySpec(name="bot")
    key = apply_change(ctx, lambda s: virtual_keys.create_key(s, spec, actor="user:ana")).result.key
    engage(ctx, "key", key.id)
    assert on_disk(ctx).kill_switches[0].applies_to({"key": key.id})
