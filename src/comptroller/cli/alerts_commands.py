"""``comptroller alerts``: the periodic check, the daily digest, and notification channels."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from comptroller.budgets.digest import build_digest, send_digest
from comptroller.budgets.scheduled import run_checks
from comptroller.cli.changes import JsonOpt, cli_actor
from comptroller.cli.output import console, fail, print_json, table
from comptroller.context import Context
from comptroller.errors import ComptrollerError, ConfigError
from comptroller.notify.delivery import DeliveryResult
from comptroller.notify.store import ChannelSpec, channel_view, create_channel, delete_channel, list_channels

alerts_app = typer.Typer(help="Budget alerts and digests, and the channels they are sent to.")
channels_app = typer.Typer(help="Notification channels: webhook, slack, email.")
alerts_app.add_typer(channels_app, name="channels")


def _print_deliveries(results: list[DeliveryResult]) -> None:
    for r in results:
        if r.skipped:
            console.print(f"  {r.channel_name}: already sent")
        elif r.delivered:
            console.print(f"  {r.channel_name}: [green]delivered[/] ({r.attempts} attempt(s))")
        else:
            console.print(f"  {r.channel_name}: [red]failed[/] after {r.attempts} attempt(s): {r.error}")


@alerts_app.command("check")
def check(
    no_send: Annotated[bool, typer.Option("--no-send", help="Record what is due without notifying.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Fire due budget alerts, open approval requests for blocked gateway calls, expire stale
    requests. Idempotent: run it from cron or a scheduler as often as you like."""
    with Context() as ctx:
        try:
            result = run_checks(ctx.state, ctx.ledger, ctx.pricer(), send=not no_send)
        except ComptrollerError as exc:
            raise fail(exc) from exc
    if as_json:
        print_json(result.as_json())
        return
    table(
        "budgets",
        ["budget", "spent", "amount", "used", "forecast"],
        [
            [
                b.budget.name,
                f"{b.spend:,.2f}",
                f"{b.budget.amount:,.2f}",
                f"{b.ratio:.0%}",
                "-" if b.forecast is None else f"{b.forecast.projected:,.2f}",
            ]
            for b in result.alerts.burns
        ],
        right=4,
    )
    console.print(f"{len(result.alerts.fired)} alert(s) fired")
    for alert in result.alerts.fired:
        console.print(f"  {alert.describe()}")
    _print_deliveries(result.alerts.deliveries)
    console.print(
        f"{len(result.approvals_opened)} approval request(s) opened, {len(result.approvals_expired)} expired"
    )


@alerts_app.command("digest")
def digest(
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Print the digest instead of sending it.")
    ] = False,
) -> None:
    """Send today's digest to every digest channel that has not had it today."""
    with Context() as ctx:
        if dry_run:
            message = build_digest(ctx.state, ctx.ledger)
            console.print(f"[bold]{message.subject}[/]\n{message.as_text()}", highlight=False)
            return
        results = send_digest(ctx.state, ctx.ledger)
    if not results:
        console.print("no channel receives digests; add one with `comptroller alerts channels add`")
    _print_deliveries(results)


@channels_app.command("add")
def add_channel(
    name: str,
    type_: Annotated[str, typer.Option("--type", help="webhook | slack | email")],
    config: Annotated[str, typer.Option(help="The channel's settings as JSON, or @file.json.")],
    kind: Annotated[
        list[str] | None, typer.Option(help="alert | digest | approval; repeatable (default: all).")
    ] = None,
) -> None:
    """Add a channel; its config is checked against the channel type's schema first."""
    raw = Path(config[1:]).read_text() if config.startswith("@") else config
    try:
        settings = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise fail(ConfigError(f"--config: not JSON ({exc.msg} at character {exc.pos})")) from exc
    try:
        spec = ChannelSpec(name=name, type=type_, config=settings, kinds=kind or [])  # type: ignore[arg-type]
    except ValueError as exc:
        raise fail(ConfigError(f"--kind: {exc}")) from exc
    with Context() as ctx:
        try:
            with ctx.state.session() as session, session.begin():
                row = create_channel(session, spec, actor=cli_actor())
        except ComptrollerError as exc:
            raise fail(exc) from exc
    console.print(f"added {row.type} channel {row.name} ({row.id})")


@channels_app.command("list")
def list_command(as_json: JsonOpt = False) -> None:
    """Channels with their secrets masked."""
    with Context() as ctx, ctx.state.session() as session:
        views = [channel_view(r) for r in list_channels(session)]
    if as_json:
        print_json(views)
        return
    table(
        "notification channels",
        ["id", "name", "type", "kinds", "enabled", "config"],
        [
            [v["id"], v["name"], v["type"], ", ".join(v["kinds"]) or "all", v["enabled"], v["config"]]
            for v in views
        ],
    )


@channels_app.command("remove")
def remove(channel: Annotated[str, typer.Argument(help="Id or name.")]) -> None:
    """Remove a channel; its delivery log stays."""
    with Context() as ctx:
        try:
            with ctx.state.session() as session, session.begin():
                delete_channel(session, channel, actor=cli_actor())
        except ComptrollerError as exc:
            raise fail(exc) from exc
    console.print(f"removed channel {channel}")
