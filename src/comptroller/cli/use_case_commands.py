"""``comptroller use-cases``: the intake registry of AI use cases from the command line."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Annotated, Any

import typer
import yaml
from pydantic import ValidationError
from sqlalchemy.orm import Session

from comptroller.cli.changes import JsonOpt, cli_actor
from comptroller.cli.governance_commands import run
from comptroller.cli.output import console, errors, print_json, table
from comptroller.cli.params import parse_pairs
from comptroller.context import Context
from comptroller.governance import lifecycle, registry
from comptroller.governance.rbac import Principal, Role
from comptroller.governance.registry import UseCaseSpec, UseCaseStatus
from comptroller.governance.risk import RiskTier
from comptroller.governance.use_case_spend import use_case_spend
from comptroller.governance.users import principal_of

use_cases_app = typer.Typer(
    help="The intake registry of AI use cases and their reviews.", no_args_is_help=True
)


def operator() -> Principal:
    """The CLI runs beside the database with its credentials, so it acts as an admin."""
    return Principal(user_id=0, username=cli_actor(), roles=frozenset({Role.ADMIN.value}), teams=frozenset())


def _spec(fields: dict[str, Any]) -> UseCaseSpec:
    try:
        return UseCaseSpec.model_validate(fields)
    except ValidationError as exc:
        for problem in exc.errors():
            where = ".".join(str(p) for p in problem["loc"])
            errors.print(f"[bold red]error[/] {where}: {problem['msg']}", highlight=False)
        raise typer.Exit(code=2) from None


def _show(body: dict[str, Any]) -> None:
    reasons = ", ".join(r["rule"] for r in body["risk"]["reasons"]) or "no rule matched"
    review = body["review"]
    console.print(
        f"[bold]#{body['id']} {body['name']}[/] ({body['team']}, owner {body['owner']}): "
        f"[bold]{body['status']}[/], risk {body['risk']['tier']} ({reasons})"
    )
    approvals = sum(d["decision"] == "approve" for d in review["decisions"])
    if review["automatic"]:
        console.print("  review: approved automatically on submission")
    else:
        console.print(
            f"  review: {approvals} of {review['approvals_needed']} approval(s) from "
            f"{' or '.join(review['roles'])} (round {review['round']})"
        )
    if "spend" in body:
        spend = body["spend"]
        actual = spend["actual_month_to_date"]
        shown = "-" if actual is None else f"${actual:,.2f}"
        console.print(
            f"  spend {spend['month']}: actual {shown} to {spend['through']} vs expected "
            f"${spend['expected_monthly_cost']:,.2f} a month"
            + (f" ({spend['error'] or spend.get('note')})" if spend.get("error") or spend.get("note") else "")
        )


@use_cases_app.command("create")
def create(
    file: Annotated[Path | None, typer.Option(help="YAML or JSON with the intake fields.")] = None,
    name: Annotated[str | None, typer.Option()] = None,
    purpose: Annotated[str | None, typer.Option()] = None,
    owner: Annotated[str | None, typer.Option(help="Accountable person.")] = None,
    team: Annotated[str | None, typer.Option()] = None,
    vendor: Annotated[str | None, typer.Option()] = None,
    model: Annotated[str | None, typer.Option()] = None,
    users: Annotated[str | None, typer.Option(help="Who uses it.")] = None,
    data_class: Annotated[
        list[str] | None,
        typer.Option(help="public, internal, confidential, personal, regulated; repeatable."),
    ] = None,
    autonomy: Annotated[str | None, typer.Option(help="assistive, human_approved or autonomous.")] = None,
    customer_impact: Annotated[str | None, typer.Option(help="none, indirect or direct.")] = None,
    external_actions: Annotated[bool | None, typer.Option("--external-actions/--no-external-actions")] = None,
    expected_value: Annotated[str | None, typer.Option(help="Expected monthly value, USD.")] = None,
    expected_cost: Annotated[str | None, typer.Option(help="Expected monthly cost, USD.")] = None,
    success_metric: Annotated[str | None, typer.Option()] = None,
    dimension: Annotated[
        list[str] | None, typer.Option(help="Linked ledger dimension DIM=VALUE; repeatable.")
    ] = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a use case; options override the file's fields. Prints its computed risk tier."""
    fields: dict[str, Any] = {}
    if file is not None:
        fields = yaml.safe_load(file.read_text()) or {}
        if not isinstance(fields, dict):
            raise typer.BadParameter("the file must hold one mapping of intake fields", param_hint="--file")
    options = {
        "name": name,
        "purpose": purpose,
        "owner": owner,
        "team": team,
        "vendor": vendor,
        "model": model,
        "users": users,
        "data_classes": data_class,
        "autonomy": autonomy,
        "customer_impact": customer_impact,
        "external_actions": external_actions,
        "expected_monthly_value": expected_value,
        "expected_monthly_cost": expected_cost,
        "success_metric": success_metric,
    }
    fields.update({k: v for k, v in options.items() if v is not None})
    if dimension:
        links = dict(fields.get("links") or {})
        links["dimensions"] = {
            **links.get("dimensions", {}),
            **parse_pairs(dimension, "--dimension", "DIM=VALUE"),
        }
        fields["links"] = links
    spec = _spec(fields)
    body = run(lambda s: registry.use_case_json(registry.create_use_case(s, spec, operator()), []))
    print_json(body) if as_json else _show(body)


@use_cases_app.command("list")
def list_command(
    status: Annotated[
        str | None, typer.Option(help="proposed, in_review, approved, rejected, live, retired")
    ] = None,
    tier: Annotated[str | None, typer.Option(help="low, medium, high or critical")] = None,
    team: Annotated[str | None, typer.Option()] = None,
    as_json: JsonOpt = False,
) -> None:
    """Every registered use case with its tier and status."""
    try:
        wanted_status = UseCaseStatus(status) if status else None
        wanted_tier = RiskTier(tier) if tier else None
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from None

    def work(s: Session) -> list[dict[str, Any]]:
        rows = registry.list_use_cases(s, operator(), status=wanted_status, tier=wanted_tier, team=team)
        return [registry.use_case_json(r, registry.reviews_of(s, r)) for r in rows]

    rows = run(work)
    if as_json:
        print_json(rows)
        return
    table(
        "use cases",
        ["id", "name", "team", "owner", "status", "risk", "vendor/model", "expected cost"],
        [
            [
                r["id"],
                r["name"],
                r["team"],
                r["owner"],
                r["status"],
                r["risk"]["tier"],
                f"{r['vendor']}/{r['model']}",
                f"${r['expected_monthly_cost']:,.2f}",
            ]
            for r in rows
        ],
        right=1,
    )


@use_cases_app.command("show")
def show(use_case_id: int, as_json: JsonOpt = False) -> None:
    """One use case: intake, risk reasons, review progress and actual spend beside expected."""
    with Context() as ctx:
        principal = operator()

        def work(s: Session) -> dict[str, Any]:
            row = registry.get_use_case(s, use_case_id, principal)
            body = registry.use_case_json(row, registry.reviews_of(s, row))
            body["spend"] = use_case_spend(ctx.ledger, ctx.attribution(), row, principal, date.today())
            return body

        body = run(work)
    print_json(body) if as_json else _show(body)


@use_cases_app.command("submit")
def submit(use_case_id: int, as_json: JsonOpt = False) -> None:
    """Send for review (low risk is approved at once)."""
    body = run(lambda s: _body(s, lifecycle.submit(s, use_case_id, operator())))
    print_json(body) if as_json else _show(body)


def _review(use_case_id: int, reviewer: str, comment: str, *, approve: bool, as_json: bool) -> None:
    body = run(
        lambda s: _body(
            s, lifecycle.review(s, use_case_id, principal_of(s, reviewer), approve=approve, comment=comment)
        )
    )
    print_json(body) if as_json else _show(body)


@use_cases_app.command("approve")
def approve(
    use_case_id: int,
    reviewer: Annotated[str, typer.Option("--as", help="Username of the approver; their roles are checked.")],
    comment: Annotated[str, typer.Option()] = "",
    as_json: JsonOpt = False,
) -> None:
    """Record an approval by a named reviewer; a critical use case needs two distinct ones."""
    _review(use_case_id, reviewer, comment, approve=True, as_json=as_json)


@use_cases_app.command("reject")
def reject(
    use_case_id: int,
    reviewer: Annotated[str, typer.Option("--as", help="Username of the reviewer; their roles are checked.")],
    comment: Annotated[str, typer.Option()] = "",
    as_json: JsonOpt = False,
) -> None:
    """Reject in review; the owner may edit and submit again."""
    _review(use_case_id, reviewer, comment, approve=False, as_json=as_json)


@use_cases_app.command("transition")
def transition(
    use_case_id: int,
    to: Annotated[str, typer.Argument(help="proposed (withdraw from review), live or retired")],
    as_json: JsonOpt = False,
) -> None:
    """Withdraw from review, go live or retire."""
    try:
        target = UseCaseStatus(to)
    except ValueError:
        raise typer.BadParameter(f"{to!r}: choose proposed, live or retired", param_hint="TO") from None
    body = run(lambda s: _body(s, lifecycle.transition(s, use_case_id, target, operator())))
    print_json(body) if as_json else _show(body)


def _body(session: Session, row: Any) -> dict[str, Any]:
    return registry.use_case_json(row, registry.reviews_of(session, row))
