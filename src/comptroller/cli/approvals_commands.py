"""``comptroller approvals``: list, show, request, approve and deny approval requests."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Annotated

import typer

from comptroller.cli.changes import JsonOpt, cli_actor, report_publish
from comptroller.cli.output import console, fail, print_json, table
from comptroller.context import Context
from comptroller.errors import ComptrollerError, InvalidInputError
from comptroller.governance import approvals
from comptroller.keys.snapshot_builder import publish
from comptroller.notify.delivery import notify

approvals_app = typer.Typer(help="Approval requests: budget increases, gateway blocks and agent tool calls.")


def parse_amount(value: str | None, option: str) -> Decimal | None:
    if value is None:
        return None
    try:
        amount = Decimal(value)
    except InvalidOperation:
        raise fail(InvalidInputError(f"{option}: {value!r} is not an amount")) from None
    if amount <= 0:
        raise fail(InvalidInputError(f"{option}: {value} is not above 0"))
    return amount


@approvals_app.command("list")
def list_command(
    status: Annotated[str | None, typer.Option(help="pending | approved | denied | expired")] = None,
    kind: Annotated[str | None, typer.Option(help="gateway_budget | budget_increase | agent_tool")] = None,
    limit: int = 100,
    as_json: JsonOpt = False,
) -> None:
    """Requests, newest first; listing pending ones expires those past their TTL first."""
    with Context() as ctx, ctx.state.session() as session, session.begin():
        try:
            rows = approvals.list_approvals(session, status=status, kind=kind, limit=limit)
        except ValueError as exc:
            raise fail(InvalidInputError(str(exc))) from exc
        data = [approvals.approval_json(r) for r in rows]
    if as_json:
        print_json(data)
        return
    table(
        "approval requests",
        ["id", "kind", "status", "budget", "tool", "requested by", "reason", "expires"],
        [
            [
                d["id"],
                d["kind"],
                d["status"],
                d["budget_id"],
                d["tool"],
                d["requested_by"],
                d["reason"],
                d["expires_at"],
            ]
            for d in data
        ],
    )


@approvals_app.command("show")
def show(request_id: str) -> None:
    """One request with its detail and decision, as JSON."""
    with Context() as ctx, ctx.state.session() as session:
        try:
            print_json(approvals.approval_json(approvals.get_approval(session, request_id)))
        except ComptrollerError as exc:
            raise fail(exc) from exc


@approvals_app.command("request")
def request(
    budget: Annotated[str, typer.Option(help="Budget id.")],
    amount: Annotated[str, typer.Option(help="The new amount asked for.")],
    reason: Annotated[str, typer.Option(help="Why the budget should grow.")] = "",
) -> None:
    """Ask for a budget increase; channels subscribed to approvals are told."""
    new_amount = parse_amount(amount, "--amount")
    assert new_amount is not None
    with Context() as ctx:
        try:
            with ctx.state.session() as session, session.begin():
                row = approvals.request_budget_increase(
                    session, budget, new_amount, requester=cli_actor(), reason=reason
                )
        except ComptrollerError as exc:
            raise fail(exc) from exc
        notify(ctx.state, approvals.request_notification([row]))
    console.print(f"requested approval {row.id}: budget {budget} to {new_amount}")


@approvals_app.command("approve")
def approve(
    request_id: str,
    note: Annotated[str | None, typer.Option(help="Kept with the decision.")] = None,
    amount: Annotated[
        str | None,
        typer.Option(help="For a gateway request: raise its budget to this amount instead of a one-off."),
    ] = None,
) -> None:
    """Approve; a budget it changes is saved and the gateway snapshot republished."""
    new_amount = parse_amount(amount, "--amount")
    with Context() as ctx:
        try:
            with ctx.state.session() as session, session.begin():
                decision = approvals.approve(
                    session, request_id, actor=cli_actor(), note=note, new_amount=new_amount
                )
        except ComptrollerError as exc:
            raise fail(exc) from exc
        message = f"[green]approved[/] {request_id}"
        if decision.changes_gateway:
            published = publish(ctx, refresh_spend=False)
            if decision.budget is not None:
                message += f"; budget {decision.budget.id} is now {decision.budget.amount}"
            else:
                message += "; the gateway lets the next matching request through once"
            message += f" (snapshot v{published.version})"
            report_publish(published)
    console.print(message)


@approvals_app.command("deny")
def deny(
    request_id: str, note: Annotated[str | None, typer.Option(help="Kept with the decision.")] = None
) -> None:
    """Deny a pending request; the decision and its note are audited."""
    with Context() as ctx:
        try:
            with ctx.state.session() as session, session.begin():
                approvals.deny(session, request_id, actor=cli_actor(), note=note)
        except ComptrollerError as exc:
            raise fail(exc) from exc
    console.print(f"[red]denied[/] {request_id}")
