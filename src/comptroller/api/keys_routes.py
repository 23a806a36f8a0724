"""``/api/v1/keys``, ``/kill-switches``, ``/rate-limits``, ``/gateway-snapshot``: the gateway's
control records over REST. Every change is audited in its own transaction and republishes the
snapshot before the response, so a 2xx means the gateway has been told.

Handlers are plain functions (run in the threadpool): publishing blocks on state, the file
and Redis.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query

from comptroller.api.auth import Principal, require
from comptroller.api.deps import Ctx
from comptroller.governance.rbac import GLOBAL_READ_ROLES, READ_ROLES, Role
from comptroller.keys import kill_switches, rate_limits, virtual_keys
from comptroller.keys.snapshot_builder import PublishResult, apply_change, publish
from comptroller.keys.specs import (
    KeyInfo,
    KeySpec,
    KillSwitchInfo,
    KillSwitchSpec,
    RateLimitInfo,
    RateLimitSpec,
)

router = APIRouter(prefix="/api/v1", tags=["gateway control"])


Manager = Annotated[Principal, require(Role.FINOPS)]
READERS = [require(*GLOBAL_READ_ROLES)]


def published_json(published: PublishResult) -> dict[str, Any]:
    return {
        "version": published.version,
        "redis_published": published.redis_published,
        "redis_error": published.redis_error,
    }


def key_json(key: KeyInfo) -> dict[str, Any]:
    return {**key.model_dump(mode="json"), "status": key.status}


def switch_json(switch: KillSwitchInfo) -> dict[str, Any]:
    return {**switch.model_dump(mode="json"), "engaged": switch.engaged}


@router.post("/keys", status_code=201)
def create_key(ctx: Ctx, principal: Manager, spec: KeySpec) -> dict[str, Any]:
    """The response is the only place the secret ever appears."""
    applied = apply_change(ctx, lambda s: virtual_keys.create_key(s, spec, actor=principal.actor))
    return {
        "key": key_json(applied.result.key),
        "secret": applied.result.secret,
        "snapshot": published_json(applied.published),
    }


@router.get("/keys")
def list_keys(
    ctx: Ctx, principal: Annotated[Principal, require(*READ_ROLES)], active: bool = False
) -> list[dict[str, Any]]:
    """A team owner sees the keys whose attribution names one of their teams."""
    with ctx.state.session() as session:
        keys = virtual_keys.list_keys(session, include_revoked=not active)
    if not principal.sees_all_teams:
        keys = [k for k in keys if principal.can_access_team(k.attribution.get("team"))]
    return [key_json(k) for k in keys]


@router.delete("/keys/{key_id}")
def revoke_key(ctx: Ctx, principal: Manager, key_id: str) -> dict[str, Any]:
    applied = apply_change(ctx, lambda s: virtual_keys.revoke_key(s, key_id, actor=principal.actor))
    return {**key_json(applied.result), "snapshot": published_json(applied.published)}


@router.get("/kill-switches", dependencies=READERS)
def list_kill_switches(
    ctx: Ctx, include_released: Annotated[bool, Query(alias="all")] = False
) -> list[dict[str, Any]]:
    with ctx.state.session() as session:
        switches = kill_switches.list_kill_switches(session, engaged_only=not include_released)
        return [switch_json(s) for s in switches]


@router.post("/kill-switches", status_code=201)
def engage_kill_switch(ctx: Ctx, principal: Manager, spec: KillSwitchSpec) -> dict[str, Any]:
    applied = apply_change(ctx, lambda s: kill_switches.engage(s, spec, actor=principal.actor))
    return {**switch_json(applied.result), "snapshot": published_json(applied.published)}


@router.post("/kill-switches/{switch_id}/release")
def release_kill_switch(ctx: Ctx, principal: Manager, switch_id: str) -> dict[str, Any]:
    applied = apply_change(ctx, lambda s: kill_switches.release(s, switch_id, actor=principal.actor))
    return {**switch_json(applied.result), "snapshot": published_json(applied.published)}


@router.get("/rate-limits", dependencies=READERS)
def list_rate_limits(ctx: Ctx) -> list[RateLimitInfo]:
    with ctx.state.session() as session:
        return rate_limits.list_rate_limits(session)


@router.post("/rate-limits", status_code=201)
def create_rate_limit(ctx: Ctx, principal: Manager, spec: RateLimitSpec) -> dict[str, Any]:
    applied = apply_change(ctx, lambda s: rate_limits.create_rate_limit(s, spec, actor=principal.actor))
    return {**applied.result.model_dump(mode="json"), "snapshot": published_json(applied.published)}


@router.put("/rate-limits/{limit_id}")
def update_rate_limit(ctx: Ctx, principal: Manager, limit_id: str, spec: RateLimitSpec) -> dict[str, Any]:
    applied = apply_change(
        ctx, lambda s: rate_limits.update_rate_limit(s, limit_id, spec, actor=principal.actor)
    )
    return {**applied.result.model_dump(mode="json"), "snapshot": published_json(applied.published)}


@router.delete("/rate-limits/{limit_id}", status_code=204)
def delete_rate_limit(ctx: Ctx, principal: Manager, limit_id: str) -> None:
    apply_change(ctx, lambda s: rate_limits.delete_rate_limit(s, limit_id, actor=principal.actor))


@router.post("/gateway-snapshot/publish", dependencies=[require(Role.FINOPS)])
def publish_snapshot(ctx: Ctx) -> dict[str, Any]:
    """Republish with budget spend measured now (e.g. from a scheduler every few minutes)."""
    return published_json(publish(ctx, refresh_spend=True))
