"""Creating, listing and revoking virtual keys.

The secret is ``sk-cmp-`` plus 32 random bytes, URL-safe. It is returned once by ``create_key``
and never written anywhere: state holds its SHA-256 (what the gateway compares) and the first
four characters after the prefix, so a person can tell their keys apart.
"""

from __future__ import annotations

import secrets
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from comptroller.errors import NotFoundError
from comptroller.gateway.snapshot import KEY_PREFIX, hash_key
from comptroller.governance import audit
from comptroller.keys.models import VirtualKeyRow
from comptroller.keys.specs import CreatedKey, KeyInfo, KeySpec, as_utc
from comptroller.state.models import utcnow

SECRET_BYTES = 32
SHOWN_CHARS = 4


def new_secret() -> str:
    return KEY_PREFIX + secrets.token_urlsafe(SECRET_BYTES)


def key_info(row: VirtualKeyRow) -> KeyInfo:
    return KeyInfo(
        id=row.id,
        name=row.name,
        prefix=row.prefix,
        attribution=dict(row.attribution or {}),
        models=tuple(row.models or ()),
        expires_at=as_utc(row.expires_at),
        revoked_at=as_utc(row.revoked_at),
        revoked_by=row.revoked_by,
        cache_opt_in=row.cache_opt_in,
        store_prompts=row.store_prompts,
        data_classes=tuple(row.data_classes or ()),
        created_by=row.created_by,
        created_at=as_utc(row.created_at),  # type: ignore[arg-type]
    )


def create_key(session: Session, spec: KeySpec, *, actor: str) -> CreatedKey:
    secret = new_secret()
    expires = spec.expires_at.replace(tzinfo=None) if spec.expires_at else None
    row = VirtualKeyRow(
        id=uuid.uuid4().hex[:12],
        name=spec.name,
        key_hash=hash_key(secret),
        prefix=secret[len(KEY_PREFIX) : len(KEY_PREFIX) + SHOWN_CHARS],
        attribution=dict(spec.attribution),
        models=list(spec.models),
        expires_at=expires,
        cache_opt_in=spec.cache_opt_in,
        store_prompts=spec.store_prompts,
        data_classes=list(spec.data_classes),
        created_by=actor,
        created_at=utcnow(),
    )
    session.add(row)
    session.flush()
    info = key_info(row)
    audit.record(
        session,
        actor=actor,
        action="key.create",
        subject=f"key:{row.id}",
        detail=info.model_dump(mode="json", exclude={"revoked_at", "revoked_by"}),
    )
    return CreatedKey(key=info, secret=secret)


def list_keys(session: Session, *, include_revoked: bool = True) -> list[KeyInfo]:
    query = select(VirtualKeyRow).order_by(VirtualKeyRow.created_at, VirtualKeyRow.id)
    if not include_revoked:
        query = query.where(VirtualKeyRow.revoked_at.is_(None))
    return [key_info(row) for row in session.scalars(query)]


def get_key_row(session: Session, key_id: str) -> VirtualKeyRow:
    row = session.get(VirtualKeyRow, key_id)
    if row is None:
        raise NotFoundError(f"no virtual key with id {key_id!r}; `comptroller keys list` shows them")
    return row


def revoke_key(session: Session, key_id: str, *, actor: str) -> KeyInfo:
    """Revoking twice keeps the first revocation's time and author and writes no second entry."""
    row = get_key_row(session, key_id)
    if row.revoked_at is None:
        row.revoked_at = utcnow()
        row.revoked_by = actor
        session.flush()
        audit.record(
            session, actor=actor, action="key.revoke", subject=f"key:{row.id}", detail={"name": row.name}
        )
    return key_info(row)
