"""Resolving business dimensions at query time, so editing a rule re-attributes history."""

from __future__ import annotations

from collections.abc import Iterable

import ibis
import ibis.expr.types as ir

from comptroller.attribution.conditions import compile_condition
from comptroller.attribution.specs import Attribution
from comptroller.ledger.schema import BUSINESS_DIMENSIONS, dimension_column

# When no tag or rule names an owner, the most specific owned dimension decides.
OWNER_PRECEDENCE: tuple[str, ...] = (
    "agent",
    "workflow",
    "feature",
    "product",
    "team",
    "function",
    "customer",
    "customer_segment",
    "environment",
    "vendor",
    "model",
    "risk_tier",
    "cost_layer",
)


def resolved_value(table: ir.Table, attribution: Attribution, dimension: str) -> ir.StringValue:
    """The line's own value, unless a rule says otherwise: ordered, first match wins; rules
    without ``override`` only fill lines that carry no value of their own."""
    own = table[dimension_column(dimension)]
    branches = []
    for rule in attribution.rules:
        if rule.dimension != dimension:
            continue
        condition = compile_condition(rule.condition, table)
        if not rule.override:
            condition = condition & own.isnull()
        branches.append((condition, ibis.literal(rule.value)))
    if not branches:
        return own
    return ibis.cases(*branches, else_=own)


def owner_dimensions(attribution: Attribution) -> list[str]:
    assigned = {o.dimension for o in attribution.owners}
    return [d for d in OWNER_PRECEDENCE if d in assigned]


def required_dimensions(dimensions: Iterable[str], attribution: Attribution) -> list[str]:
    """The requested dimensions plus those that owner resolution reads."""
    wanted = [d for d in dimensions if d in BUSINESS_DIMENSIONS]
    if "owner" in wanted:
        wanted += owner_dimensions(attribution)
    return list(dict.fromkeys(wanted))


def attributed(table: ir.Table, attribution: Attribution, dimensions: Iterable[str]) -> ir.Table:
    """``table`` plus one column per requested business dimension, named after it."""
    needed = required_dimensions(dimensions, attribution)
    values = {d: resolved_value(table, attribution, d) for d in needed if d != "owner"}
    if "owner" in needed:
        values["owner"] = _owner(table, attribution, values)
    return table.mutate(**values) if values else table


def _owner(table: ir.Table, attribution: Attribution, values: dict[str, ir.Value]) -> ir.StringValue:
    explicit = resolved_value(table, attribution, "owner")
    branches = []
    for dimension in owner_dimensions(attribution):
        for assignment in attribution.owners:
            if assignment.dimension == dimension:
                branches.append((values[dimension] == assignment.value, ibis.literal(assignment.owner)))
    if not branches:
        return explicit
    return explicit.coalesce(ibis.cases(*branches, else_=ibis.null(str)))
