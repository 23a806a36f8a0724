"""State table of approval requests and their decisions."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, DateTime, Numeric, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from comptroller.state.models import Base, utcnow


class ApprovalRequestRow(Base):
    """A request for a human decision. For ``gateway_budget`` the id is the gateway's
    ``approval_request_id``, so scanning the same blocked events twice opens one request.
    ``requested_amount`` is the budget amount asked for (an increase) or the one-off spend."""

    __tablename__ = "approval_requests"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    status: Mapped[str] = mapped_column(String(16), index=True)
    budget_id: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    agent_id: Mapped[str | None] = mapped_column(String(64), default=None)
    run_id: Mapped[str | None] = mapped_column(String(32), default=None, index=True)
    tool: Mapped[str | None] = mapped_column(String(128), default=None)
    requested_by: Mapped[str] = mapped_column(String(256))
    reason: Mapped[str] = mapped_column(Text, default="")
    requested_amount: Mapped[Decimal | None] = mapped_column(Numeric(24, 8), default=None)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(DateTime)
    decided_by: Mapped[str | None] = mapped_column(String(256), default=None)
    decided_at: Mapped[datetime | None] = mapped_column(DateTime, default=None)
    decision_note: Mapped[str | None] = mapped_column(Text, default=None)
    applied_amount: Mapped[Decimal | None] = mapped_column(Numeric(24, 8), default=None)
