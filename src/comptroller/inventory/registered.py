"""What the registry says is in use: use cases with their vendor, model and linked agents.

Agents count for a use case when the use case links them or the agent registry names the use
case; a use case's ``dimensions`` link (``{"model": "gpt-4o"}``) names what it uses too.
"""

from __future__ import annotations

from collections import defaultdict

from sqlalchemy import select
from sqlalchemy.orm import Session

from comptroller.agents.models import AgentRow
from comptroller.governance.models import UseCase
from comptroller.inventory.matching import RegisteredUse


def registered_uses(session: Session) -> list[RegisteredUse]:
    agents_of: dict[str, set[str]] = defaultdict(set)
    for agent in session.scalars(select(AgentRow).where(AgentRow.use_case_id.is_not(None))):
        agents_of[str(agent.use_case_id)] |= {agent.id, agent.name}
    uses = []
    for row in session.scalars(select(UseCase)):
        links = row.links or {}
        dimensions = links.get("dimensions") or {}
        uses.append(
            RegisteredUse(
                id=str(row.id),
                name=row.name,
                status=row.status,
                vendors=_names(row.vendor, dimensions.get("vendor")),
                products=_names(dimensions.get("product")),
                models=_names(row.model, dimensions.get("model")),
                agents=frozenset(agents_of[str(row.id)])
                | _names(*(links.get("agents") or ()), dimensions.get("agent")),
            )
        )
    return uses


def _names(*values: str | None) -> frozenset[str]:
    """Non-empty names; a field may list several, comma-separated ("gpt-4o, gpt-4o-mini")."""
    return frozenset(part.strip() for value in values if value for part in value.split(",") if part.strip())
