"""The migrations 0008_notify_approvals and 0009_agents create exactly what the models declare."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext

from comptroller.agents.models import AgentRow, AgentRunRow, AgentStepRow
from comptroller.budgets.alert_models import BudgetAlertRow
from comptroller.governance.approval_models import ApprovalRequestRow
from comptroller.notify.models import NotificationChannelRow, NotificationDeliveryRow
from comptroller.state.models import Base

OURS = {
    m.__tablename__
    for m in (
        AgentRow,
        AgentRunRow,
        AgentStepRow,
        BudgetAlertRow,
        ApprovalRequestRow,
        NotificationChannelRow,
        NotificationDeliveryRow,
    )
}


def ours(obj, name, type_, reflected, compare_to) -> bool:
    table = name if type_ == "table" else getattr(getattr(obj, "table", None), "name", None)
    return table in OURS


def test_migrated_tables_match_the_models(state):
    with state.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": ours})
        assert compare_metadata(context, Base.metadata) == []
    assert set(Base.metadata.tables) >= OURS
