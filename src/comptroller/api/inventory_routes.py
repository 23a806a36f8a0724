"""``/api/v1/inventory``: every AI vendor, product, model and agent seen, and the shadow AI among them.

Organisation-wide by nature (shadow AI is whatever no team registered), so it is for the roles
that read every team's spend; a team owner sees their own use cases in the registry instead.
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query

from comptroller.api.auth import require
from comptroller.api.deps import Ctx
from comptroller.governance.rbac import GLOBAL_READ_ROLES
from comptroller.inventory.discover import discover
from comptroller.inventory.items import InventoryItem, known_vs_found
from comptroller.inventory.registered import registered_uses

router = APIRouter(prefix="/api/v1/inventory", tags=["inventory"], dependencies=[require(*GLOBAL_READ_ROLES)])
From = Annotated[date | None, Query(alias="from", description="First day (inclusive).")]
To = Annotated[date | None, Query(description="Last day (inclusive).")]


def _items(ctx: Ctx, start: date | None, end: date | None) -> list[InventoryItem]:
    with ctx.state.session() as session:
        uses = registered_uses(session)
    return discover(ctx.ledger, ctx.attribution(), uses, start=start, end=end)


@router.get("")
def list_inventory(
    ctx: Ctx,
    from_: From = None,
    to: To = None,
    kind: Literal["vendor", "product", "model", "agent"] | None = None,
    status: Literal["registered", "in_review", "unregistered"] | None = None,
    limit: Annotated[int, Query(ge=1, le=5000)] = 500,
) -> list[dict[str, Any]]:
    """Shadow items first, then by spend; ``status=unregistered`` is the shadow-AI list."""
    items = [
        i
        for i in _items(ctx, from_, to)
        if (kind is None or i.kind == kind) and (status is None or i.status == status)
    ]
    return [i.as_json() for i in items[:limit]]


@router.get("/summary")
def inventory_summary(ctx: Ctx, from_: From = None, to: To = None) -> list[dict[str, Any]]:
    """Known vs found: per kind, how many were seen and how many of those are registered."""
    return [s.as_json() for s in known_vs_found(_items(ctx, from_, to))]
