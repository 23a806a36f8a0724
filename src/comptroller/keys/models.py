"""State tables of the gateway's control plane. Timestamps are naive UTC, like the rest of state."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from comptroller.state.models import Base, utcnow


class VirtualKeyRow(Base):
    """A gateway key. Only the SHA-256 of the secret is kept; ``prefix`` lets people recognise it."""

    __tablename__ = "virtual_keys"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    key_hash: Mapped[str] = mapped_column(String(64), unique=True)
    prefix: Mapped[str] = mapped_column(String(16))
    attribution: Mapped[dict[str, str]] = mapped_column(JSON, default=dict)
    models: Mapped[list[str]] = mapped_column(JSON, default=list)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    revoked_by: Mapped[str | None] = mapped_column(String(256), default=None)
    cache_opt_in: Mapped[bool] = mapped_column(Boolean, default=False)
    store_prompts: Mapped[bool] = mapped_column(Boolean, default=False)
    data_classes: Mapped[list[str]] = mapped_column(JSON, default=list)
    created_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class KillSwitchRow(Base):
    """An emergency stop for every request whose attribution has ``scope`` = ``scope_value``.
    Rows are never deleted: engaged and released times are the record of the incident."""

    __tablename__ = "kill_switches"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    scope_value: Mapped[str] = mapped_column(String(256))
    reason: Mapped[str] = mapped_column(Text, default="")
    engaged_by: Mapped[str] = mapped_column(String(256))
    engaged_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    released_by: Mapped[str | None] = mapped_column(String(256), default=None)
    released_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)


class RateLimitRow(Base):
    """Requests and tokens per minute and concurrent requests for one key, team or model."""

    __tablename__ = "rate_limits"
    __table_args__ = (UniqueConstraint("scope", "scope_value"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    scope: Mapped[str] = mapped_column(String(16))
    scope_value: Mapped[str] = mapped_column(String(256))
    requests_per_minute: Mapped[int | None] = mapped_column(Integer, default=None)
    tokens_per_minute: Mapped[int | None] = mapped_column(Integer, default=None)
    max_concurrent: Mapped[int | None] = mapped_column(Integer, default=None)
    created_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class SnapshotState(Base):
    """One row: the last published snapshot version, and the budget spend it carried with the
    moment it was measured, so changes that do not touch budgets republish without the ledger."""

    __tablename__ = "gateway_snapshot_state"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    version: Mapped[int] = mapped_column(Integer, default=0)
    published_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    budget_spent: Mapped[dict[str, Any] | None] = mapped_column(JSON, default=None)
    spent_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
