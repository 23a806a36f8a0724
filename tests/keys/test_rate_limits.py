"""Rate limits: one per scope and value, validated, audited and published."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from comptroller.errors import InvalidInputError, NotFoundError
from comptroller.gateway.snapshot import Snapshot
from comptroller.governance import audit
from comptroller.keys import rate_limits
from comptroller.keys.snapshot_builder import apply_change, snapshot_path
from comptroller.keys.specs import RateLimitSpec


def published_limits(ctx):
    return Snapshot.model_validate_json(snapshot_path(ctx.settings).read_text()).rate_limits


def test_create_update_delete(ctx):
    spec = RateLimitSpec(scope="team", scope_value="search", requests_per_minute=600, max_concurrent=20)
    limit = apply_change(ctx, lambda s: rate_limits.create_rate_limit(s, spec, actor="user:ana")).result
    (published,) = published_limits(ctx)
    assert (
        published.id,
        published.requests_per_minute,
        published.tokens_per_minute,
        published.max_concurrent,
    ) == (
        limit.id,
        600,
        None,
        20,
    )
    assert published.applies_to({"team": "search"})
    changed = RateLimitSpec(scope="team", scope_value="search", tokens_per_minute=100_000)
    apply_change(ctx, lambda s: rate_limits.update_rate_limit(s, limit.id, changed, actor="user:ana"))
    (published,) = published_limits(ctx)
    assert (published.requests_per_minute, published.tokens_per_minute, published.max_concurrent) == (
        None,
        100_000,
        None,
    )
    apply_change(ctx, lambda s: rate_limits.delete_rate_limit(s, limit.id, actor="user:ana"))
    assert published_limits(ctx) == []
    with ctx.state.session() as session:
        actions = [e.action for e in audit.list_entries(session, subject=f"rate_limit:{limit.id}")]
        assert rate_limits.list_rate_limits(session) == []
        update = audit.list_entries(session, action="rate_limit.update")[0]
    assert actions == ["rate_limit.delete", "rate_limit.update", "rate_limit.create"]
    assert update.detail["before"]["requests_per_minute"] == 600


def test_conflicts_and_unknown_ids_are_named(ctx):
    spec = RateLimitSpec(scope="model", scope_value="gpt-4o", requests_per_minute=10)
    first = apply_change(ctx, lambda s: rate_limits.create_rate_limit(s, spec, actor="user:ana")).result
    with pytest.raises(
        InvalidInputError, match=f"^scope_value: rate limit {first.id} already covers model=gpt-4o"
    ):
        apply_change(ctx, lambda s: rate_limits.create_rate_limit(s, spec, actor="user:ana"))
    with pytest.raises(NotFoundError, match="no rate limit with id 'nope'"):
        apply_change(ctx, lambda s: rate_limits.delete_rate_limit(s, "nope", actor="user:ana"))
    key_limit = RateLimitSpec(scope="key", scope_value="k-unknown", max_concurrent=1)
    with pytest.raises(NotFoundError, match="no virtual key with id 'k-unknown'"):
        apply_change(ctx, lambda s: rate_limits.create_rate_limit(s, key_limit, actor="user:ana"))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({}, "requests_per_minute: set at least one of"),
        ({"requests_per_minute": 0}, "greater than 0"),
        ({"scope": "galaxy", "max_concurrent": 1}, "Input should be 'key', 'team' or 'model'"),
    ],
)
def test_bad_limits_name_the_field(fields, message):
    with pytest.raises(ValidationError, match=message):
        RateLimitSpec(**({"scope": "team", "scope_value": "search"} | fields))
