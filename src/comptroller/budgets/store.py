"""Budgets in the state database, kept as a tree through ``parent_id``.

Tree rules, checked on every save:

* the parent exists and following parents up from a budget never comes back to it (no cycles);
* a child's amount is at most its parent's when both count the same period and currency, and a
  parent cannot shrink below such a child. Budgets with different periods are not compared
  (a daily agent cap under a monthly team budget says nothing about the month by itself);
* children together may exceed their parent: teams are often given more than the pool on the
  expectation that not all spend it, and the parent, enforced on its own, still caps the total;
* a budget with children cannot be deleted until they are moved or deleted.

Amounts are stored as NUMERIC(18, 4): exact on PostgreSQL; SQLite keeps them as floating point,
exact to the cent for any amount below a billion.
"""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import JSON, Boolean, Date, DateTime, Numeric, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from comptroller.budgets.model import Budget, BudgetBehaviour, BudgetPeriod, BudgetScope, FailMode
from comptroller.errors import BudgetError, NotFoundError
from comptroller.governance import audit
from comptroller.state.models import Base, utcnow

AMOUNT_PLACES = Decimal("0.0001")


class BudgetRow(Base):
    __tablename__ = "budgets"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    scope: Mapped[str] = mapped_column(String(16))
    scope_value: Mapped[str | None] = mapped_column(String(256), default=None)
    period: Mapped[str] = mapped_column(String(16))
    amount: Mapped[Decimal] = mapped_column(Numeric(18, 4))
    currency: Mapped[str] = mapped_column(String(3))
    behaviour: Mapped[str] = mapped_column(String(16))
    fail_mode: Mapped[str] = mapped_column(String(8))
    thresholds: Mapped[list[str]] = mapped_column(JSON)
    parent_id: Mapped[str | None] = mapped_column(String(64), default=None, index=True)
    starts_on: Mapped[date | None] = mapped_column(Date, default=None)
    enabled: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)
    updated_by: Mapped[str] = mapped_column(String(256))
    updated_at: Mapped[datetime] = mapped_column(DateTime, default=utcnow)


def to_budget(row: BudgetRow) -> Budget:
    return Budget(
        id=row.id,
        name=row.name,
        scope=BudgetScope(row.scope),
        scope_value=row.scope_value,
        period=BudgetPeriod(row.period),
        amount=Decimal(row.amount).quantize(AMOUNT_PLACES),
        currency=row.currency,
        behaviour=BudgetBehaviour(row.behaviour),
        fail_mode=FailMode(row.fail_mode),
        thresholds=tuple(Decimal(t) for t in row.thresholds),
        parent_id=row.parent_id,
        starts_on=row.starts_on,
        enabled=row.enabled,
    )


def _fields(budget: Budget) -> dict[str, Any]:
    if budget.amount != budget.amount.quantize(AMOUNT_PLACES):
        raise BudgetError(
            f"amount: {_plain(budget.amount)} has more than 4 decimal places; stored budgets are kept to 1/100 cent"
        )
    return {
        "name": budget.name,
        "scope": budget.scope.value,
        "scope_value": budget.scope_value,
        "period": budget.period.value,
        "amount": budget.amount.quantize(AMOUNT_PLACES),
        "currency": budget.currency,
        "behaviour": budget.behaviour.value,
        "fail_mode": budget.fail_mode.value,
        "thresholds": [str(t) for t in budget.thresholds],
        "parent_id": budget.parent_id,
        "starts_on": budget.starts_on,
        "enabled": budget.enabled,
    }


def list_budgets(session: Session) -> list[Budget]:
    return [
        to_budget(row) for row in session.scalars(select(BudgetRow).order_by(BudgetRow.name, BudgetRow.id))
    ]


def get_budget(session: Session, budget_id: str) -> Budget:
    row = session.get(BudgetRow, budget_id)
    if row is None:
        raise NotFoundError(f"no budget with id {budget_id!r}; `comptroller budgets list` shows them")
    return to_budget(row)


def children(session: Session, budget_id: str) -> list[Budget]:
    rows = session.scalars(select(BudgetRow).where(BudgetRow.parent_id == budget_id).order_by(BudgetRow.id))
    return [to_budget(row) for row in rows]


def _plain(amount: Decimal) -> str:
    """1000, not 1000.0000 or 1E+3, in messages."""
    return format(amount.normalize(), "f")


def _comparable(a: Budget, b: Budget) -> bool:
    return a.period is b.period and a.currency == b.currency


def validate_tree(session: Session, budget: Budget) -> None:
    """Raise BudgetError, naming the field, if saving ``budget`` would break a tree rule."""
    if budget.parent_id is not None:
        if budget.parent_id == budget.id:
            raise BudgetError(f"parent_id: budget {budget.id!r} cannot be its own parent")
        parent_row = session.get(BudgetRow, budget.parent_id)
        if parent_row is None:
            raise BudgetError(f"parent_id: no budget with id {budget.parent_id!r}")
        seen = {budget.id}
        ancestor: BudgetRow | None = parent_row
        while ancestor is not None:
            if ancestor.id in seen:
                raise BudgetError(
                    f"parent_id: making {budget.parent_id!r} the parent of {budget.id!r} would close a cycle"
                )
            seen.add(ancestor.id)
            ancestor = session.get(BudgetRow, ancestor.parent_id) if ancestor.parent_id else None
        parent = to_budget(parent_row)
        if _comparable(budget, parent) and budget.amount > parent.amount:
            raise BudgetError(
                f"amount: {_plain(budget.amount)} exceeds the {parent.period.value} amount {_plain(parent.amount)} "
                f"of parent budget {parent.id!r}"
            )
    for child in children(session, budget.id):
        if _comparable(child, budget) and child.amount > budget.amount:
            raise BudgetError(
                f"amount: {_plain(budget.amount)} is below the {child.period.value} amount {_plain(child.amount)} "
                f"of child budget {child.id!r}"
            )


def save_budget(session: Session, budget: Budget, *, actor: str) -> Budget:
    """Create the budget, or replace every field of the one with the same id."""
    validate_tree(session, budget)
    row = session.get(BudgetRow, budget.id)
    fields = _fields(budget)
    now = utcnow()
    if row is None:
        row = BudgetRow(
            id=budget.id, created_by=actor, created_at=now, updated_by=actor, updated_at=now, **fields
        )
        session.add(row)
        action, detail = "budget.create", budget.model_dump(mode="json")
    else:
        before = to_budget(row).model_dump(mode="json")
        for name, value in fields.items():
            setattr(row, name, value)
        row.updated_by, row.updated_at = actor, now
        action, detail = "budget.update", {"before": before, "after": budget.model_dump(mode="json")}
    session.flush()
    audit.record(session, actor=actor, action=action, subject=f"budget:{budget.id}", detail=detail)
    return to_budget(row)


def delete_budget(session: Session, budget_id: str, *, actor: str) -> None:
    budget = get_budget(session, budget_id)
    kids = children(session, budget_id)
    if kids:
        names = ", ".join(repr(k.id) for k in kids)
        raise BudgetError(f"budget {budget_id!r} has child budgets ({names}); move or delete them first")
    row = session.get(BudgetRow, budget_id)
    session.delete(row)
    session.flush()
    audit.record(
        session,
        actor=actor,
        action="budget.delete",
        subject=f"budget:{budget_id}",
        detail=budget.model_dump(mode="json"),
    )
