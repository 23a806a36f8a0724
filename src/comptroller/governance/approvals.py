"""Approval requests: a human's yes or no on spend the rules alone would stop.

Kinds:

* ``gateway_budget``: the gateway blocked a request on an ``approval`` budget and gave the caller
  an ``approval_request_id``. ``open_gateway_approvals`` finds those blocked events in the
  ledger and opens one request per id (the id is the gateway's, so re-scanning adds nothing).
  Approving with a new amount raises the budget; without, it grants the one-off.
* ``budget_increase``: someone (typically a team owner) asks for a budget's amount to be raised;
  approving saves the budget with the new amount.
* ``agent_tool``: an agent run asked to call a tool marked as needing approval.

A request is pending until approved, denied or past its ``expires_at``. Whoever asked cannot
decide; every request and decision is an audit entry in the same transaction.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from comptroller.budgets.model import Budget, BudgetBehaviour
from comptroller.budgets.store import get_budget, list_budgets, save_budget
from comptroller.errors import ApprovalError, ForbiddenError, NotFoundError
from comptroller.governance import audit
from comptroller.governance.approval_models import ApprovalRequestRow
from comptroller.ledger.schema import BUSINESS_DIMENSIONS
from comptroller.ledger.store import Ledger
from comptroller.notify.message import Notification, NotificationKind, Section

DEFAULT_TTL = timedelta(hours=24)
ONE_OFF_TTL = timedelta(hours=24)
"""How long after approval a gateway one-off pass may be used."""
GATEWAY_ACTOR = "system:gateway"


class ApprovalKind(StrEnum):
    GATEWAY_BUDGET = "gateway_budget"
    BUDGET_INCREASE = "budget_increase"
    AGENT_TOOL = "agent_tool"


class ApprovalStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    DENIED = "denied"
    EXPIRED = "expired"


@dataclass(frozen=True, slots=True)
class Decision:
    """What deciding did: the request after it, and the budget it changed, if any."""

    request: ApprovalRequestRow
    budget: Budget | None = None

    @property
    def changes_gateway(self) -> bool:
        """Whether the gateway snapshot must be republished: a budget changed, or a one-off
        pass was granted (it travels in the snapshot)."""
        return self.budget is not None or self.request.kind == ApprovalKind.GATEWAY_BUDGET.value


def naive_utc(moment: datetime | None = None) -> datetime:
    """State stores naive UTC."""
    moment = moment or datetime.now(UTC)
    return moment.astimezone(UTC).replace(tzinfo=None) if moment.tzinfo else moment


def approval_json(row: ApprovalRequestRow) -> dict[str, Any]:
    def ts(value: datetime | None) -> str | None:
        return None if value is None else value.isoformat() + "Z"

    def money(value: Decimal | None) -> str | None:
        return None if value is None else format(Decimal(value).normalize(), "f")

    return {
        "id": row.id,
        "kind": row.kind,
        "status": row.status,
        "budget_id": row.budget_id,
        "agent_id": row.agent_id,
        "run_id": row.run_id,
        "tool": row.tool,
        "requested_by": row.requested_by,
        "reason": row.reason,
        "requested_amount": money(row.requested_amount),
        "detail": row.detail,
        "created_at": ts(row.created_at),
        "expires_at": ts(row.expires_at),
        "decided_by": row.decided_by,
        "decided_at": ts(row.decided_at),
        "decision_note": row.decision_note,
        "applied_amount": money(row.applied_amount),
    }


def _open(session: Session, row: ApprovalRequestRow) -> ApprovalRequestRow:
    session.add(row)
    session.flush()
    audit.record(
        session,
        actor=row.requested_by,
        action="approval.request",
        subject=f"approval:{row.id}",
        detail={"kind": row.kind, "budget_id": row.budget_id, "tool": row.tool, "reason": row.reason},
    )
    return row


def request_budget_increase(
    session: Session,
    budget_id: str,
    new_amount: Decimal,
    *,
    requester: str,
    reason: str = "",
    ttl: timedelta = DEFAULT_TTL,
) -> ApprovalRequestRow:
    budget = get_budget(session, budget_id)
    if new_amount <= budget.amount:
        raise ApprovalError(
            f"new_amount: {new_amount} is not above budget {budget_id!r}'s current amount {budget.amount}"
        )
    now = naive_utc()
    return _open(
        session,
        ApprovalRequestRow(
            id=f"apr_{uuid.uuid4().hex}",
            kind=ApprovalKind.BUDGET_INCREASE.value,
            status=ApprovalStatus.PENDING.value,
            budget_id=budget_id,
            requested_by=requester,
            reason=reason,
            requested_amount=new_amount,
            detail={"current_amount": str(budget.amount), "budget_name": budget.name},
            created_at=now,
            expires_at=now + ttl,
        ),
    )


def request_tool_approval(
    session: Session,
    *,
    agent_id: str,
    run_id: str,
    tool: str,
    arguments: dict[str, Any],
    requester: str,
    ttl: timedelta = DEFAULT_TTL,
) -> tuple[ApprovalRequestRow, bool]:
    """The pending request for this run and tool if there is one, else a new one; (row, new)."""
    existing = session.scalar(
        select(ApprovalRequestRow).where(
            ApprovalRequestRow.run_id == run_id,
            ApprovalRequestRow.tool == tool,
            ApprovalRequestRow.status == ApprovalStatus.PENDING.value,
        )
    )
    if existing is not None:
        return existing, False
    now = naive_utc()
    row = _open(
        session,
        ApprovalRequestRow(
            id=f"apr_{uuid.uuid4().hex}",
            kind=ApprovalKind.AGENT_TOOL.value,
            status=ApprovalStatus.PENDING.value,
            agent_id=agent_id,
            run_id=run_id,
            tool=tool,
            requested_by=requester,
            reason=f"agent {agent_id} wants to call {tool}",
            detail={"arguments": arguments},
            created_at=now,
            expires_at=now + ttl,
        ),
    )
    return row, True


def tool_approval_status(session: Session, run_id: str, tool: str) -> ApprovalStatus | None:
    """The newest decision on a tool for a run: approved lets it through for the rest of the run."""
    expire_due(session)
    row = session.scalar(
        select(ApprovalRequestRow)
        .where(ApprovalRequestRow.run_id == run_id, ApprovalRequestRow.tool == tool)
        .order_by(ApprovalRequestRow.created_at.desc())
        .limit(1)
    )
    return None if row is None else ApprovalStatus(row.status)


def _event_attribution(event: dict[str, Any]) -> dict[str, str | None]:
    attribution: dict[str, str | None] = {d: event.get(d) for d in BUSINESS_DIMENSIONS if d in event}
    attribution.update(key=event.get("api_key_id"), model=event.get("model"), vendor=event.get("provider"))
    return attribution


def _blocking_budget(budgets: list[Budget], event: dict[str, Any]) -> Budget | None:
    """The approval budget that blocked the event: the one the gateway names in the event's
    tags, else one that applies to its attribution (the one named in the block reason when
    several do)."""
    tags = event.get("tags")
    if isinstance(tags, str):
        tags = json.loads(tags)
    named_id = tags.get("blocked_budget_id") if isinstance(tags, dict) else None
    by_id = next((b for b in budgets if b.id == named_id), None) if named_id else None
    if by_id is not None:
        return by_id
    attribution = _event_attribution(event)
    applying = [b for b in budgets if b.behaviour is BudgetBehaviour.APPROVAL and b.applies_to(attribution)]
    reason = event.get("block_reason") or ""
    named = [b for b in applying if repr(b.name) in reason or b.id in reason]
    return (named or applying or [None])[0]


def open_gateway_approvals(
    session: Session, ledger: Ledger, *, ttl: timedelta = DEFAULT_TTL, now: datetime | None = None
) -> list[ApprovalRequestRow]:
    """Open a request for every drained ``blocked_approval`` event whose id is not yet known.

    Expiry counts from the block, not from the scan, so an old event opens an already expired
    request rather than a fresh one."""
    events = ledger.usage_events()
    if "approval_request_id" not in events.columns:
        return []
    blocked = events.filter(events["status"] == "blocked_approval", events["approval_request_id"].notnull())
    rows = blocked.order_by("timestamp").to_pyarrow().to_pylist()
    if not rows:
        return []
    ids = list({r["approval_request_id"] for r in rows})
    known = set(session.scalars(select(ApprovalRequestRow.id).where(ApprovalRequestRow.id.in_(ids))))
    budgets = list_budgets(session)
    now_naive = naive_utc(now)
    opened = []
    for event in rows:
        request_id = event["approval_request_id"]
        if request_id in known:
            continue
        known.add(request_id)
        budget = _blocking_budget(budgets, event)
        blocked_at = naive_utc(event["timestamp"])
        expires_at = blocked_at + ttl
        row = ApprovalRequestRow(
            id=request_id,
            kind=ApprovalKind.GATEWAY_BUDGET.value,
            status=(ApprovalStatus.PENDING if expires_at > now_naive else ApprovalStatus.EXPIRED).value,
            budget_id=budget.id if budget else None,
            agent_id=event.get("agent"),
            requested_by=f"key:{event['api_key_id']}" if event.get("api_key_id") else GATEWAY_ACTOR,
            reason=event.get("block_reason") or "blocked by an approval budget",
            detail={
                "event_id": event["event_id"],
                "blocked_at": blocked_at.isoformat() + "Z",
                "provider": event["provider"],
                "model": event["model"],
                "attribution": {k: v for k, v in _event_attribution(event).items() if v},
            },
            created_at=blocked_at,
            expires_at=expires_at,
        )
        opened.append(_open(session, row))
    return opened


def granted_one_offs(session: Session, now: datetime | None = None) -> list[ApprovalRequestRow]:
    """Gateway requests approved as one-offs (no budget change) within ``ONE_OFF_TTL``: each is
    a pass for the gateway's next matching request, until the ledger shows it used."""
    return list(
        session.scalars(
            select(ApprovalRequestRow)
            .where(
                ApprovalRequestRow.kind == ApprovalKind.GATEWAY_BUDGET.value,
                ApprovalRequestRow.status == ApprovalStatus.APPROVED.value,
                ApprovalRequestRow.applied_amount.is_(None),
                ApprovalRequestRow.budget_id.is_not(None),
                ApprovalRequestRow.decided_at > naive_utc(now) - ONE_OFF_TTL,
            )
            .order_by(ApprovalRequestRow.decided_at)
        )
    )


def get_approval(session: Session, request_id: str) -> ApprovalRequestRow:
    row = session.get(ApprovalRequestRow, request_id)
    if row is None:
        raise NotFoundError(f"no approval request with id {request_id!r}")
    return row


def list_approvals(
    session: Session, *, status: str | None = None, kind: str | None = None, limit: int = 100
) -> list[ApprovalRequestRow]:
    if status == ApprovalStatus.PENDING:
        expire_due(session)
    query = select(ApprovalRequestRow).order_by(ApprovalRequestRow.created_at.desc()).limit(limit)
    if status:
        query = query.where(ApprovalRequestRow.status == ApprovalStatus(status).value)
    if kind:
        query = query.where(ApprovalRequestRow.kind == ApprovalKind(kind).value)
    return list(session.scalars(query))


def expire_due(session: Session, now: datetime | None = None) -> list[ApprovalRequestRow]:
    """Mark pending requests past their TTL expired; each one is audited as decided by time."""
    due = list(
        session.scalars(
            select(ApprovalRequestRow).where(
                ApprovalRequestRow.status == ApprovalStatus.PENDING.value,
                ApprovalRequestRow.expires_at <= naive_utc(now),
            )
        )
    )
    for row in due:
        row.status, row.decided_at, row.decided_by = (
            ApprovalStatus.EXPIRED.value,
            naive_utc(now),
            "system:ttl",
        )
        audit.record(session, actor="system:ttl", action="approval.expire", subject=f"approval:{row.id}")
    session.flush()
    return due


def _check_decidable(session: Session, row: ApprovalRequestRow, actor: str) -> None:
    expire_due(session)
    if row.status != ApprovalStatus.PENDING.value:
        raise ApprovalError(f"approval request {row.id} is {row.status}, not pending")
    if row.requested_by == actor:
        raise ForbiddenError(f"approval request {row.id} was made by {actor}; someone else must decide it")


def approve(
    session: Session,
    request_id: str,
    *,
    actor: str,
    note: str | None = None,
    new_amount: Decimal | None = None,
) -> Decision:
    """Approve; a budget increase (or a gateway request given ``new_amount``) saves the budget
    with the new amount in this transaction. The caller republishes the gateway snapshot."""
    row = get_approval(session, request_id)
    _check_decidable(session, row, actor)
    budget = None
    amount = new_amount  # an approver may grant another amount than the one asked for
    if amount is None and row.kind == ApprovalKind.BUDGET_INCREASE.value and row.requested_amount is not None:
        amount = Decimal(row.requested_amount)
    if amount is not None:
        if row.kind == ApprovalKind.AGENT_TOOL.value or row.budget_id is None:
            raise ApprovalError(f"new_amount: approval request {row.id} has no budget to change")
        current = get_budget(session, row.budget_id)
        if amount <= current.amount:
            raise ApprovalError(f"new_amount: {amount} is not above the budget's amount {current.amount}")
        budget = save_budget(session, current.model_copy(update={"amount": amount}), actor=actor)
        row.applied_amount = amount
    row.status, row.decided_by, row.decided_at, row.decision_note = (
        ApprovalStatus.APPROVED.value,
        actor,
        naive_utc(),
        note,
    )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="approval.approve",
        subject=f"approval:{row.id}",
        detail={
            "kind": row.kind,
            "budget_id": row.budget_id,
            "new_amount": None if amount is None else str(amount),
            "note": note,
        },
    )
    return Decision(row, budget)


def deny(session: Session, request_id: str, *, actor: str, note: str | None = None) -> Decision:
    row = get_approval(session, request_id)
    _check_decidable(session, row, actor)
    row.status, row.decided_by, row.decided_at, row.decision_note = (
        ApprovalStatus.DENIED.value,
        actor,
        naive_utc(),
        note,
    )
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="approval.deny",
        subject=f"approval:{row.id}",
        detail={"kind": row.kind, "note": note},
    )
    return Decision(row)


def request_notification(rows: list[ApprovalRequestRow]) -> Notification:
    """One message for the requests opened by one action or scan."""
    lines = tuple(
        f"{r.id} ({r.kind}{', budget ' + r.budget_id if r.budget_id else ''}"
        f"{', tool ' + r.tool if r.tool else ''}) by {r.requested_by}: {r.reason}"
        for r in rows
    )
    subject = (
        f"{len(rows)} approval request(s) waiting" if len(rows) > 1 else f"Approval requested: {rows[0].id}"
    )
    return Notification(
        kind=NotificationKind.APPROVAL,
        subject=subject,
        summary="Approve or deny with `comptroller approvals approve|deny ID` or POST /api/v1/approvals/ID/approve.",
        sections=(Section("Requests", lines),),
        payload={"approvals": [approval_json(r) for r in rows]},
    )
