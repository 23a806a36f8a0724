"""Channel records: create, change, remove and list, each change audited."""

from __future__ import annotations

import uuid
from typing import Any

from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session

from comptroller.errors import ConfigError, NotFoundError
from comptroller.governance.audit import record
from comptroller.notify.message import NotificationKind
from comptroller.notify.models import NotificationChannelRow
from comptroller.notify.registry import masked_config, merge_secrets, validate_config


class ChannelSpec(BaseModel):
    """A channel as a user writes it; ``config`` is validated by the channel type's schema."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=128)
    type: str
    config: dict[str, Any] = Field(default_factory=dict)
    kinds: list[NotificationKind] = Field(default_factory=list)
    enabled: bool = True


def channel_view(row: NotificationChannelRow) -> dict[str, Any]:
    """The channel as shown by the API and CLI: secrets masked."""
    return {
        "id": row.id,
        "name": row.name,
        "type": row.type,
        "config": masked_config(row.type, row.config),
        "kinds": list(row.kinds),
        "enabled": row.enabled,
        "created_by": row.created_by,
        "created_at": row.created_at.isoformat(),
    }


def list_channels(session: Session) -> list[NotificationChannelRow]:
    return list(session.scalars(select(NotificationChannelRow).order_by(NotificationChannelRow.name)))


def get_channel(session: Session, channel_id: str) -> NotificationChannelRow:
    row = session.get(NotificationChannelRow, channel_id)
    if row is None:
        row = session.scalar(select(NotificationChannelRow).where(NotificationChannelRow.name == channel_id))
    if row is None:
        raise NotFoundError(f"no notification channel with id or name {channel_id!r}")
    return row


def _check_name_free(session: Session, name: str, own_id: str | None = None) -> None:
    other = session.scalar(select(NotificationChannelRow).where(NotificationChannelRow.name == name))
    if other is not None and other.id != own_id:
        raise ConfigError(f"name: a notification channel named {name!r} exists already")


def create_channel(session: Session, spec: ChannelSpec, *, actor: str) -> NotificationChannelRow:
    config = validate_config(spec.type, spec.config).model_dump(mode="json", exclude_none=True)
    _check_name_free(session, spec.name)
    row = NotificationChannelRow(
        id=uuid.uuid4().hex,
        name=spec.name,
        type=spec.type,
        config=config,
        kinds=[k.value for k in spec.kinds],
        enabled=spec.enabled,
        created_by=actor,
    )
    session.add(row)
    session.flush()
    record(
        session,
        actor=actor,
        action="notification_channel.create",
        subject=f"notification_channel:{row.id}",
        detail={"name": row.name, "type": row.type, "kinds": row.kinds},
    )
    return row


def update_channel(
    session: Session, channel_id: str, spec: ChannelSpec, *, actor: str
) -> NotificationChannelRow:
    row = get_channel(session, channel_id)
    if spec.type != row.type:
        raise ConfigError(f"type: channel {row.name!r} is a {row.type} channel; create a new one instead")
    _check_name_free(session, spec.name, row.id)
    given = merge_secrets(row.type, row.config, spec.config)
    row.config = validate_config(row.type, given).model_dump(mode="json", exclude_none=True)
    row.name, row.kinds, row.enabled = spec.name, [k.value for k in spec.kinds], spec.enabled
    session.flush()
    record(
        session,
        actor=actor,
        action="notification_channel.update",
        subject=f"notification_channel:{row.id}",
        detail={"name": row.name, "kinds": row.kinds, "enabled": row.enabled},
    )
    return row


def delete_channel(session: Session, channel_id: str, *, actor: str) -> None:
    row = get_channel(session, channel_id)
    session.delete(row)
    record(
        session,
        actor=actor,
        action="notification_channel.delete",
        subject=f"notification_channel:{row.id}",
        detail={"name": row.name, "type": row.type},
    )
