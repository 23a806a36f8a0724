"""``comptroller kill``: stop a key, agent, workflow or team at the gateway, and let it go again."""

from __future__ import annotations

from typing import Annotated

import typer
from pydantic import ValidationError

from comptroller.cli.changes import JsonOpt, invalid, publish_change
from comptroller.cli.output import console, print_json, table
from comptroller.context import Context
from comptroller.keys import kill_switches
from comptroller.keys.specs import KillScope, KillSwitchInfo, KillSwitchSpec

kill_app = typer.Typer(help="Kill switches: every request matching one is refused by every gateway replica.")


def switch_json(switch: KillSwitchInfo) -> dict[str, object]:
    return {**switch.model_dump(mode="json"), "engaged": switch.engaged}


@kill_app.command("engage")
def engage(
    scope: Annotated[str, typer.Option(help=" | ".join(s.value for s in KillScope))],
    value: Annotated[str, typer.Option(help="The key id, agent, workflow or team to stop.")],
    reason: Annotated[str, typer.Option(help="Why; kept with the switch and in the audit log.")],
    as_json: JsonOpt = False,
) -> None:
    """Engage a kill switch; the snapshot carrying it is published before the command returns."""
    try:
        spec = KillSwitchSpec(scope=scope, scope_value=value, reason=reason)  # type: ignore[arg-type]
    except ValidationError as exc:
        raise invalid(exc) from exc
    applied = publish_change(lambda s, actor: kill_switches.engage(s, spec, actor=actor))
    switch = applied.result
    if as_json:
        print_json({**switch_json(switch), "snapshot_version": applied.published.version})
    else:
        console.print(
            f"[bold red]engaged[/] kill switch {switch.id}: {switch.scope.value}={switch.scope_value} "
            f"(snapshot v{applied.published.version})"
        )


@kill_app.command("release")
def release(switch_id: str, as_json: JsonOpt = False) -> None:
    """Release a kill switch; requests matching it flow again once the snapshot arrives."""
    applied = publish_change(lambda s, actor: kill_switches.release(s, switch_id, actor=actor))
    switch = applied.result
    if as_json:
        print_json({**switch_json(switch), "snapshot_version": applied.published.version})
    else:
        console.print(
            f"released kill switch {switch.id}: {switch.scope.value}={switch.scope_value} "
            f"(snapshot v{applied.published.version})"
        )


@kill_app.command("list")
def list_switches(
    all_: Annotated[bool, typer.Option("--all", help="Include released switches.")] = False,
    as_json: JsonOpt = False,
) -> None:
    """Engaged kill switches (with --all, their history too)."""
    with Context() as ctx, ctx.state.session() as session:
        switches = kill_switches.list_kill_switches(session, engaged_only=not all_)
    if as_json:
        print_json([switch_json(s) for s in switches])
        return
    table(
        "kill switches",
        ["id", "scope", "value", "reason", "engaged", "by", "released"],
        [
            [
                s.id,
                s.scope.value,
                s.scope_value,
                s.reason,
                s.engaged_at.strftime("%Y-%m-%d %H:%M"),
                s.engaged_by,
                s.released_at.strftime("%Y-%m-%d %H:%M") if s.released_at else "",
            ]
            for s in switches
        ],
    )
