"""State table of fired budget alerts: what has been sent for which budget period."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy import DateTime, Integer, Numeric, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from comptroller.state.models import Base, utcnow


class BudgetAlertRow(Base):
    """One alert fired. The unique key (budget, period, kind, threshold) makes an alert fire at
    most once per period however often, and however concurrently, alerts are evaluated.
    ``threshold`` is the fraction crossed; a forecast alert stores 0."""

    __tablename__ = "budget_alerts"
    __table_args__ = (UniqueConstraint("budget_id", "period_start", "kind", "threshold"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    budget_id: Mapped[str] = mapped_column(String(64), index=True)
    period_start: Mapped[datetime] = mapped_column(DateTime)
    kind: Mapped[str] = mapped_column(String(16))
    threshold: Mapped[Decimal] = mapped_column(Numeric(9, 4))
    spend: Mapped[Decimal] = mapped_column(Numeric(24, 8))
    amount: Mapped[Decimal] = mapped_column(Numeric(24, 8))
    projected: Mapped[Decimal | None] = mapped_column(Numeric(24, 8), default=None)
    fired_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow, index=True)
