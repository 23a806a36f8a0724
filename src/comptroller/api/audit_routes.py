"""``/api/v1/audit``: read and verify the hash-chained audit log (admin and finops)."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query, Request

from comptroller.api.auth import Principal, StateSession, app_state_db, require
from comptroller.governance import audit
from comptroller.governance.rbac import Role

router = APIRouter(prefix="/api/v1/audit", tags=["audit"], dependencies=[require(Role.FINOPS)])


@router.get("")
def list_audit(
    session: StateSession,
    action: Annotated[str | None, Query(max_length=128, description="Action prefix, e.g. use_case.")] = None,
    subject: Annotated[str | None, Query(max_length=256)] = None,
    actor: Annotated[str | None, Query(max_length=128)] = None,
    before: Annotated[
        int | None, Query(ge=1, le=2**31 - 1, description="Entries with a lower sequence number.")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[dict[str, Any]]:
    """Newest first; page with ``before`` set to the last ``seq`` seen."""
    entries = audit.list_entries(
        session, action=action, subject=subject, actor=actor, limit=limit, before_seq=before
    )
    return [audit.entry_json(e) for e in entries]


@router.get("/verify")
def verify_audit(session: StateSession) -> dict[str, Any]:
    """Recompute the whole chain: the first missing or edited entry, or the verified head hash."""
    return audit.verify(session).as_json()


def audit_change(
    request: Request, principal: Principal, action: str, subject: str, detail: dict[str, Any] | None = None
) -> None:
    """Record a change made through a store that commits on its own (the attribution
    repository), in a transaction of its own right after it."""
    with app_state_db(request).session() as session, session.begin():
        audit.record(session, actor=principal.actor, action=action, subject=subject, detail=detail)
