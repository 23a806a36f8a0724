"""Rate limits: one per (scope, value), created, changed and removed with an audit entry each."""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from comptroller.errors import InvalidInputError, NotFoundError
from comptroller.governance import audit
from comptroller.keys.models import RateLimitRow
from comptroller.keys.specs import RateLimitInfo, RateLimitScope, RateLimitSpec, as_utc
from comptroller.keys.virtual_keys import get_key_row
from comptroller.state.models import utcnow


def rate_limit_info(row: RateLimitRow) -> RateLimitInfo:
    return RateLimitInfo(
        id=row.id,
        scope=RateLimitScope(row.scope),
        scope_value=row.scope_value,
        requests_per_minute=row.requests_per_minute,
        tokens_per_minute=row.tokens_per_minute,
        max_concurrent=row.max_concurrent,
        created_by=row.created_by,
        created_at=as_utc(row.created_at),  # type: ignore[arg-type]
        updated_at=as_utc(row.updated_at),  # type: ignore[arg-type]
    )


def _limits(spec: RateLimitSpec) -> dict[str, int | None]:
    return {
        "requests_per_minute": spec.requests_per_minute,
        "tokens_per_minute": spec.tokens_per_minute,
        "max_concurrent": spec.max_concurrent,
    }


def _check_scope(session: Session, spec: RateLimitSpec, *, other_than: str | None = None) -> None:
    if spec.scope is RateLimitScope.KEY:
        get_key_row(session, spec.scope_value)
    clash = session.scalar(
        select(RateLimitRow).where(
            RateLimitRow.scope == spec.scope.value, RateLimitRow.scope_value == spec.scope_value
        )
    )
    if clash is not None and clash.id != other_than:
        raise InvalidInputError(
            f"scope_value: rate limit {clash.id} already covers {spec.scope.value}={spec.scope_value}; update it instead"
        )


def create_rate_limit(session: Session, spec: RateLimitSpec, *, actor: str) -> RateLimitInfo:
    _check_scope(session, spec)
    now = utcnow()
    row = RateLimitRow(
        id=uuid.uuid4().hex[:12],
        scope=spec.scope.value,
        scope_value=spec.scope_value,
        created_by=actor,
        created_at=now,
        updated_at=now,
        **_limits(spec),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="rate_limit.create",
        subject=f"rate_limit:{row.id}",
        detail={"scope": row.scope, "scope_value": row.scope_value, **_limits(spec)},
    )
    return rate_limit_info(row)


def _row(session: Session, limit_id: str) -> RateLimitRow:
    row = session.get(RateLimitRow, limit_id)
    if row is None:
        raise NotFoundError(f"no rate limit with id {limit_id!r}; `comptroller limits list` shows them")
    return row


def update_rate_limit(session: Session, limit_id: str, spec: RateLimitSpec, *, actor: str) -> RateLimitInfo:
    """Replace the limit's scope and all three numbers (an unset number means no such limit)."""
    row = _row(session, limit_id)
    _check_scope(session, spec, other_than=row.id)
    before = {
        "scope": row.scope,
        "scope_value": row.scope_value,
        **rate_limit_info(row).model_dump(include=set(_limits(spec))),
    }
    row.scope, row.scope_value = spec.scope.value, spec.scope_value
    for name, value in _limits(spec).items():
        setattr(row, name, value)
    row.updated_at = utcnow()
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="rate_limit.update",
        subject=f"rate_limit:{row.id}",
        detail={
            "before": before,
            "after": {"scope": row.scope, "scope_value": row.scope_value, **_limits(spec)},
        },
    )
    return rate_limit_info(row)


def delete_rate_limit(session: Session, limit_id: str, *, actor: str) -> None:
    row = _row(session, limit_id)
    session.delete(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="rate_limit.delete",
        subject=f"rate_limit:{limit_id}",
        detail={"scope": row.scope, "scope_value": row.scope_value},
    )


def list_rate_limits(session: Session) -> list[RateLimitInfo]:
    rows = session.scalars(select(RateLimitRow).order_by(RateLimitRow.scope, RateLimitRow.scope_value))
    return [rate_limit_info(row) for row in rows]
