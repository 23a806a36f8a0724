"""``GET /api/v1/reconcile?provider=&month=``: telemetry against the provider's bill, gaps explained.

The answer names every provider project's cost, so it is for the roles that read all spend."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from comptroller.api.auth import require
from comptroller.api.deps import Ctx
from comptroller.governance.rbac import GLOBAL_READ_ROLES
from comptroller.reconcile.report import parse_month, reconcile

router = APIRouter(prefix="/api/v1/reconcile", tags=["reconcile"], dependencies=[require(*GLOBAL_READ_ROLES)])


@router.get("")
def get_reconcile(
    ctx: Ctx,
    provider: Annotated[str, Query(description="openai | anthropic")],
    month: Annotated[str, Query(description="YYYY-MM")],
) -> dict[str, Any]:
    return reconcile(ctx.ledger, provider, parse_month(month)).as_json()
