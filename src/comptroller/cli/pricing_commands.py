"""``comptroller prices``: contract overrides and re-pricing of stored usage."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer
from pydantic import ValidationError

from comptroller.cli.audit_trail import record_change
from comptroller.cli.output import console, fail, table
from comptroller.cli.params import parse_day, parse_pairs
from comptroller.context import Context
from comptroller.errors import ComptrollerError, ConfigError
from comptroller.ingest.usage_events import reprice_usage_events
from comptroller.pricing import ContractOverride
from comptroller.state import repository

prices_app = typer.Typer(help="Contract price overrides and re-pricing.", no_args_is_help=True)


def _unit_prices(items: list[str] | None) -> dict[str, Decimal] | None:
    if not items:
        return None
    prices = {}
    for kind, value in parse_pairs(items, "--unit-price", "KIND=USD_PER_1M_TOKENS").items():
        try:
            prices[kind] = Decimal(value)
        except InvalidOperation:
            raise typer.BadParameter(
                f"{kind + '=' + value!r} is not KIND=USD_PER_1M_TOKENS", param_hint="--unit-price"
            ) from None
    return prices


@prices_app.command("override")
def add_override(
    override_id: Annotated[str, typer.Argument(help="A name for the agreement, e.g. openai-2026-ea.")],
    provider: Annotated[str, typer.Option(help="Provider id, e.g. openai, anthropic.")],
    model: Annotated[str, typer.Option(help="Model name or glob, e.g. 'gpt-4o*'.")],
    from_: Annotated[str, typer.Option("--from", help="First day the price applies, YYYY-MM-DD.")],
    to: Annotated[str | None, typer.Option(help="First day it no longer applies (exclusive).")] = None,
    discount: Annotated[Decimal | None, typer.Option(help="Percent off list, 0-100.")] = None,
    unit_price: Annotated[
        list[str] | None,
        typer.Option(
            help="KIND=USD per 1M tokens (uncached_input, cache_read, cache_write, output, reasoning)."
        ),
    ] = None,
    note: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Add or replace a negotiated price; run `prices reprice` to apply it to stored history."""
    try:
        override = ContractOverride(
            id=override_id,
            provider=provider,
            model=model,
            effective_from=parse_day(from_, "--from"),
            effective_to=parse_day(to, "--to"),
            discount_pct=discount,
            unit_prices=_unit_prices(unit_price),
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        raise fail(
            ConfigError(f"{'.'.join(str(p) for p in first['loc']) or 'override'}: {first['msg']}")
        ) from exc
    with Context() as ctx:
        repository.save_override(ctx.state, override, note)
        record_change(
            ctx, "price_override.save", f"price_override:{override.id}", override.model_dump(mode="json")
        )
    console.print(f"saved override {override.id} for {provider} {model} from {override.effective_from}")


@prices_app.command("overrides")
def list_overrides() -> None:
    """Contract overrides, oldest first."""
    with Context() as ctx:
        overrides = repository.load_overrides(ctx.state)
    table(
        "contract overrides",
        ["id", "provider", "model", "from", "to", "discount %", "unit prices (USD/1M)"],
        [
            [
                o.id,
                o.provider,
                o.model,
                o.effective_from,
                o.effective_to,
                o.discount_pct,
                ", ".join(f"{k}={v}" for k, v in (o.unit_prices or {}).items()),
            ]
            for o in overrides
        ],
    )


@prices_app.command("reprice")
def reprice(
    from_: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")] = None,
    to: Annotated[str | None, typer.Option(help="Last day (inclusive), YYYY-MM-DD.")] = None,
) -> None:
    """Price stored model calls again with today's catalog and overrides; rebuild their cost lines."""
    with Context() as ctx:
        try:
            result = reprice_usage_events(
                ctx.ledger, ctx.pricer(), start=parse_day(from_, "--from"), end=parse_day(to, "--to")
            )
        except ComptrollerError as exc:
            raise fail(exc) from exc
    console.print(
        f"re-priced {result.received:,} model calls over {len(result.days)} day(s) "
        f"({result.unpriced_events:,} still unpriced and flagged)"
    )
