"""Rule conditions: a small, safe subset of SQL, parsed by sqlglot and compiled to Ibis.

Users write conditions the way they think about billing data
(``SubAccountName = 'Atlas Nimbus' AND tag('env') = 'prod'``). Parsing with sqlglot and
translating node by node to Ibis means a condition runs unchanged on DuckDB and PostgreSQL, and
anything outside the whitelist (subqueries, arbitrary functions) is rejected with a clear message.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import sqlglot
from sqlglot import expressions as exp

from comptroller.errors import RuleError
from comptroller.ledger.schema import BUSINESS_DIMENSIONS, dimension_column

Resolver = Callable[[str], ir.Value]


def parse_condition(text: str) -> exp.Expression:
    try:
        tree = sqlglot.parse_one(text, read="duckdb")
    except sqlglot.errors.ParseError as exc:
        reason = exc.errors[0]["description"] if exc.errors else str(exc)
        raise RuleError(f"condition {text!r} is not valid: {reason}") from exc
    except (sqlglot.errors.SqlglotError, IndexError, ValueError) as exc:
        # The tokenizer and parser raise these on some malformed input (a lone quote, stray bytes).
        raise RuleError(f"condition {text!r} is not valid SQL: {exc}") from exc
    if tree is None:
        raise RuleError("condition is empty")
    return tree


def referenced_columns(text: str) -> set[str]:
    return {c.name for c in parse_condition(text).find_all(exp.Column)}


def column_resolver(table: ir.Table) -> Resolver:
    """Names in conditions: any ledger column, a business dimension's own value, or tag('k')."""
    columns = set(table.columns)

    def resolve(name: str) -> ir.Value:
        if name in columns:
            return table[name]
        if name in BUSINESS_DIMENSIONS:
            return table[dimension_column(name)]
        raise RuleError(f"condition names {name!r}, which is neither a ledger column nor a dimension")

    return resolve


@ibis.udf.scalar.builtin
def json_extract_path_text(document: dt.JSON, key: str) -> str:  # type: ignore[empty-body]
    """Both DuckDB and PostgreSQL have this function with these arguments."""


def tag_value(table: ir.Table, key: str) -> ir.StringValue:
    return json_extract_path_text(table["Tags"].cast("json"), key)


def compile_condition(text: str, table: ir.Table) -> ir.BooleanValue:
    return _Compiler(table, text).boolean(parse_condition(text))


class _Compiler:
    def __init__(self, table: ir.Table, text: str) -> None:
        self.table = table
        self.text = text
        self.resolve = column_resolver(table)

    def fail(self, node: exp.Expression) -> RuleError:
        return RuleError(f"condition {self.text!r}: {node.sql()!r} is not supported here")

    def boolean(self, node: exp.Expression) -> ir.BooleanValue:
        if isinstance(node, exp.Paren):
            return self.boolean(node.this)
        if isinstance(node, exp.And):
            return self.boolean(node.left) & self.boolean(node.right)
        if isinstance(node, exp.Or):
            return self.boolean(node.left) | self.boolean(node.right)
        if isinstance(node, exp.Not):
            return ~self.boolean(node.this)
        if isinstance(node, exp.Is):
            if not isinstance(node.expression, exp.Null):
                raise self.fail(node)
            return self.value(node.this).isnull()
        if isinstance(node, exp.In):
            if any(node.args.get(k) for k in ("query", "unnest", "field")) or not node.expressions:
                raise self.fail(node)
            return self.value(node.this).isin([self.literal(v) for v in node.expressions])
        if isinstance(node, exp.Like | exp.ILike):
            pattern = self.literal(node.expression)
            target = self.value(node.this)
            if isinstance(node, exp.ILike):
                matched = target.lower().like(str(pattern).lower())
            else:
                matched = target.like(pattern)
            return ~matched if node.args.get("negate") else matched
        comparisons: dict[type, Callable[[Any, Any], ir.BooleanValue]] = {
            exp.EQ: lambda a, b: a == b,
            exp.NEQ: lambda a, b: a != b,
            exp.GT: lambda a, b: a > b,
            exp.GTE: lambda a, b: a >= b,
            exp.LT: lambda a, b: a < b,
            exp.LTE: lambda a, b: a <= b,
        }
        for kind, compare in comparisons.items():
            if isinstance(node, kind):
                return compare(self.value(node.left), self.operand(node.right))
        if isinstance(node, exp.Boolean):
            return ibis.literal(node.this)
        raise self.fail(node)

    def value(self, node: exp.Expression) -> ir.Value:
        if isinstance(node, exp.Column):
            if node.table:
                raise self.fail(node)
            return self.resolve(node.name)
        if isinstance(node, exp.Anonymous) and node.name.lower() == "tag":
            args = node.expressions
            if len(args) != 1 or not isinstance(args[0], exp.Literal) or not args[0].is_string:
                raise RuleError(f"condition {self.text!r}: tag() takes one quoted key, e.g. tag('team')")
            return tag_value(self.table, args[0].this)
        if isinstance(node, exp.Paren):
            return self.value(node.this)
        raise self.fail(node)

    def operand(self, node: exp.Expression) -> Any:
        if isinstance(node, exp.Literal | exp.Neg):
            return self.literal(node)
        return self.value(node)

    def literal(self, node: exp.Expression) -> Any:
        if isinstance(node, exp.Neg):
            return -self.literal(node.this)
        if isinstance(node, exp.Literal):
            if node.is_string:
                return node.this
            number = float(node.this)
            return int(number) if number.is_integer() and "." not in node.this else number
        if isinstance(node, exp.Null):
            return None
        raise self.fail(node)
