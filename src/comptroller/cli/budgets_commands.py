"""``comptroller budgets``: the budget tree, with each budget's spend this period beside it."""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from comptroller.budgets import store
from comptroller.budgets.model import Budget, BudgetBehaviour, BudgetPeriod, BudgetScope, FailMode
from comptroller.budgets.status import BudgetStatus, budget_statuses
from comptroller.cli.changes import JsonOpt, invalid, publish_change
from comptroller.cli.output import console, fail, money, print_json, table
from comptroller.cli.params import parse_day
from comptroller.context import Context
from comptroller.errors import ComptrollerError, InvalidInputError

budgets_app = typer.Typer(help="Budgets: alert, approval or hard cap, per scope and period, in a tree.")


def _choices(enum: type[Any]) -> str:
    return " | ".join(member.value for member in enum)


def _amount(value: str | None, option: str) -> Decimal | None:
    if value is None:
        return None
    try:
        return Decimal(value)
    except InvalidOperation:
        raise typer.BadParameter(f"{value!r} is not a number", param_hint=option) from None


def _thresholds(values: list[str] | None) -> tuple[Decimal, ...] | None:
    if not values:
        return None
    return tuple(_amount(v, "--threshold") for v in values)  # type: ignore[misc]


def _build(fields: dict[str, Any]) -> Budget:
    try:
        return Budget(**fields)
    except ValidationError as exc:
        raise invalid(exc) from exc


def _save(budget: Budget) -> Budget:
    applied = publish_change(
        lambda s, actor: store.save_budget(s, budget, actor=actor), remeasure={budget.id}
    )
    return applied.result


def _statuses(budgets: list[Budget]) -> list[BudgetStatus]:
    with Context() as ctx:
        try:
            return budget_statuses(ctx.ledger, budgets, attribution=ctx.attribution())
        except ComptrollerError as exc:
            raise fail(exc) from exc


def _show(statuses: list[BudgetStatus], title: str) -> None:
    table(
        title,
        ["id", "scope", "period", "amount", "spent", "left", "used"],
        [
            [
                s.budget.id + ("" if s.budget.enabled else " (off)"),
                s.budget.scope.value + (f"={s.budget.scope_value}" if s.budget.scope_value else ""),
                s.budget.period.value,
                money(s.budget.amount, s.budget.currency),
                money(s.spent, s.budget.currency),
                money(s.remaining, s.budget.currency),
                f"{s.percent_used}%",
            ]
            for s in statuses
        ],
        right=4,
    )


ScopeOpt = Annotated[str | None, typer.Option(help=_choices(BudgetScope))]
ValueOpt = Annotated[
    str | None, typer.Option("--value", help="The value the scope counts, e.g. the team name.")
]
PeriodOpt = Annotated[str | None, typer.Option(help=_choices(BudgetPeriod))]
AmountOpt = Annotated[str | None, typer.Option(help="Limit per period, in the budget's currency.")]
BehaviourOpt = Annotated[str | None, typer.Option(help=_choices(BudgetBehaviour))]
FailOpt = Annotated[
    str | None, typer.Option("--fail-mode", help=f"{_choices(FailMode)}: when Redis is down.")
]
ThresholdOpt = Annotated[
    list[str] | None, typer.Option("--threshold", help="Alert point as a fraction of the amount; repeatable.")
]
ParentOpt = Annotated[str | None, typer.Option("--parent", help="Id of the parent budget.")]
StartsOpt = Annotated[
    str | None, typer.Option("--starts-on", help="YYYY-MM-DD; where a total budget starts.")
]


def _given(
    *,
    scope: str | None,
    value: str | None,
    period: str | None,
    amount: str | None,
    behaviour: str | None,
    fail_mode: str | None,
    threshold: list[str] | None,
    parent: str | None,
    starts_on: str | None,
) -> dict[str, Any]:
    """The budget fields the options given set, parsed; options left out are absent."""
    fields = {
        "scope": scope,
        "scope_value": value,
        "period": period,
        "amount": _amount(amount, "--amount"),
        "behaviour": behaviour,
        "fail_mode": fail_mode,
        "thresholds": _thresholds(threshold),
        "parent_id": parent,
        "starts_on": parse_day(starts_on, "--starts-on"),
    }
    return {k: v for k, v in fields.items() if v is not None}


@budgets_app.command("create")
def create(
    name: Annotated[str, typer.Option(help="A name people recognise.")],
    scope: ScopeOpt = None,
    value: ValueOpt = None,
    period: PeriodOpt = None,
    amount: AmountOpt = None,
    behaviour: BehaviourOpt = None,
    fail_mode: FailOpt = None,
    threshold: ThresholdOpt = None,
    parent: ParentOpt = None,
    starts_on: StartsOpt = None,
    currency: Annotated[str, typer.Option()] = "USD",
    budget_id: Annotated[str | None, typer.Option("--id", help="Default: generated.")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Create a budget; it reaches the gateway in this command."""
    given = _given(
        scope=scope,
        value=value,
        period=period,
        amount=amount,
        behaviour=behaviour,
        fail_mode=fail_mode,
        threshold=threshold,
        parent=parent,
        starts_on=starts_on,
    )
    if scope is None:
        raise fail(InvalidInputError("scope: choose one of " + _choices(BudgetScope)))
    if amount is None:
        raise fail(InvalidInputError("amount: give the limit per period, e.g. --amount 5000"))
    budget = _build({"id": budget_id or uuid.uuid4().hex[:12], "name": name, "currency": currency, **given})
    saved = _save(budget)
    if as_json:
        print_json(saved.model_dump(mode="json"))
    else:
        console.print(f"created budget [bold]{saved.id}[/] ({saved.name})")


@budgets_app.command("update")
def update(
    budget_id: str,
    name: Annotated[str | None, typer.Option()] = None,
    scope: ScopeOpt = None,
    value: ValueOpt = None,
    period: PeriodOpt = None,
    amount: AmountOpt = None,
    behaviour: BehaviourOpt = None,
    fail_mode: FailOpt = None,
    threshold: ThresholdOpt = None,
    parent: ParentOpt = None,
    no_parent: Annotated[bool, typer.Option("--no-parent", help="Make it a root budget.")] = False,
    starts_on: StartsOpt = None,
    enabled: Annotated[bool | None, typer.Option("--enabled/--disabled")] = None,
    as_json: JsonOpt = False,
) -> None:
    """Change the fields given; the others keep their values."""
    with Context() as ctx, ctx.state.session() as session:
        try:
            current = store.get_budget(session, budget_id)
        except ComptrollerError as exc:
            raise fail(exc) from exc
    changes = _given(
        scope=scope,
        value=value,
        period=period,
        amount=amount,
        behaviour=behaviour,
        fail_mode=fail_mode,
        threshold=threshold,
        parent=parent,
        starts_on=starts_on,
    )
    changes |= {k: v for k, v in {"name": name, "enabled": enabled}.items() if v is not None}
    merged = current.model_dump() | changes
    if scope == BudgetScope.PORTFOLIO.value and value is None:
        merged["scope_value"] = None
    if no_parent:
        merged["parent_id"] = None
    saved = _save(_build(merged))
    if as_json:
        print_json(saved.model_dump(mode="json"))
    else:
        console.print(f"updated budget [bold]{saved.id}[/] ({saved.name})")


@budgets_app.command("delete")
def delete(budget_id: str) -> None:
    """Delete a budget that has no children."""
    publish_change(lambda s, actor: store.delete_budget(s, budget_id, actor=actor))
    console.print(f"deleted budget {budget_id}")


@budgets_app.command("list")
def list_budgets(as_json: JsonOpt = False) -> None:
    """Every budget with this period's spend, what remains and the share used."""
    with Context() as ctx, ctx.state.session() as session:
        budgets = store.list_budgets(session)
    statuses = _statuses(budgets)
    if as_json:
        print_json([s.as_json() for s in statuses])
        return
    _show(statuses, "budgets")


@budgets_app.command("show")
def show(budget_id: str, as_json: JsonOpt = False) -> None:
    """One budget, its spend this period and its child budgets."""
    with Context() as ctx, ctx.state.session() as session:
        try:
            budget = store.get_budget(session, budget_id)
        except ComptrollerError as exc:
            raise fail(exc) from exc
        kids = store.children(session, budget_id)
    statuses = _statuses([budget, *kids])
    if as_json:
        print_json({**statuses[0].as_json(), "children": [s.as_json() for s in statuses[1:]]})
        return
    head = statuses[0]
    thresholds = ", ".join(f"{t * 100:g}%" for t in budget.thresholds)
    console.print(
        f"[bold]{budget.name}[/] ({budget.id}): {budget.behaviour.value}, fails {budget.fail_mode.value}, "
        f"alerts at {thresholds}; period {head.period_start:%Y-%m-%d} to "
        f"{f'{head.period_end:%Y-%m-%d}' if head.period_end else 'open'}"
    )
    _show(statuses, "budget and children")
