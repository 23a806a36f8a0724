"""State tables of governance: users, their credentials and the hash-chained audit log."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, DateTime, ForeignKey, Integer, Numeric, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from comptroller.state.models import Base, utcnow


class User(Base):
    """A person or service that calls the API. ``roles`` and ``teams`` are short lists read on
    every request, so they live on the row rather than in join tables."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str | None] = mapped_column(String(256), default=None)
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    teams: Mapped[list[str]] = mapped_column(JSON, default=list)
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


class Credential(Base):
    """An API token (``kind='api'``, long-lived until revoked) or a login session
    (``kind='session'``, expiring). Only the SHA-256 of the secret is stored."""

    __tablename__ = "credentials"

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(128), default="")
    scope: Mapped[str] = mapped_column(String(16), default="all")
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    last_used_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)


class AuditEntry(Base):
    """One appended fact. ``hash`` = SHA-256(prev_hash + canonical JSON of the entry), so editing
    or deleting any entry breaks every hash after it."""

    __tablename__ = "audit_log"
    __table_args__ = (UniqueConstraint("chain", "seq"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    chain: Mapped[str] = mapped_column(String(32), default="main")
    seq: Mapped[int] = mapped_column(Integer)
    at: Mapped[datetime] = mapped_column(DateTime)
    actor: Mapped[str] = mapped_column(String(128))
    action: Mapped[str] = mapped_column(String(128), index=True)
    subject: Mapped[str] = mapped_column(String(256), index=True)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))


class AuditHead(Base):
    """The newest sequence number and hash of a chain. Appending updates this row first, which
    takes a row lock (PostgreSQL) or the write lock (SQLite), so concurrent writers queue instead
    of forking the chain; it also lets ``verify`` notice entries deleted from the tail."""

    __tablename__ = "audit_heads"

    chain: Mapped[str] = mapped_column(String(32), primary_key=True)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    hash: Mapped[str] = mapped_column(String(64))


class UseCase(Base):
    """One AI use case in the intake registry: what it does, for whom, on which data, at what
    expected value and cost; its computed risk tier and where it is in its lifecycle."""

    __tablename__ = "use_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    purpose: Mapped[str] = mapped_column(Text)
    owner: Mapped[str] = mapped_column(String(256))
    team: Mapped[str] = mapped_column(String(128), index=True)
    users: Mapped[str] = mapped_column(Text, default="")
    data_classes: Mapped[list[str]] = mapped_column(JSON, default=list)
    vendor: Mapped[str] = mapped_column(String(128))
    model: Mapped[str] = mapped_column(String(256))
    expected_monthly_value: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    expected_monthly_cost: Mapped[Decimal] = mapped_column(Numeric(16, 2))
    customer_impact: Mapped[str] = mapped_column(String(16))
    autonomy: Mapped[str] = mapped_column(String(16))
    external_actions: Mapped[bool] = mapped_column(Boolean, default=False)
    success_metric: Mapped[str] = mapped_column(Text, default="")
    links: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), index=True)
    risk_tier: Mapped[str] = mapped_column(String(16))
    risk_reasons: Mapped[list[str]] = mapped_column(JSON, default=list)
    review_round: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, onupdate=utcnow)
    submitted_by: Mapped[str | None] = mapped_column(String(128), default=None)
    submitted_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)


class UseCaseReview(Base):
    """One reviewer's decision in one review round (a round starts at each submission)."""

    __tablename__ = "use_case_reviews"
    __table_args__ = (UniqueConstraint("use_case_id", "review_round", "reviewer"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    use_case_id: Mapped[int] = mapped_column(ForeignKey("use_cases.id", ondelete="CASCADE"), index=True)
    review_round: Mapped[int] = mapped_column(Integer)
    reviewer: Mapped[str] = mapped_column(String(64))
    roles: Mapped[list[str]] = mapped_column(JSON, default=list)
    decision: Mapped[str] = mapped_column(String(16))
    comment: Mapped[str] = mapped_column(Text, default="")
    at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
