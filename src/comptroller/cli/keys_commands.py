"""``comptroller keys|limits``: gateway keys and rate limits, each change published to the gateway."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from comptroller.cli.changes import JsonOpt, invalid, publish_change, report_publish
from comptroller.cli.output import console, fail, print_json, table
from comptroller.cli.params import parse_pairs
from comptroller.context import Context
from comptroller.errors import ComptrollerError
from comptroller.keys import rate_limits, virtual_keys
from comptroller.keys.snapshot_builder import publish
from comptroller.keys.specs import KeyInfo, KeySpec, RateLimitInfo, RateLimitScope, RateLimitSpec

keys_app = typer.Typer(help="Virtual keys for the gateway: the secret is shown once, only its hash is kept.")
limits_app = typer.Typer(help="Rate limits (requests/tokens per minute, concurrency) per key, team or model.")


def parse_expiry(value: str | None) -> datetime | None:
    if value is None:
        return None
    try:
        if len(value) == 10:
            day = date.fromisoformat(value)
            return datetime(day.year, day.month, day.day, tzinfo=UTC)
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(
            f"{value!r} is not YYYY-MM-DD or an ISO date-time", param_hint="--expires"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def key_json(key: KeyInfo) -> dict[str, Any]:
    return {**key.model_dump(mode="json"), "status": key.status}


@keys_app.command("create")
def create(
    name: Annotated[str, typer.Option(help="What the key is for, e.g. 'support bot prod'.")],
    team: Annotated[str | None, typer.Option()] = None,
    product: Annotated[str | None, typer.Option()] = None,
    workflow: Annotated[str | None, typer.Option()] = None,
    agent: Annotated[str | None, typer.Option()] = None,
    feature: Annotated[str | None, typer.Option()] = None,
    environment: Annotated[str | None, typer.Option()] = None,
    owner: Annotated[str | None, typer.Option()] = None,
    customer: Annotated[str | None, typer.Option()] = None,
    attr: Annotated[
        list[str] | None, typer.Option(help="Any other attribution, DIM=VALUE (function, customer_segment).")
    ] = None,
    model: Annotated[
        list[str] | None, typer.Option(help="A model the key may call; repeatable. Default: all.")
    ] = None,
    expires: Annotated[
        str | None, typer.Option(help="YYYY-MM-DD (midnight UTC) or an ISO date-time.")
    ] = None,
    cache: Annotated[bool, typer.Option(help="Opt in to the gateway's response cache.")] = False,
    store_prompts: Annotated[bool, typer.Option(help="Keep prompts in spend events.")] = False,
    data_class: Annotated[
        list[str] | None,
        typer.Option(help="Data class the key's traffic carries, e.g. personal; repeatable."),
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a key and print its secret, once: it is never stored and cannot be shown again."""
    given = {
        "team": team,
        "product": product,
        "workflow": workflow,
        "agent": agent,
        "feature": feature,
        "environment": environment,
        "owner": owner,
        "customer": customer,
    }
    attribution = {k: v for k, v in given.items() if v is not None} | parse_pairs(attr, "--attr", "DIM=VALUE")
    try:
        spec = KeySpec(
            name=name,
            attribution=attribution,
            models=tuple(model or ()),
            expires_at=parse_expiry(expires),
            cache_opt_in=cache,
            store_prompts=store_prompts,
            data_classes=tuple(data_class or ()),
        )
    except ValidationError as exc:
        raise invalid(exc) from exc
    applied = publish_change(lambda s, actor: virtual_keys.create_key(s, spec, actor=actor))
    created = applied.result
    if as_json:
        print_json({"key": key_json(created.key), "secret": created.secret})
    else:
        console.print(f"created key [bold]{created.key.id}[/] ({created.key.name})")
        console.print("secret, shown this once; store it now:")
        typer.echo(created.secret)


@keys_app.command("list")
def list_keys(
    active: Annotated[bool, typer.Option("--active", help="Hide revoked keys.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Keys with their recognisable prefix, attribution and status; never the secret."""
    with Context() as ctx, ctx.state.session() as session:
        keys = virtual_keys.list_keys(session, include_revoked=not active)
    if as_json:
        print_json([key_json(k) for k in keys])
        return
    table(
        "virtual keys",
        ["id", "name", "key", "attribution", "models", "expires", "status"],
        [
            [
                k.id,
                k.name,
                f"sk-cmp-{k.prefix}…",
                ", ".join(f"{d}={v}" for d, v in k.attribution.items()),
                ", ".join(k.models) or "all",
                k.expires_at.strftime("%Y-%m-%d") if k.expires_at else "never",
                k.status,
            ]
            for k in keys
        ],
    )


@keys_app.command("revoke")
def revoke(key_id: str, as_json: JsonOpt = False) -> None:
    """Revoke a key; the gateway refuses it as soon as the new snapshot reaches it."""
    applied = publish_change(lambda s, actor: virtual_keys.revoke_key(s, key_id, actor=actor))
    if as_json:
        print_json(key_json(applied.result))
    else:
        console.print(f"revoked key {key_id} ({applied.result.name})")


@keys_app.command("publish")
def publish_snapshot(as_json: JsonOpt = False) -> None:
    """Rebuild the gateway snapshot with freshly measured budget spend and publish it
    (the file under COMPTROLLER_HOME, and Redis when COMPTROLLER_REDIS_URL is set)."""
    with Context() as ctx:
        try:
            published = publish(ctx, refresh_spend=True)
        except ComptrollerError as exc:
            raise fail(exc) from exc
    if as_json:
        print_json(
            {
                "version": published.version,
                "path": str(published.path),
                "redis_published": published.redis_published,
                "redis_error": published.redis_error,
            }
        )
    else:
        where = f"{published.path}" + (" and Redis" if published.redis_published else "")
        console.print(f"published snapshot v{published.version} to {where}")
    report_publish(published)


def _limit_spec(
    scope: str, value: str, rpm: int | None, tpm: int | None, concurrent: int | None
) -> RateLimitSpec:
    try:
        return RateLimitSpec(
            scope=scope,  # type: ignore[arg-type]
            scope_value=value,
            requests_per_minute=rpm,
            tokens_per_minute=tpm,
            max_concurrent=concurrent,
        )
    except ValidationError as exc:
        raise invalid(exc) from exc


ScopeOpt = Annotated[str, typer.Option(help=f"{' | '.join(s.value for s in RateLimitScope)}")]
ValueOpt = Annotated[str, typer.Option("--value", help="The key id, team or model the limit counts.")]
RpmOpt = Annotated[int | None, typer.Option("--rpm", help="Requests per minute.")]
TpmOpt = Annotated[int | None, typer.Option("--tpm", help="Tokens (input + output) per minute.")]
ConcurrentOpt = Annotated[int | None, typer.Option("--max-concurrent", help="Requests in flight at once.")]


def limit_row(limit: RateLimitInfo) -> list[Any]:
    return [
        limit.id,
        limit.scope.value,
        limit.scope_value,
        limit.requests_per_minute,
        limit.tokens_per_minute,
        limit.max_concurrent,
    ]


LIMIT_COLUMNS = ["id", "scope", "value", "rpm", "tpm", "concurrent"]


@limits_app.command("create")
def create_limit(
    scope: ScopeOpt,
    value: ValueOpt,
    rpm: RpmOpt = None,
    tpm: TpmOpt = None,
    max_concurrent: ConcurrentOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Add a rate limit; at least one of --rpm, --tpm, --max-concurrent."""
    spec = _limit_spec(scope, value, rpm, tpm, max_concurrent)
    applied = publish_change(lambda s, actor: rate_limits.create_rate_limit(s, spec, actor=actor))
    if as_json:
        print_json(applied.result.model_dump(mode="json"))
    else:
        table("rate limit created", LIMIT_COLUMNS, [limit_row(applied.result)], right=3)


@limits_app.command("update")
def update_limit(
    limit_id: str,
    scope: ScopeOpt,
    value: ValueOpt,
    rpm: RpmOpt = None,
    tpm: TpmOpt = None,
    max_concurrent: ConcurrentOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Replace a rate limit's scope and numbers; a number left out is no longer limited."""
    spec = _limit_spec(scope, value, rpm, tpm, max_concurrent)
    applied = publish_change(lambda s, actor: rate_limits.update_rate_limit(s, limit_id, spec, actor=actor))
    if as_json:
        print_json(applied.result.model_dump(mode="json"))
    else:
        table("rate limit updated", LIMIT_COLUMNS, [limit_row(applied.result)], right=3)


@limits_app.command("delete")
def delete_limit(limit_id: str) -> None:
    """Remove a rate limit."""
    publish_change(lambda s, actor: rate_limits.delete_rate_limit(s, limit_id, actor=actor))
    console.print(f"deleted rate limit {limit_id}")


@limits_app.command("list")
def list_limits(as_json: JsonOpt = False) -> None:
    """Rate limits by scope."""
    with Context() as ctx, ctx.state.session() as session:
        limits = rate_limits.list_rate_limits(session)
    if as_json:
        print_json([limit.model_dump(mode="json") for limit in limits])
        return
    table("rate limits", LIMIT_COLUMNS, [limit_row(limit) for limit in limits], right=3)
