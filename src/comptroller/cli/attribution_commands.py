"""``comptroller rules|owners|allocations``: attribution configuration from the shell."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Annotated

import typer
from pydantic import ValidationError

from comptroller.attribution.assign import assignment_rule
from comptroller.attribution.conditions import compile_condition
from comptroller.attribution.specs import AllocationSpec, OwnerSpec, RuleSpec
from comptroller.cli.audit_trail import record_change
from comptroller.cli.output import console, fail, money, table
from comptroller.context import Context
from comptroller.errors import ComptrollerError, RuleError
from comptroller.pairs import split_pair
from comptroller.reports.coverage import unowned_spend
from comptroller.state import repository

rules_app = typer.Typer(help="Virtual-tag rules: ordered, first match wins, applied at query time.")
owners_app = typer.Typer(help="Owners accountable for dimension values (e.g. team=search).")
allocations_app = typer.Typer(help="Shared-cost allocations.")


def _assignment(text: str) -> tuple[str, str]:
    try:
        return split_pair(text, "DIMENSION=VALUE")
    except ValueError as exc:
        raise fail(RuleError(str(exc))) from None


def _invalid(exc: ValidationError) -> typer.Exit:
    first = exc.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or "input"
    return fail(RuleError(f"{field}: {first['msg']}"))


@rules_app.command("list")
def list_rules() -> None:
    """Rules in evaluation order."""
    with Context() as ctx:
        rules = repository.list_rules(ctx.state)
    table(
        "virtual-tag rules",
        ["#", "id", "sets", "when", "override"],
        [
            [i, r.id, f"{r.dimension}={r.value}", r.condition, "yes" if r.override else ""]
            for i, r in enumerate(rules, 1)
        ],
    )


@rules_app.command("add")
def add_rule(
    assignment: Annotated[str, typer.Argument(help="DIMENSION=VALUE, e.g. team=search")],
    when: Annotated[str, typer.Option(help="Condition, e.g. \"SubAccountName = 'Atlas Nimbus'\"")],
    override: Annotated[bool, typer.Option(help="Win over the line's own tagged value.")] = False,
    position: Annotated[int | None, typer.Option(help="1-based place in the order; default last.")] = None,
    description: Annotated[str | None, typer.Option()] = None,
) -> None:
    """Add a rule; history is re-attributed at once, since rules apply at query time."""
    dimension, value = _assignment(assignment)
    try:
        spec = RuleSpec(
            dimension=dimension, value=value, condition=when, override=override, description=description
        )
        with Context() as ctx:
            from comptroller.attribution.conditions import compile_condition

            compile_condition(spec.condition, ctx.ledger.cost_lines())
            saved = repository.add_rule(ctx.state, spec, position)
            record_change(ctx, "rule.create", f"rule:{saved.id}", saved.model_dump(mode="json"))
    except ValidationError as exc:
        raise _invalid(exc) from exc
    except ComptrollerError as exc:
        raise fail(exc) from exc
    console.print(f"added rule {saved.id}: {saved.dimension}={saved.value} when {saved.condition}")


@rules_app.command("remove")
def remove_rule(rule_id: int) -> None:
    """Remove a rule by id."""
    with Context() as ctx:
        try:
            repository.remove_rule(ctx.state, rule_id)
        except ComptrollerError as exc:
            raise fail(exc) from exc
        record_change(ctx, "rule.delete", f"rule:{rule_id}")
    console.print(f"removed rule {rule_id}")


@owners_app.command("set")
def set_owner(
    assignment: Annotated[str, typer.Argument(help="DIMENSION=VALUE, e.g. team=search")],
    owner: Annotated[str, typer.Argument(help="Who is accountable, e.g. an email address.")],
) -> None:
    """Make someone accountable for all spend carrying a dimension value."""
    dimension, value = _assignment(assignment)
    try:
        spec = OwnerSpec(dimension=dimension, value=value, owner=owner)
    except ValidationError as exc:
        raise _invalid(exc) from exc
    with Context() as ctx:
        repository.set_owner(ctx.state, spec)
        record_change(ctx, "owner.set", f"owner:{dimension}={value}", spec.model_dump(mode="json"))
    console.print(f"{dimension}={value} is owned by {owner}")


@owners_app.command("queue")
def owner_queue(limit: Annotated[int, typer.Option(min=1, max=1000)] = 20) -> None:
    """Spend no owner resolves for, largest first: the queue to work down with ``owners assign``."""
    with Context() as ctx:
        rows = unowned_spend(ctx.ledger, ctx.attribution(), limit=limit)
    table(
        "unowned spend",
        ["team", "ServiceName", "SubAccountName", "cost", "lines"],
        [
            [r.group["team"], r.group["ServiceName"], r.group["SubAccountName"], money(r.cost), r.lines]
            for r in rows
        ],
        right=2,
    )


@owners_app.command("assign")
def assign_owner(
    match: Annotated[
        list[str], typer.Option("--match", help="COLUMN=VALUE of the queue row; repeatable (all must hold).")
    ],
    owner: Annotated[str, typer.Argument(help="Who is accountable (or the team, with --team).")],
    team: Annotated[bool, typer.Option("--team", help="Assign a team rather than an owner.")] = False,
) -> None:
    """Own a row of the unowned queue: writes the rule matching exactly that row's lines."""
    try:
        group = dict(split_pair(m, "COLUMN=VALUE") for m in match)
    except ValueError as exc:
        raise fail(RuleError(str(exc))) from None
    with Context() as ctx:
        try:
            rule = assignment_rule(group, value=owner, dimension="team" if team else "owner")
            compile_condition(rule.condition, ctx.ledger.cost_lines())
        except ComptrollerError as exc:
            raise fail(exc) from exc
        added = repository.add_rule(ctx.state, rule)
        record_change(ctx, "unowned.assign", f"rule:{added.id}", added.model_dump(mode="json"))
        left = sum((r.cost for r in unowned_spend(ctx.ledger, ctx.attribution(), limit=1000)), Decimal(0))
    console.print(f"rule {added.id}: {added.dimension}={added.value} where {added.condition}")
    console.print(f"unowned spend left: {money(left)}")


@owners_app.command("list")
def list_owners() -> None:
    """Owner assignments."""
    with Context() as ctx:
        owners = ctx.attribution().owners
    table("owners", ["dimension", "value", "owner"], [[o.dimension, o.value, o.owner] for o in owners])


@allocations_app.command("add")
def add_allocation(
    name: str,
    when: Annotated[str, typer.Option(help="Which lines are shared, e.g. \"tag('cost_pool') = 'platform'\"")],
    dimension: Annotated[str, typer.Option(help="The dimension to split across, e.g. team.")],
    method: Annotated[str, typer.Option(help="even | proportional | fixed")],
    targets: Annotated[
        str | None, typer.Option(help="Comma-separated target values; default all seen.")
    ] = None,
    weights: Annotated[
        str | None, typer.Option(help='Fixed weights as JSON, e.g. {"a": 0.6, "b": 0.4}')
    ] = None,
    metric: Annotated[
        str | None, typer.Option(help="Numeric ledger column to weigh by (proportional).")
    ] = None,
) -> None:
    """Split shared cost lines across a dimension's values; applied at query time."""
    try:
        spec = AllocationSpec(
            name=name,
            condition=when,
            dimension=dimension,
            method=method,
            targets=tuple(t.strip() for t in targets.split(",")) if targets else None,
            weights=json.loads(weights) if weights else None,
            metric=metric,
        )
        with Context() as ctx:
            repository.add_allocation(ctx.state, spec)
            record_change(ctx, "allocation.create", f"allocation:{spec.name}", spec.model_dump(mode="json"))
    except json.JSONDecodeError as exc:
        raise fail(RuleError(f"weights: not valid JSON ({exc.msg})")) from exc
    except ValidationError as exc:
        raise _invalid(exc) from exc
    except ComptrollerError as exc:
        raise fail(exc) from exc
    console.print(f"added allocation {name}")


@allocations_app.command("list")
def list_allocations() -> None:
    """Allocations in the order they apply."""
    with Context() as ctx:
        specs = ctx.attribution().allocations
    table(
        "allocations",
        ["name", "shared lines", "split by", "method", "targets / weights"],
        [
            [a.name, a.condition, a.dimension, a.method.value, a.weights or ",".join(a.targets or ("all",))]
            for a in specs
        ],
    )


@allocations_app.command("remove")
def remove_allocation(name: str) -> None:
    """Remove an allocation by name; shared lines show unsplit again."""
    with Context() as ctx:
        try:
            repository.remove_allocation(ctx.state, name)
        except ComptrollerError as exc:
            raise fail(exc) from exc
        record_change(ctx, "allocation.delete", f"allocation:{name}")
    console.print(f"removed allocation {name}")
