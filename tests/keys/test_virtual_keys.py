"""Virtual keys: the secret is shown once and never stored; revoked and expired keys stop."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from pydantic import ValidationError
from sqlalchemy import inspect, select, text, update

from comptroller.errors import NotFoundError
from comptroller.gateway.snapshot import Snapshot, hash_key
from comptroller.governance import audit
from comptroller.keys import virtual_keys
from comptroller.keys.models import VirtualKeyRow
from comptroller.keys.snapshot_builder import apply_change, snapshot_path
from comptroller.keys.specs import KeySpec

SECRET = re.compile(r"^sk-cmp-[A-Za-z0-9_-]{43}$")


def create(ctx, name: str = "support bot", **fields):
    spec = KeySpec(name=name, **fields)
    return apply_change(ctx, lambda s: virtual_keys.create_key(s, spec, actor="user:ana"))


def everything_stored(ctx) -> str:
    """Every row of every state table, as text."""
    engine = ctx.state.engine
    with engine.connect() as con:
        return "\n".join(
            repr(row)
            for table in inspect(engine).get_table_names()
            for row in con.execute(text(f'SELECT * FROM "{table}"'))
        )


def test_secret_is_shown_once_and_only_its_hash_is_kept(ctx):
    applied = create(ctx, attribution={"team": "search", "agent": "triage"}, models=("gpt-4o",))
    secret, key = applied.result.secret, applied.result.key
    assert SECRET.match(secret)
    assert key.prefix == secret[7:11] and key.created_by == "user:ana"
    stored = everything_stored(ctx)
    assert secret not in stored and secret[7:] not in stored
    assert hash_key(secret) in stored
    if ctx.settings.state_url.startswith("sqlite"):
        assert secret.encode() not in Path(ctx.settings.state_url.removeprefix("sqlite:///")).read_bytes()
    snapshot_text = snapshot_path(ctx.settings).read_text()
    assert secret not in snapshot_text and hash_key(secret) in snapshot_text
    with ctx.state.session() as session:
        listed = virtual_keys.list_keys(session)
    assert [k.id for k in listed] == [key.id]
    assert secret not in json.dumps([k.model_dump(mode="json") for k in listed])
    assert listed[0].attribution == {"team": "search", "agent": "triage"} and listed[0].status == "active"


def test_each_key_gets_its_own_secret(ctx):
    first, second = create(ctx, "a").result, create(ctx, "b").result
    assert first.secret != second.secret and first.key.id != second.key.id


def test_revoked_and_expired_keys_are_unusable_in_the_snapshot(ctx):
    live = create(ctx, "live", expires_at=datetime.now(UTC) + timedelta(days=30)).result.key
    revoked = create(ctx, "revoked").result.key
    expired = create(ctx, "expired").result.key
    with ctx.state.session() as session, session.begin():
        session.execute(
            update(VirtualKeyRow)
            .where(VirtualKeyRow.id == expired.id)
            .values(expires_at=datetime.now(UTC).replace(tzinfo=None) - timedelta(minutes=1))
        )
    applied = apply_change(ctx, lambda s: virtual_keys.revoke_key(s, revoked.id, actor="user:bo"))
    assert applied.result.status == "revoked" and applied.result.revoked_by == "user:bo"
    snapshot = Snapshot.model_validate_json(snapshot_path(ctx.settings).read_text())
    assert snapshot.version == applied.published.version
    usable = {k.name: k.usable() for k in snapshot.keys}
    assert usable == {"live": True, "revoked": False, "expired": False}
    with ctx.state.session() as session:
        statuses = {k.name: k.status for k in virtual_keys.list_keys(session)}
        active = [k.name for k in virtual_keys.list_keys(session, include_revoked=False)]
    assert statuses == {"live": "active", "revoked": "revoked", "expired": "expired"}
    assert sorted(active) == ["expired", "live"]
    assert live.expires_at is not None


def test_revoke_is_audited_once_and_unknown_keys_are_named(ctx):
    key = create(ctx).result.key
    for _ in range(2):
        apply_change(ctx, lambda s: virtual_keys.revoke_key(s, key.id, actor="user:bo"))
    with ctx.state.session() as session:
        actions = [e.action for e in audit.list_entries(session, subject=f"key:{key.id}")]
        first_revocation = session.scalar(select(VirtualKeyRow.revoked_by).where(VirtualKeyRow.id == key.id))
    assert actions == ["key.revoke", "key.create"] and first_revocation == "user:bo"
    with pytest.raises(NotFoundError, match="no virtual key with id 'nope'"):
        apply_change(ctx, lambda s: virtual_keys.revoke_key(s, "nope", actor="user:bo"))


@pytest.mark.parametrize(
    ("fields", "field", "message"),
    [
        ({"attribution": {"colour": "red"}}, "attribution", "unknown dimension 'colour'"),
        ({"attribution": {"team": " "}}, "attribution", "team needs a value"),
        ({"expires_at": datetime(2020, 1, 1, tzinfo=UTC)}, "expires_at", "is not in the future"),
        ({"models": ("gpt-4o", "")}, "models", "entries must not be empty"),
        ({"name": ""}, "name", "at least 1 character"),
    ],
)
def test_bad_key_specs_name_the_field(fields, field, message):
    with pytest.raises(ValidationError) as caught:
        KeySpec(**({"name": "x"} | fields))
    error = caught.value.errors()[0]
    assert error["loc"][0] == field and message in error["msg"]
