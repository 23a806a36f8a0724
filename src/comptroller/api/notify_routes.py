"""``/api/v1/notification-channels`` (secrets shown masked), the delivery log, and the alert
evaluation and digest endpoints a scheduler may call instead of the CLI."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, BackgroundTasks, Query, Request
from sqlalchemy import select

from comptroller.api.auth import Principal, require
from comptroller.api.deps import Ctx
from comptroller.budgets.alert_models import BudgetAlertRow
from comptroller.budgets.digest import build_digest, send_digest
from comptroller.budgets.scheduled import run_checks
from comptroller.config import Settings
from comptroller.governance.rbac import GLOBAL_READ_ROLES, Role
from comptroller.notify.delivery import DeliveryResult, list_deliveries, notify
from comptroller.notify.message import Notification, NotificationKind
from comptroller.notify.store import (
    ChannelSpec,
    channel_view,
    create_channel,
    delete_channel,
    get_channel,
    list_channels,
    update_channel,
)
from comptroller.state.db import StateDB

router = APIRouter(tags=["notifications"])
CHANNELS = "/api/v1/notification-channels"


Manager = Annotated[Principal, require(Role.FINOPS)]
READERS = [require(*GLOBAL_READ_ROLES)]


def delivery_json(result: DeliveryResult) -> dict[str, Any]:
    return {
        "channel_id": result.channel_id,
        "channel": result.channel_name,
        "delivered": result.delivered,
        "attempts": result.attempts,
        "error": result.error,
        "skipped": result.skipped,
    }


def _notify_now(settings: Settings, notification: Notification) -> None:
    state = StateDB(settings.state_url)
    try:
        notify(state, notification)
    finally:
        state.close()


def notify_later(background: BackgroundTasks, request: Request, notification: Notification) -> None:
    """Send after the response: a slow or failing channel must not hold up the caller."""
    background.add_task(_notify_now, request.app.state.settings, notification)


@router.get(CHANNELS, dependencies=READERS)
def get_channels(ctx: Ctx) -> list[dict[str, Any]]:
    with ctx.state.session() as session:
        return [channel_view(row) for row in list_channels(session)]


@router.post(CHANNELS, status_code=201)
def post_channel(ctx: Ctx, principal: Manager, spec: ChannelSpec) -> dict[str, Any]:
    with ctx.state.session() as session, session.begin():
        return channel_view(create_channel(session, spec, actor=principal.actor))


@router.get(CHANNELS + "/{channel_id}", dependencies=READERS)
def get_one_channel(ctx: Ctx, channel_id: str) -> dict[str, Any]:
    with ctx.state.session() as session:
        return channel_view(get_channel(session, channel_id))


@router.put(CHANNELS + "/{channel_id}")
def put_channel(ctx: Ctx, principal: Manager, channel_id: str, spec: ChannelSpec) -> dict[str, Any]:
    """Replace the channel; secrets sent back masked, as shown, keep their stored values."""
    with ctx.state.session() as session, session.begin():
        return channel_view(update_channel(session, channel_id, spec, actor=principal.actor))


@router.delete(CHANNELS + "/{channel_id}", status_code=204)
def remove_channel(ctx: Ctx, principal: Manager, channel_id: str) -> None:
    with ctx.state.session() as session, session.begin():
        delete_channel(session, channel_id, actor=principal.actor)


@router.post(CHANNELS + "/{channel_id}/test", dependencies=[require(Role.FINOPS)])
def test_channel(ctx: Ctx, channel_id: str) -> dict[str, Any]:
    """Send a test message now and answer with the delivery (attempts, error)."""
    with ctx.state.session() as session:
        row = get_channel(session, channel_id)
    message = Notification(
        kind=NotificationKind.TEST,
        subject=f"Test message for channel {row.name!r}",
        summary="If you can read this, Comptroller can reach this channel.",
    )
    return delivery_json(notify(ctx.state, message, channel_ids=[row.id])[0])


@router.get("/api/v1/notification-deliveries", dependencies=READERS)
def get_deliveries(
    ctx: Ctx, channel_id: str | None = None, limit: Annotated[int, Query(ge=1, le=1000)] = 50
) -> list[dict[str, Any]]:
    return [
        {
            "id": d.id,
            "channel_id": d.channel_id,
            "kind": d.kind,
            "subject": d.subject,
            "status": d.status,
            "attempts": d.attempts,
            "error": d.error,
            "dedupe_key": d.dedupe_key,
            "created_at": d.created_at.isoformat() + "Z",
        }
        for d in list_deliveries(ctx.state, channel_id=channel_id, limit=limit)
    ]


@router.post("/api/v1/alerts/evaluate", dependencies=[require(Role.FINOPS)])
def post_evaluate(ctx: Ctx, send: bool = True) -> dict[str, Any]:
    """The periodic job: fire due budget alerts, open approval requests for gateway requests
    blocked on approval budgets, expire stale requests; with ``send``, notify what is new."""
    return run_checks(ctx.state, ctx.ledger, ctx.pricer(), send=send).as_json()


@router.get("/api/v1/alerts", dependencies=READERS)
def get_alerts(ctx: Ctx, limit: Annotated[int, Query(ge=1, le=1000)] = 100) -> list[dict[str, Any]]:
    """Fired alerts, newest first."""
    with ctx.state.session() as session:
        rows = session.scalars(select(BudgetAlertRow).order_by(BudgetAlertRow.fired_at.desc()).limit(limit))
        return [
            {
                "budget_id": r.budget_id,
                "kind": r.kind,
                "threshold": str(r.threshold),
                "spend": str(r.spend),
                "amount": str(r.amount),
                "projected": None if r.projected is None else str(r.projected),
                "period_start": r.period_start.isoformat() + "Z",
                "fired_at": r.fired_at.isoformat() + "Z",
            }
            for r in rows
        ]


@router.get("/api/v1/alerts/digest", dependencies=READERS)
def get_digest(ctx: Ctx) -> dict[str, Any]:
    """Today's digest as it would be sent, without sending it."""
    return build_digest(ctx.state, ctx.ledger, datetime.now(UTC)).as_json()


@router.post("/api/v1/alerts/digest", dependencies=[require(Role.FINOPS)])
def post_digest(ctx: Ctx) -> list[dict[str, Any]]:
    """Send today's digest to every digest channel that has not had it yet."""
    return [delivery_json(r) for r in send_digest(ctx.state, ctx.ledger)]
