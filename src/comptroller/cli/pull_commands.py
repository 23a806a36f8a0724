"""``comptroller pull``: usage and bills straight from a provider's organisation admin API."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from comptroller.cli.fx_commands import currency_conversion
from comptroller.cli.output import console, fail, money
from comptroller.cli.params import parse_day
from comptroller.context import Context
from comptroller.errors import ComptrollerError
from comptroller.ingest.provider_pull import (
    PROVIDERS,
    CostPullResult,
    Endpoint,
    Fetched,
    Kind,
    PullResult,
    fetch,
    get_endpoint,
    get_provider,
    store_costs,
    store_usage,
)
from comptroller.state.repository import record_delivery, record_rejection


def _stamp(moment: object) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%SZ}" if moment else "none"


def _kinds(costs: bool, usage: bool, both: bool) -> tuple[Kind, ...]:
    """Usage alone unless asked: scheduled ``pull`` jobs written before costs could be pulled keep
    doing what they did, and the daily bill needs pulling far less often than hourly usage."""
    if costs + usage + both > 1:
        raise typer.BadParameter(
            "choose one of --costs, --usage and --all", param_hint="--costs/--usage/--all"
        )
    if both:
        return ("usage", "costs")
    return ("costs",) if costs else ("usage",)


def _report(result: PullResult | CostPullResult, provider: str) -> None:
    if isinstance(result, PullResult):
        console.print(
            f"[green]pulled[/] {result.pages:,} page(s) of {provider} usage from {_stamp(result.start)}: "
            f"{result.events:,} events ({result.unpriced_events:,} unpriced, flagged), "
            f"cost {money(result.cost)}; cursor {_stamp(result.cursor)}"
        )
        return
    console.print(
        f"[green]pulled[/] {result.pages:,} page(s) of {provider} costs from {_stamp(result.start)}: "
        f"{result.lines:,} bill lines over {result.days:,} day(s), billed {money(result.billed)}; "
        f"replaced {result.replaced_lines:,} earlier lines of those days; cursor {_stamp(result.cursor)}"
    )


def pull(
    provider: Annotated[str, typer.Argument(help=f"Whose admin API: {' or '.join(PROVIDERS)}.")],
    since: Annotated[
        str | None,
        typer.Option(help="First day to pull, YYYY-MM-DD (UTC); default: the last bucket pulled before."),
    ] = None,
    costs: Annotated[bool, typer.Option("--costs", help="Pull the daily bill (cost endpoint) only.")] = False,
    usage: Annotated[bool, typer.Option("--usage", help="Pull hourly usage only (the default).")] = False,
    both: Annotated[bool, typer.Option("--all", help="Pull usage, then the bill.")] = False,
) -> None:
    """Pull usage (default) or the bill from the OpenAI or Anthropic admin API; atomic and incremental.

    Needs OPENAI_ADMIN_KEY or ANTHROPIC_ADMIN_KEY. Usage and costs keep separate cursors; the
    newest bucket of the previous pull is asked for again, since it may have been incomplete, and
    restated buckets replace what they said before. A cost pull restates only the days it brings,
    so pulling from mid-month keeps the month's earlier days. With --all every page of both
    endpoints is fetched and converted before either is written.
    """
    start = parse_day(since, "--since")
    kinds = _kinds(costs, usage, both)
    try:
        endpoints = [get_endpoint(provider, kind) for kind in kinds]
        get_provider(provider).admin_key()
    except ComptrollerError as exc:
        raise fail(exc) from exc
    with Context() as ctx:
        fetched: list[Fetched] = []
        endpoint: Endpoint | None = None
        try:
            for endpoint in endpoints:
                fetched.append(fetch(ctx.state, endpoint, since=start))
            for item in fetched:
                endpoint = item.endpoint
                if endpoint.kind == "usage":
                    _report(store_usage(ctx.ledger, ctx.state, ctx.pricer(), item), provider)
                    continue
                result, delivery = store_costs(ctx.ledger, ctx.state, item, fx=currency_conversion(ctx))
                if delivery is not None:
                    record_delivery(ctx.state, delivery)
                _report(result, provider)
        except ComptrollerError as exc:
            if endpoint is not None:
                record_rejection(ctx.state, uuid.uuid4().hex, endpoint.source, [endpoint.url()], exc.message)
            raise fail(exc) from exc
