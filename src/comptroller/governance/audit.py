"""The append-only, hash-chained audit log: every change, approval, kill switch and automated
action is one entry. ``record`` appends in the caller's transaction, so the entry commits or
rolls back with the change it describes; ``verify`` recomputes the chain."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from comptroller.governance.models import AuditEntry, AuditHead
from comptroller.state.models import utcnow

MAIN_CHAIN = "main"
GENESIS = "0" * 64
"""The ``prev_hash`` of a chain's first entry."""


def canonical_json(value: Any) -> str:
    """One spelling per value (sorted keys, no spaces, non-JSON types as strings), so the hash
    recomputed from the stored row equals the one written."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def entry_hash(
    prev_hash: str,
    *,
    chain: str,
    seq: int,
    at: datetime,
    actor: str,
    action: str,
    subject: str,
    detail: dict[str, Any],
) -> str:
    body = canonical_json(
        {
            "chain": chain,
            "seq": seq,
            "at": at.isoformat(timespec="microseconds"),
            "actor": actor,
            "action": action,
            "subject": subject,
            "detail": detail,
        }
    )
    return hashlib.sha256((prev_hash + body).encode()).hexdigest()


def _ensure_head(session: Session, chain: str) -> None:
    """Create the chain's head row if missing; concurrent creators do not collide."""
    dialect = session.get_bind().dialect.name
    values = {"chain": chain, "seq": 0, "hash": GENESIS}
    if dialect == "postgresql":
        session.execute(postgresql.insert(AuditHead).values(values).on_conflict_do_nothing())
    elif dialect == "sqlite":
        session.execute(sqlite.insert(AuditHead).values(values).on_conflict_do_nothing())
    elif session.get(AuditHead, chain) is None:
        session.execute(insert(AuditHead).values(values))


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    subject: str,
    detail: dict[str, Any] | None = None,
    chain: str = MAIN_CHAIN,
) -> AuditEntry:
    """Append one entry to ``chain`` within the session's current transaction.

    The head row is bumped with ``UPDATE ... RETURNING`` before anything is read: on PostgreSQL
    that row lock serialises writers until the caller commits; on SQLite the UPDATE takes the
    database write lock. Either way two writers can never claim the same sequence number.
    """
    if not actor or not action or not subject:
        raise ValueError("audit entries need an actor, an action and a subject")
    detail = json.loads(canonical_json(detail or {}))
    bump = (
        update(AuditHead)
        .where(AuditHead.chain == chain)
        .values(seq=AuditHead.seq + 1)
        .returning(AuditHead.seq, AuditHead.hash)
    )
    row = session.execute(bump).one_or_none()
    if row is None:
        _ensure_head(session, chain)
        row = session.execute(bump).one()
    seq, prev_hash = row
    at = utcnow()
    digest = entry_hash(
        prev_hash, chain=chain, seq=seq, at=at, actor=actor, action=action, subject=subject, detail=detail
    )
    entry = AuditEntry(
        chain=chain,
        seq=seq,
        at=at,
        actor=actor,
        action=action,
        subject=subject,
        detail=detail,
        prev_hash=prev_hash,
        hash=digest,
    )
    session.add(entry)
    session.execute(update(AuditHead).where(AuditHead.chain == chain).values(hash=digest))
    session.flush([entry])
    return entry


@dataclass(frozen=True, slots=True)
class AuditVerification:
    """The result of recomputing one chain. ``ok`` is False at the first problem found:
    ``problem`` is ``edited`` (a stored hash does not match its content), ``relinked`` (an entry's
    prev_hash is not the previous entry's hash), ``missing`` (a sequence number is absent, e.g. a
    deleted entry) or ``head`` (the head disagrees with the last entry, e.g. a deleted tail)."""

    chain: str
    ok: bool
    entries: int
    head_seq: int
    head_hash: str
    first_bad_seq: int | None = None
    problem: str | None = None
    message: str = ""

    def as_json(self) -> dict[str, Any]:
        return {
            "chain": self.chain,
            "ok": self.ok,
            "entries": self.entries,
            "head_seq": self.head_seq,
            "head_hash": self.head_hash,
            "first_bad_seq": self.first_bad_seq,
            "problem": self.problem,
            "message": self.message,
        }


def verify(session: Session, chain: str = MAIN_CHAIN) -> AuditVerification:
    """Walk the chain in sequence order, recomputing every hash. The final head hash is worth
    publishing elsewhere: a chain rewritten wholesale from some entry on would change it."""
    head = session.get(AuditHead, chain)
    head_seq, head_hash = (head.seq, head.hash) if head else (0, GENESIS)
    expected_seq, prev = 1, GENESIS

    def broken(seq: int, problem: str, message: str) -> AuditVerification:
        return AuditVerification(chain, False, expected_seq - 1, head_seq, head_hash, seq, problem, message)

    for entry in _entries(session, chain):
        if entry.seq != expected_seq:
            return broken(
                expected_seq,
                "missing",
                f"entry {expected_seq} is missing (the next stored entry is {entry.seq})",
            )
        if entry.prev_hash != prev:
            return broken(entry.seq, "relinked", f"entry {entry.seq} does not link to entry {entry.seq - 1}")
        recomputed = entry_hash(
            entry.prev_hash,
            chain=entry.chain,
            seq=entry.seq,
            at=entry.at,
            actor=entry.actor,
            action=entry.action,
            subject=entry.subject,
            detail=entry.detail,
        )
        if recomputed != entry.hash:
            return broken(entry.seq, "edited", f"entry {entry.seq} was changed after it was written")
        prev, expected_seq = entry.hash, expected_seq + 1
    last = expected_seq - 1
    if last != head_seq or prev != head_hash:
        return broken(
            last + 1,
            "head",
            f"the chain ends at entry {last} but its head records entry {head_seq}: "
            "entries were deleted from the end or the head was changed",
        )
    return AuditVerification(chain, True, last, head_seq, head_hash, message=f"{last} entries verified")


def _entries(session: Session, chain: str) -> Iterator[AuditEntry]:
    query = select(AuditEntry).where(AuditEntry.chain == chain).order_by(AuditEntry.seq)
    yield from session.scalars(query.execution_options(yield_per=1000))


def list_entries(
    session: Session,
    *,
    chain: str = MAIN_CHAIN,
    action: str | None = None,
    subject: str | None = None,
    actor: str | None = None,
    limit: int = 100,
    before_seq: int | None = None,
) -> list[AuditEntry]:
    """Newest first; ``action`` matches a prefix (``use_case.`` finds every use-case entry)."""
    query = select(AuditEntry).where(AuditEntry.chain == chain)
    if action:
        query = query.where(AuditEntry.action.startswith(action, autoescape=True))
    if subject:
        query = query.where(AuditEntry.subject == subject)
    if actor:
        query = query.where(AuditEntry.actor == actor)
    if before_seq is not None:
        query = query.where(AuditEntry.seq < before_seq)
    return list(session.scalars(query.order_by(AuditEntry.seq.desc()).limit(limit)))


def entry_json(entry: AuditEntry) -> dict[str, Any]:
    return {
        "seq": entry.seq,
        "chain": entry.chain,
        "at": entry.at.isoformat(timespec="microseconds") + "Z",
        "actor": entry.actor,
        "action": entry.action,
        "subject": entry.subject,
        "detail": entry.detail,
        "prev_hash": entry.prev_hash,
        "hash": entry.hash,
    }
