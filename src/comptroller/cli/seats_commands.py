"""``comptroller seats``: SaaS seat contracts and per-user activity exports."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from comptroller.cli.fx_commands import currency_conversion
from comptroller.cli.output import fail, print_json, table
from comptroller.cli.params import parse_day
from comptroller.context import Context
from comptroller.errors import ComptrollerError
from comptroller.ingest.seats import ingest_seats, seat_utilization
from comptroller.state.repository import record_delivery

seats_app = typer.Typer(
    help="SaaS seats with embedded AI: contracts, activity, utilization.", no_args_is_help=True
)

AsOf = Annotated[
    str | None, typer.Option("--as-of", help="Day the activity exports describe; default today.")
]


@seats_app.command("ingest")
def ingest(
    contracts: Annotated[
        Path, typer.Option(help="Licence contracts CSV (vendor, product, seats, price...).")
    ],
    activity: Annotated[list[Path] | None, typer.Option(help="Per-user activity export; repeatable.")] = None,
    as_of: AsOf = None,
) -> None:
    """Monthly seat charges as FOCUS lines, with seats assigned and active; all or nothing."""
    with Context() as ctx:
        try:
            result = ingest_seats(
                ctx.ledger,
                contracts,
                activity or [],
                as_of=parse_day(as_of, "--as-of") or date.today(),
                fx=currency_conversion(ctx),
            )
        except ComptrollerError as exc:
            raise fail(exc) from exc
        if result.delivery is not None:
            record_delivery(ctx.state, result.delivery)
    table(
        f"{result.rows} seat lines over {len(result.months)} month(s); {result.unmatched_users} activity rows matched no contract",
        ["vendor", "product", "seats bought", "assigned", "active 30d"],
        [[p.vendor, p.product, p.seats, p.assigned, p.active_30d] for p in result.products],
        right=3,
    )


@seats_app.command("utilization")
def utilization(
    activity: Annotated[Path, typer.Argument(help="Per-user activity export.")],
    as_of: AsOf = None,
    product: Annotated[str | None, typer.Option(help="Product name when the export does not say.")] = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Who holds a seat and has not used it in 30 days."""
    try:
        facts = seat_utilization(activity, parse_day(as_of, "--as-of") or date.today(), product=product)
    except ComptrollerError as exc:
        raise fail(exc) from exc
    rows = facts.to_pylist()
    if as_json:
        print_json(rows)
        return
    idle = [r for r in rows if not r["active_last_30d"]]
    table(
        f"{len(idle)} of {len(rows)} seats idle for 30 days or more",
        ["user", "email", "department", "product", "days since active"],
        [[r["user"], r["email"], r["department"], r["product"], r["days_since_last_active"]] for r in idle],
        right=1,
    )
