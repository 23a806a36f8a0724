"""Turning a user's ``--by`` names into Ibis expressions over the attributed ledger."""

from __future__ import annotations

from collections.abc import Iterable

import ibis.expr.types as ir

from comptroller.attribution.conditions import tag_value
from comptroller.errors import QueryError
from comptroller.ledger.schema import BUSINESS_DIMENSIONS

COST_COLUMNS: dict[str, str] = {
    "effective": "EffectiveCost",
    "billed": "BilledCost",
    "list": "ListCost",
    "contracted": "ContractedCost",
}


def cost_column(kind: str) -> str:
    try:
        return COST_COLUMNS[kind]
    except KeyError:
        raise QueryError(f"cost must be one of {', '.join(COST_COLUMNS)}, not {kind!r}") from None


def check_dimensions(names: Iterable[str], columns: Iterable[str]) -> list[str]:
    known = set(columns)
    out = []
    for name in names:
        if name in BUSINESS_DIMENSIONS or name in known or (name.startswith("tag:") and len(name) > 4):
            out.append(name)
            continue
        raise QueryError(
            f"unknown dimension {name!r}: use a business dimension ({', '.join(BUSINESS_DIMENSIONS)}), "
            "a ledger column such as ServiceName, or tag:KEY"
        )
    return out


def dimension_expression(table: ir.Table, name: str) -> ir.Value:
    """``table`` must already be attributed for business dimensions."""
    if name.startswith("tag:"):
        return tag_value(table, name[4:])
    return table[name]


def filter_dimensions(table: ir.Table, filters: dict[str, str]) -> ir.Table:
    """``table`` restricted to rows whose dimension equals each filter ('' means unset)."""
    for name, value in filters.items():
        column = dimension_expression(table, name)
        table = table.filter(column.isnull() if value == "" else column == value)
    return table
