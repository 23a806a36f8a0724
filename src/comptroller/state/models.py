"""SQLAlchemy models of the state database (SQLite embedded, PostgreSQL in production)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column


def utcnow() -> datetime:
    return datetime.now(UTC).replace(tzinfo=None)


class Base(DeclarativeBase):
    pass


class Delivery(Base):
    """One ingest: what came in, what it wrote and what it replaced; the ingest audit trail."""

    __tablename__ = "deliveries"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    source: Mapped[str] = mapped_column(String(64))
    files: Mapped[list[Any]] = mapped_column(JSON, default=list)
    rows: Mapped[int] = mapped_column(Integer, default=0)
    replaced_rows: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(16))
    message: Mapped[str | None] = mapped_column(Text, default=None)
    started_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    seconds: Mapped[float] = mapped_column(default=0.0)


class AttributionRule(Base):
    """A virtual tag: when ``condition`` holds, ``dimension`` takes ``value``. Evaluated at
    query time in ``position`` order, first match wins, so edits re-attribute history."""

    __tablename__ = "attribution_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    position: Mapped[int] = mapped_column(Integer, index=True)
    dimension: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(256))
    condition: Mapped[str] = mapped_column(Text)
    override: Mapped[bool] = mapped_column(Boolean, default=False)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    description: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)


class OwnerAssignment(Base):
    """Who is accountable for spend carrying a dimension value (e.g. team=search)."""

    __tablename__ = "owner_assignments"
    __table_args__ = (UniqueConstraint("dimension", "value"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    dimension: Mapped[str] = mapped_column(String(64))
    value: Mapped[str] = mapped_column(String(256))
    owner: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class AllocationRule(Base):
    """Splits shared cost lines (``condition``) across the values of ``dimension``."""

    __tablename__ = "allocation_rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    position: Mapped[int] = mapped_column(Integer)
    condition: Mapped[str] = mapped_column(Text)
    dimension: Mapped[str] = mapped_column(String(64))
    method: Mapped[str] = mapped_column(String(32))
    targets: Mapped[list[str] | None] = mapped_column(JSON, default=None)
    weights: Mapped[dict[str, float] | None] = mapped_column(JSON, default=None)
    metric: Mapped[str | None] = mapped_column(String(128), default=None)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class PriceOverride(Base):
    """A negotiated contract price: a discount or unit prices, effective for a date range."""

    __tablename__ = "price_overrides"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    provider: Mapped[str] = mapped_column(String(64))
    model: Mapped[str] = mapped_column(String(256))
    effective_from: Mapped[date] = mapped_column(Date)
    effective_to: Mapped[date | None] = mapped_column(Date, default=None)
    discount_pct: Mapped[Decimal | None] = mapped_column(Numeric(9, 4), default=None)
    unit_prices: Mapped[dict[str, str] | None] = mapped_column(JSON, default=None)
    note: Mapped[str | None] = mapped_column(Text, default=None)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class PullCursor(Base):
    """Where the last ``comptroller pull`` of a provider's usage API got to: the start (naive UTC)
    of the newest bucket it saw, which the next pull asks for again in case it was incomplete."""

    __tablename__ = "pull_cursors"

    provider: Mapped[str] = mapped_column(String(32), primary_key=True)
    last_bucket_start: Mapped[datetime] = mapped_column(DateTime)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
