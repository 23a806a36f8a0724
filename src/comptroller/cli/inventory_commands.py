"""``comptroller inventory``: every AI vendor, product, model and agent seen, and the shadow AI."""

from __future__ import annotations

from typing import Annotated

import typer

from comptroller.cli.output import money, print_json, table
from comptroller.cli.params import parse_day
from comptroller.context import Context
from comptroller.inventory.discover import discover
from comptroller.inventory.items import KINDS, InventoryItem, known_vs_found
from comptroller.inventory.registered import registered_uses

inventory_app = typer.Typer(
    help="Inventory and shadow-AI discovery across every source.", no_args_is_help=True
)

From = Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")]
To = Annotated[str | None, typer.Option("--to", help="Last day, YYYY-MM-DD.")]
AsJson = Annotated[bool, typer.Option("--json")]


def _items(from_: str | None, to: str | None) -> list[InventoryItem]:
    start, end = parse_day(from_, "--from"), parse_day(to, "--to")
    with Context() as ctx:
        with ctx.state.session() as session:
            uses = registered_uses(session)
        return discover(ctx.ledger, ctx.attribution(), uses, start=start, end=end)


@inventory_app.command("list")
def list_inventory(
    kind: Annotated[str | None, typer.Option(help=f"One of {', '.join(KINDS)}.")] = None,
    shadow: Annotated[bool, typer.Option("--shadow", help="Only what no use case accounts for.")] = False,
    from_: From = None,
    to: To = None,
    as_json: AsJson = False,
) -> None:
    """Shadow AI first, then by spend, with sources, users and when it was first seen."""
    items = [i for i in _items(from_, to) if (kind is None or i.kind == kind) and (not shadow or i.shadow)]
    if as_json:
        print_json([i.as_json() for i in items])
        return
    table(
        f"{len(items)} items; {sum(i.shadow for i in items)} unregistered",
        ["kind", "name", "status", "sources", "first seen", "users", "spend"],
        [
            [i.kind, i.name, i.status, ", ".join(sorted(i.sources)), i.first_seen, i.users, money(i.spend)]
            for i in items
        ],
        right=2,
    )


@inventory_app.command("summary")
def summary(from_: From = None, to: To = None, as_json: AsJson = False) -> None:
    """Known vs found: per kind, how many were seen and how many are registered."""
    rows = known_vs_found(_items(from_, to))
    if as_json:
        print_json([r.as_json() for r in rows])
        return
    table(
        "known vs found",
        ["kind", "found", "registered", "in review", "unregistered", "unregistered spend"],
        [
            [r.kind, r.found, r.registered, r.in_review, r.unregistered, money(r.unregistered_spend)]
            for r in rows
        ],
        right=5,
    )
