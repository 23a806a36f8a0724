"""``comptroller``: ingest, query, export, configure attribution, run the demo and the server."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path
from typing import Annotated

import typer

from comptroller.cli import attribution_commands, gateway_commands, governance_commands, use_case_commands
from comptroller.cli.agents_commands import agents_app
from comptroller.cli.alerts_commands import alerts_app
from comptroller.cli.approvals_commands import approvals_app
from comptroller.cli.budgets_commands import budgets_app
from comptroller.cli.fx_commands import currency_conversion, fx_app
from comptroller.cli.inventory_commands import inventory_app
from comptroller.cli.keys_commands import keys_app, limits_app
from comptroller.cli.kill_commands import kill_app
from comptroller.cli.output import console, errors, fail, money, print_json, table
from comptroller.cli.params import parse_day, parse_pairs
from comptroller.cli.pricing_commands import prices_app
from comptroller.cli.progress import watch_query
from comptroller.cli.pull_commands import pull
from comptroller.cli.reconcile_commands import reconcile
from comptroller.cli.seats_commands import seats_app
from comptroller.cli.spool_commands import spool_app
from comptroller.config import Settings
from comptroller.context import Context
from comptroller.errors import ComptrollerError
from comptroller.export.focus_export import export_focus
from comptroller.ingest.aws_cur import ingest_aws_cur
from comptroller.ingest.expenses import ingest_expenses
from comptroller.ingest.focus_ingest import ingest_focus
from comptroller.ingest.provider_costs import READERS as BILL_SOURCES
from comptroller.ingest.provider_costs import ingest_provider_costs
from comptroller.ingest.sources import SOURCES, group_by_source, read_usage_export
from comptroller.ingest.usage_events import ingest_usage_events
from comptroller.reports.coverage import tag_coverage, unowned_spend
from comptroller.reports.spend import SpendQuery, spend
from comptroller.state.repository import list_deliveries, record_delivery, record_rejection

app = typer.Typer(
    name="comptroller",
    help="Comptroller: every AI dollar in one FOCUS ledger, attributed, governed and acted on.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
export_app = typer.Typer(help="Export the ledger in standard formats.", no_args_is_help=True)
app.add_typer(export_app, name="export")
app.add_typer(attribution_commands.rules_app, name="rules")
app.add_typer(attribution_commands.owners_app, name="owners")
app.add_typer(attribution_commands.allocations_app, name="allocations")
app.add_typer(prices_app, name="prices")
app.add_typer(seats_app, name="seats")
app.add_typer(spool_app, name="spool")
app.add_typer(keys_app, name="keys")
app.add_typer(limits_app, name="limits")
app.add_typer(kill_app, name="kill")
app.add_typer(budgets_app, name="budgets")
app.add_typer(governance_commands.users_app, name="users")
app.add_typer(governance_commands.tokens_app, name="tokens")
app.add_typer(governance_commands.audit_app, name="audit")
app.add_typer(use_case_commands.use_cases_app, name="use-cases")
app.add_typer(fx_app, name="fx")
app.add_typer(alerts_app, name="alerts")
app.add_typer(approvals_app, name="approvals")
app.add_typer(agents_app, name="agents")
app.add_typer(inventory_app, name="inventory")
app.command("pull")(pull)
app.command("gateway")(gateway_commands.gateway)
app.command("reconcile")(reconcile)

DateOpt = Annotated[str | None, typer.Option(help="YYYY-MM-DD")]


@app.command()
def ingest(
    paths: Annotated[list[Path], typer.Argument(help="Files to ingest; format and source auto-detected.")],
    source: Annotated[str | None, typer.Option(help=f"Force the source: {', '.join(SOURCES)}.")] = None,
    csv_reader: Annotated[
        str, typer.Option(help="duckdb (lean memory) or arrow (faster, about twice the memory) for CSV.")
    ] = "duckdb",
) -> None:
    """Ingest cost and usage files atomically: all of a source's files or none."""
    if csv_reader not in ("duckdb", "arrow"):
        raise typer.BadParameter("choose duckdb or arrow", param_hint="--csv-reader")
    with Context() as ctx:
        try:
            groups = group_by_source(paths, source)
        except ComptrollerError as exc:
            raise fail(exc) from exc
        for kind, files in groups.items():
            try:
                if kind in ("focus", "aws_cur", "expenses", *BILL_SOURCES):
                    if kind == "aws_cur":
                        result = ingest_aws_cur(ctx.ledger, files, fx=currency_conversion(ctx))
                    elif kind in BILL_SOURCES:
                        bill = ingest_provider_costs(ctx.ledger, files, kind, fx=currency_conversion(ctx))
                        if bill is None:
                            continue
                        result = bill
                    elif kind == "expenses":
                        expenses = ingest_expenses(ctx.ledger, files, fx=currency_conversion(ctx))
                        console.print(
                            f"{expenses.ai_rows:,} AI expense line(s) ({', '.join(expenses.vendors) or 'none'}); "
                            f"{expenses.ignored_rows:,} other row(s) ignored"
                        )
                        if expenses.delivery is None:
                            continue
                        result = expenses.delivery
                    else:
                        fx = currency_conversion(ctx)
                        result = ingest_focus(
                            ctx.ledger, files, watch=watch_query, csv_reader=csv_reader, fx=fx
                        )  # type: ignore[arg-type]
                    record_delivery(ctx.state, result)
                    console.print(
                        f"[green]ingested[/] {result.rows:,} cost lines from {len(files)} {kind} file(s) "
                        f"in {result.seconds:.1f}s; replaced {result.replaced_rows:,} earlier lines "
                        f"(delivery {result.delivery_id[:12]})"
                    )
                else:
                    pricer = ctx.pricer()
                    for path in files:
                        usage = ingest_usage_events(
                            ctx.ledger,
                            read_usage_export(path, kind),
                            pricer,
                            origin=str(path),
                            replace=SOURCES[kind].restates,
                        )
                        console.print(
                            f"[green]stored[/] {usage.new_events:,} of {usage.received:,} usage events "
                            f"from {path.name} ({usage.unpriced_events:,} unpriced, flagged)"
                        )
            except ComptrollerError as exc:
                record_rejection(ctx.state, uuid.uuid4().hex, kind, [str(p) for p in files], exc.message)
                raise fail(exc) from exc


@app.command("spend")
def spend_command(
    by: Annotated[
        str, typer.Option(help="Dimensions, comma-separated: team, model, ServiceName, tag:env ...")
    ] = "",
    from_: Annotated[str | None, typer.Option("--from", help="First day, YYYY-MM-DD.")] = None,
    to: Annotated[str | None, typer.Option(help="Last day (inclusive), YYYY-MM-DD.")] = None,
    cost: Annotated[str, typer.Option(help="effective | billed | list | contracted")] = "effective",
    filter_: Annotated[list[str] | None, typer.Option("--filter", help="DIM=VALUE; repeatable.")] = None,
    no_allocation: Annotated[
        bool, typer.Option("--no-allocation", help="Show shared costs unsplit.")
    ] = False,
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
) -> None:
    """Spend grouped by any dimensions, with attribution rules and allocations applied."""
    query = SpendQuery(
        by=tuple(d.strip() for d in by.split(",") if d.strip()),
        start=parse_day(from_, "--from"),
        end=parse_day(to, "--to"),
        cost=cost,
        filters=parse_pairs(filter_, "--filter", "DIM=VALUE"),
        allocate=not no_allocation,
    )
    with Context() as ctx:
        try:
            report = spend(ctx.ledger, ctx.attribution(), query)
        except ComptrollerError as exc:
            raise fail(exc) from exc
    if as_json:
        print_json(report.as_json())
        return
    rows = [[*(r[d] for d in report.by), money(r["cost"], report.currency)] for r in report.rows]
    table(
        f"{cost} cost, total {money(report.total, report.currency)}",
        [*report.by, "cost"],
        rows,
        right=1,
    )


@export_app.command("focus")
def export_focus_command(
    out: Annotated[Path, typer.Option(help="File to write.")],
    format_: Annotated[str, typer.Option("--format", help="csv | parquet")] = "csv",
) -> None:
    """Write the whole ledger as a FOCUS 1.2 dataset (plus 1.3 allocation columns when used)."""
    with Context() as ctx:
        try:
            result = export_focus(ctx.ledger, ctx.attribution(), out, format_)
        except ComptrollerError as exc:
            raise fail(exc) from exc
    console.print(f"[green]wrote[/] {result.rows:,} rows, {len(result.columns)} columns to {result.path}")


@app.command()
def coverage(
    from_: Annotated[str | None, typer.Option("--from")] = None,
    to: DateOpt = None,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Tag coverage: the share of spend each business dimension resolves for."""
    with Context() as ctx:
        rows = tag_coverage(
            ctx.ledger, ctx.attribution(), start=parse_day(from_, "--from"), end=parse_day(to, "--to")
        )
    if as_json:
        print_json(
            [
                {
                    "dimension": r.dimension,
                    "cost_share": r.cost_share,
                    "covered_cost": float(r.covered_cost),
                    "total_cost": float(r.total_cost),
                    "covered_lines": r.covered_lines,
                }
                for r in rows
            ]
        )
        return
    table(
        "tag coverage",
        ["dimension", "covered spend", "of total", "share"],
        [[r.dimension, money(r.covered_cost), money(r.total_cost), f"{r.cost_share:.1%}"] for r in rows],
        right=3,
    )


@app.command()
def unowned(
    limit: Annotated[int, typer.Option(help="Rows to show.")] = 20,
    as_json: Annotated[bool, typer.Option("--json")] = False,
) -> None:
    """Spend with no accountable owner, largest first."""
    with Context() as ctx:
        rows = unowned_spend(ctx.ledger, ctx.attribution(), limit=limit)
    if as_json:
        print_json([{**r.group, "cost": float(r.cost), "lines": r.lines} for r in rows])
        return
    keys = list(rows[0].group) if rows else ["team"]
    table(
        "unowned spend",
        [*keys, "lines", "cost"],
        [[*r.group.values(), r.lines, money(r.cost)] for r in rows],
        right=2,
    )


@app.command()
def deliveries(limit: Annotated[int, typer.Option()] = 20) -> None:
    """Recent ingests: what came in, what it wrote and replaced, or why it was rejected."""
    with Context() as ctx:
        rows = list_deliveries(ctx.state, limit)
    table(
        "deliveries",
        ["when", "id", "source", "status", "files", "rows", "replaced"],
        [
            [
                d.started_at.strftime("%Y-%m-%d %H:%M:%S"),
                d.id[:12],
                d.source,
                d.status,
                len(d.files),
                d.rows,
                d.replaced_rows,
            ]
            for d in rows
        ],
        right=3,
    )


@app.command()
def demo(
    end: DateOpt = None,
    months: Annotated[int, typer.Option(help="Calendar months of history.")] = 3,
    seed: Annotated[int, typer.Option()] = 7,
    scale: Annotated[float, typer.Option(help="1.0 is about 150,000 model calls.")] = 1.0,
    if_empty: Annotated[bool, typer.Option("--if-empty", help="Do nothing if the ledger has data.")] = False,
) -> None:
    """Generate and load a realistic enterprise's AI spend, with planted waste to find."""
    from comptroller.demo.loader import load_demo

    with Context() as ctx:
        governance_commands.demo_sign_in(ctx)
        if if_empty and ctx.ledger.execute('SELECT count(*) FROM "cost_lines"')[0][0]:
            console.print("ledger already has data; demo not loaded again")
            return
        summary = load_demo(
            ctx, end=parse_day(end, "--end") or date.today(), months=months, seed=seed, scale=scale
        )
    console.print(summary)


@app.command()
def serve(
    host: Annotated[str, typer.Option()] = "127.0.0.1",
    port: Annotated[int, typer.Option()] = 8080,
) -> None:
    """Run the API and console."""
    import threading

    import uvicorn

    from comptroller.api.app import create_app
    from comptroller.api.console_routes import warm_reports

    console.print(f"Comptroller on http://{host}:{port}  (API under /api/v1, docs at /docs)")
    settings = Settings.from_env()
    threading.Thread(target=_warm, args=(warm_reports, settings), name="report-warm-up", daemon=True).start()
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning")


def _warm(warm: Callable[[Settings], None], settings: Settings) -> None:
    try:
        warm(settings)
    except Exception as exc:  # a cold cache is the only consequence; say so and carry on
        errors.print(f"report warm-up skipped: {exc}")


if __name__ == "__main__":
    app()
