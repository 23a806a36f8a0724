"""``comptroller fx``: the exchange rates that convert costs billed in other currencies."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from comptroller.cli.output import console, fail, print_json, table
from comptroller.context import Context
from comptroller.errors import ComptrollerError
from comptroller.ingest.currency import CurrencyConversion
from comptroller.ingest.fx_rates import RateBook, list_rates, read_rates_csv, store_rates

fx_app = typer.Typer(help="Exchange rates for costs billed in other currencies.", no_args_is_help=True)


def currency_conversion(ctx: Context) -> CurrencyConversion:
    """The conversion every ingest applies: the reporting currency and the stored rates."""
    return CurrencyConversion(ctx.settings.reporting_currency, RateBook.from_state(ctx.state))


@fx_app.command("load")
def load(path: Annotated[Path, typer.Argument(help="CSV with columns date,currency,rate_to_usd.")]) -> None:
    """Load daily rates (1 unit of the currency in USD); a day's rate replaces an earlier load's."""
    with Context() as ctx:
        try:
            count = store_rates(ctx.state, read_rates_csv(path))
        except ComptrollerError as exc:
            raise fail(exc) from exc
    console.print(f"[green]loaded[/] {count:,} rate(s) from {path.name}")


@fx_app.command("list")
def list_command(
    currency: Annotated[str | None, typer.Option(help="Only this currency, e.g. EUR.")] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Stored rates, by currency and day."""
    with Context() as ctx:
        rates = list_rates(ctx.state, currency)
    if as_json:
        print_json(
            [
                {
                    "date": r.day.isoformat(),
                    "from": r.from_currency,
                    "to": r.to_currency,
                    "rate": str(r.rate),
                    "source": r.source,
                }
                for r in rates
            ]
        )
        return
    table(
        "exchange rates",
        ["date", "from", "to", "source", "rate"],
        [
            [r.day.isoformat(), r.from_currency, r.to_currency, r.source, f"{r.rate.normalize():f}"]
            for r in rates
        ],
        right=1,
    )
