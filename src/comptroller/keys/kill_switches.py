"""Engaging and releasing kill switches.

Each engage and release is an audit entry in the caller's transaction; the caller republishes
the gateway snapshot after commit, which is what makes the switch bite on every replica.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from comptroller.errors import InvalidInputError, NotFoundError
from comptroller.governance import audit
from comptroller.keys.models import KillSwitchRow
from comptroller.keys.specs import KillScope, KillSwitchInfo, KillSwitchSpec, as_utc
from comptroller.keys.virtual_keys import get_key_row
from comptroller.state.models import utcnow


def kill_switch_info(row: KillSwitchRow) -> KillSwitchInfo:
    return KillSwitchInfo(
        id=row.id,
        scope=KillScope(row.scope),
        scope_value=row.scope_value,
        reason=row.reason,
        engaged_by=row.engaged_by,
        engaged_at=as_utc(row.engaged_at),  # type: ignore[arg-type]
        released_by=row.released_by,
        released_at=as_utc(row.released_at),
    )


def engage(session: Session, spec: KillSwitchSpec, *, actor: str) -> KillSwitchInfo:
    if spec.scope is KillScope.KEY:
        get_key_row(session, spec.scope_value)
    engaged = session.scalar(
        select(KillSwitchRow).where(
            KillSwitchRow.scope == spec.scope.value,
            KillSwitchRow.scope_value == spec.scope_value,
            KillSwitchRow.released_at.is_(None),
        )
    )
    if engaged is not None:
        raise InvalidInputError(
            f"scope_value: kill switch {engaged.id} already stops {spec.scope.value}={spec.scope_value}"
        )
    row = KillSwitchRow(
        id=uuid.uuid4().hex[:12],
        scope=spec.scope.value,
        scope_value=spec.scope_value,
        reason=spec.reason,
        engaged_by=actor,
        engaged_at=utcnow(),
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="kill_switch.engage",
        subject=f"kill_switch:{row.id}",
        detail={"scope": row.scope, "scope_value": row.scope_value, "reason": row.reason},
    )
    return kill_switch_info(row)


def release(session: Session, switch_id: str, *, actor: str) -> KillSwitchInfo:
    row = session.get(KillSwitchRow, switch_id)
    if row is None:
        raise NotFoundError(f"no kill switch with id {switch_id!r}; `comptroller kill list` shows them")
    if row.released_at is not None:
        raise InvalidInputError(
            f"kill switch {row.id} was released already, by {row.released_by} at {row.released_at:%Y-%m-%d %H:%M:%S} UTC"
        )
    row.released_at = utcnow()
    row.released_by = actor
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="kill_switch.release",
        subject=f"kill_switch:{row.id}",
        detail={"scope": row.scope, "scope_value": row.scope_value},
    )
    return kill_switch_info(row)


def list_kill_switches(session: Session, *, engaged_only: bool = False) -> list[KillSwitchInfo]:
    query = select(KillSwitchRow).order_by(KillSwitchRow.engaged_at.desc(), KillSwitchRow.id)
    if engaged_only:
        query = query.where(KillSwitchRow.released_at.is_(None))
    return [kill_switch_info(row) for row in session.scalars(query)]
