"""Assigning unowned spend: one row of the unowned queue becomes a virtual-tag rule.

The queue groups unowned lines by a few columns (team, service, sub-account); assigning a row
writes a rule whose condition is exactly that group, so the owner applies to the lines the person
looked at, to their history (rules apply at query time) and to future lines of the same kind.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from comptroller.attribution.specs import RuleSpec
from comptroller.errors import RuleError


def quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


COLUMN_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")


def group_condition(group: Mapping[str, str | None]) -> str:
    """``a = 'x' AND b = 'y'`` over the group's non-empty values (an empty one matches anything:
    the queue shows it empty because nothing is known there)."""
    for column in group:
        if not COLUMN_NAME.match(column):
            raise RuleError(f"match: {column!r} is not a column or dimension name")
    terms = [f"{column} = {quote(value)}" for column, value in group.items() if value not in (None, "")]
    if not terms:
        raise RuleError("match: the group has no value to match on; name at least one column's value")
    return " AND ".join(terms)


def assignment_rule(
    group: Mapping[str, str | None], *, value: str, dimension: str = "owner", description: str | None = None
) -> RuleSpec:
    condition = group_condition(group)
    return RuleSpec(
        dimension=dimension,
        value=value,
        condition=condition,
        description=description or f"assigned from the unowned queue: {condition}",
    )
