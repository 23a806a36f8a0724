"""``comptroller pull``: usage straight from a provider's organisation usage API."""

from __future__ import annotations

import uuid
from typing import Annotated

import typer

from comptroller.cli.output import console, fail, money
from comptroller.cli.params import parse_day
from comptroller.context import Context
from comptroller.errors import ComptrollerError
from comptroller.ingest.provider_pull import PROVIDERS, get_provider, pull_usage
from comptroller.state.repository import record_rejection


def pull(
    provider: Annotated[str, typer.Argument(help=f"Whose usage API: {' or '.join(PROVIDERS)}.")],
    since: Annotated[
        str | None,
        typer.Option(help="First day to pull, YYYY-MM-DD (UTC); default: the last bucket pulled before."),
    ] = None,
) -> None:
    """Pull hourly usage from the OpenAI or Anthropic admin usage API; atomic and incremental.

    Needs OPENAI_ADMIN_KEY or ANTHROPIC_ADMIN_KEY. The newest bucket of the previous pull is asked
    for again, since it may have been incomplete; restated buckets replace what they said before.
    """
    start = parse_day(since, "--since")
    try:
        source = get_provider(provider)
        source.admin_key()
    except ComptrollerError as exc:
        raise fail(exc) from exc
    with Context() as ctx:
        try:
            result = pull_usage(ctx.ledger, ctx.state, ctx.pricer(), provider, since=start)
        except ComptrollerError as exc:
            record_rejection(ctx.state, uuid.uuid4().hex, source.source, [source.url()], exc.message)
            raise fail(exc) from exc
    cursor = f"{result.cursor:%Y-%m-%dT%H:%M:%SZ}" if result.cursor else "none"
    console.print(
        f"[green]pulled[/] {result.pages:,} page(s) of {provider} usage from "
        f"{result.start:%Y-%m-%dT%H:%M:%SZ}: {result.events:,} events "
        f"({result.unpriced_events:,} unpriced, flagged), cost {money(result.cost)}; "
        f"cursor {cursor}"
    )
