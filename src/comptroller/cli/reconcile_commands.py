"""``comptroller reconcile``: per-call telemetry against the provider's bill, gaps explained."""

from __future__ import annotations

from typing import Annotated

import typer

from comptroller.cli.output import console, fail, money, print_json, table
from comptroller.context import Context
from comptroller.errors import ComptrollerError
from comptroller.reconcile.report import parse_month
from comptroller.reconcile.report import reconcile as reconcile_report


def reconcile(
    provider: Annotated[str, typer.Option(help="openai | anthropic")],
    month: Annotated[str, typer.Option(help="Calendar month, YYYY-MM.")],
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Compare what telemetry priced with what the provider billed, per model and project."""
    with Context() as ctx:
        try:
            report = reconcile_report(ctx.ledger, provider, parse_month(month))
        except ComptrollerError as exc:
            raise fail(exc) from exc
    if as_json:
        print_json(report.as_json())
        return
    currency = report.currency
    table(
        f"{provider} {month}: telemetry {money(report.telemetry_total, currency)}, "
        f"billed {money(report.billed_total, currency)} over {report.billed_days} billed day(s)",
        ["model", "project", "explanation", "telemetry", "billed", "gap"],
        [
            [
                line.model,
                line.project,
                line.explanation,
                money(line.telemetry_cost, currency),
                money(line.billed_cost, currency),
                money(line.gap, currency),
            ]
            for line in report.lines
        ],
        right=3,
    )
    for explanation, gap in report.gap_by_explanation().items():
        console.print(f"  {explanation}: {money(gap, currency)}")
    if report.telemetry_outside_bill:
        console.print(
            f"  telemetry on days not billed yet: {money(report.telemetry_outside_bill, currency)} (not compared)"
        )
