"""Attributed lines compiled once per shape: the per-query Python cost of a report, cut to its question.

Every report reads the same expensive expression: the period's lines, precedence, every rule and
allocation. Building and compiling that expression in Ibis costs about a second of Python on
any ledger, so a console question that the report cache has not seen would pay it each time.
Here the expression is compiled once per *shape* (backend dialect, ledger table and schema,
attribution, amounts, whether allocations apply, which period bounds are set) with sentinel
period bounds, and kept as SQL text. A question then only substitutes its period into that text
and compiles its own small part (filters, group by, order, limit) against a placeholder table,
which is spliced in as a common table expression. The SQL run is the same as Ibis would run
for the whole expression, so results are the same on DuckDB and PostgreSQL.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any

import ibis
import ibis.expr.types as ir
from sqlglot import expressions as exp

from comptroller.attribution.specs import Attribution
from comptroller.ledger.schema import BUSINESS_DIMENSIONS
from comptroller.ledger.store import Ledger
from comptroller.reconcile.precedence import overlaps
from comptroller.reports.cache import attribution_fingerprint, duckdb_file_version
from comptroller.reports.dimensions import dimension_expression

LINES = "_attributed_lines"
"""The placeholder table's name: the common table expression that holds the attributed lines."""

# Period bounds no ledger holds: compiled into the template, then replaced by the question's.
_SENTINEL_START = datetime(1001, 1, 1, 1, 1, 1)
_SENTINEL_END = datetime(1002, 2, 2, 2, 2, 2)
_TEMPLATES_KEPT = 64
USUAL_DIMENSIONS: tuple[str, ...] = ("cost_layer", "team", "product", "model", "vendor", "agent", "owner")
"""Resolved in every prepared shape: what the console's overview, trends and line pages group by."""


@dataclass(frozen=True, slots=True)
class _Template:
    sql: str
    schema: ibis.Schema


_templates: OrderedDict[Hashable, _Template] = OrderedDict()
_overlaps_known: OrderedDict[tuple[str, str], bool] = OrderedDict()
_lock = threading.Lock()


class PreparedLines:
    """The attributed lines of one question, as a placeholder table to build the report on.

    ``table`` has every ledger column and the prepared business dimensions resolved; build the
    report on it with Ibis and run it with :meth:`fetch`."""

    def __init__(self, ledger: Ledger, lines_sql: str, schema: ibis.Schema) -> None:
        self.ledger = ledger
        self.lines_sql = lines_sql
        self.table = ibis.table(schema, name=LINES)

    def filtered(self, filters: dict[str, str]) -> ir.Table:
        """``table`` restricted to lines whose dimension equals each filter ('' means unset)."""
        table = self.table
        for name, value in filters.items():
            column = dimension_expression(table, name)
            table = table.filter(column.isnull() if value == "" else column == value)
        return table

    def fetch(self, expr: ir.Table) -> list[dict[str, Any]]:
        """Rows of ``expr`` (an expression over ``table``), as dicts."""
        outer = str(ibis.to_sql(expr, dialect=self.ledger.dialect, pretty=False))
        head = f'WITH "{LINES}" AS ({self.lines_sql})'
        sql = f"{head}, {outer[5:]}" if outer.startswith("WITH ") else f"{head} {outer}"
        return _run(self.ledger, sql)


def prepare(
    ledger: Ledger,
    table: ir.Table,
    attribution: Attribution,
    dimensions: Iterable[str],
    start: datetime | None,
    end: datetime | None,
    amounts: tuple[str, ...],
    allocate: bool,
) -> PreparedLines:
    """The attributed lines of ``table`` (the ledger's cost lines) with ``ChargePeriodStart`` in
    [start, end), compiled at most once per shape. ``start``/``end`` are whole-day bounds (``end``
    exclusive). Resolves the business ``dimensions`` asked for and the console's usual ones, so
    the console's questions share one shape; only those resolved cost database time."""
    resolved = tuple(sorted({*USUAL_DIMENSIONS, *(d for d in dimensions if d in BUSINESS_DIMENSIONS)}))
    precedence = _has_overlaps(ledger, table)
    op = table.op()
    key = (
        precedence,
        resolved,
        ledger.dialect,
        op.name,
        str(getattr(op, "namespace", "")),
        tuple(table.schema().items()),
        attribution_fingerprint(attribution),
        amounts,
        allocate,
        start is not None,
        end is not None,
    )
    with _lock:
        template = _templates.get(key)
        if template is not None:
            _templates.move_to_end(key)
    if template is None:
        template = _compile(
            ledger,
            table,
            attribution,
            resolved,
            start is not None,
            end is not None,
            amounts,
            allocate,
            precedence,
        )
        with _lock:
            _templates[key] = template
            while len(_templates) > _TEMPLATES_KEPT:
                _templates.popitem(last=False)
    sql = template.sql
    if start is not None:
        sql = sql.replace(_literal_sql(ledger.dialect, _SENTINEL_START), _literal_sql(ledger.dialect, start))
    if end is not None:
        sql = sql.replace(_literal_sql(ledger.dialect, _SENTINEL_END), _literal_sql(ledger.dialect, end))
    return PreparedLines(ledger, sql, template.schema)


def period_bounds(start: Any, end: Any) -> tuple[datetime | None, datetime | None]:
    """Whole-day (UTC) bounds of an inclusive date range: [start 00:00, day after end 00:00)."""
    return (
        datetime.combine(start, time()) if start else None,
        datetime.combine(end + timedelta(days=1), time()) if end else None,
    )


def _compile(
    ledger: Ledger,
    table: ir.Table,
    attribution: Attribution,
    dimensions: tuple[str, ...],
    has_start: bool,
    has_end: bool,
    amounts: tuple[str, ...],
    allocate: bool,
    precedence: bool,
) -> _Template:
    # Imported here: spend builds on this module for its own report.
    from comptroller.reports.spend import lines_expression

    lines = lines_expression(
        table,
        attribution,
        list(dimensions),
        _SENTINEL_START if has_start else None,
        _SENTINEL_END if has_end else None,
        list(amounts),
        allocate,
        precedence,
    )
    tree = ledger.backend.compiler.to_sqlglot(lines)  # type: ignore[attr-defined]
    for cte in tree.find_all(exp.CTE):
        # Ibis names each reused subquery once; materialising those (DuckDB and PostgreSQL do for
        # a query read twice) copies every ledger column of every line. Inlined, each reader
        # scans only the columns it needs.
        cte.set("materialized", False)
    sql = tree.sql(dialect=ledger.backend.compiler.dialect)  # type: ignore[attr-defined]
    for sentinel, present in ((_SENTINEL_START, has_start), (_SENTINEL_END, has_end)):
        if present and _literal_sql(ledger.dialect, sentinel) not in sql:
            raise AssertionError(f"period bound {sentinel} was not compiled as a literal")
    return _Template(sql=sql, schema=lines.schema())


def _has_overlaps(ledger: Ledger, table: ir.Table) -> bool:
    """Whether any (provider, day) of the ledger has more than one record, so precedence has
    work to do. Answered once per version of an embedded DuckDB file (its size and modification
    time, as the report cache reads them); other ledgers have no version that costs less than
    the step itself, so for them the step always runs."""
    path = getattr(ledger, "path", None)
    version = duckdb_file_version(f"duckdb:///{path}") if isinstance(path, str) else None
    if version is None:
        return True
    key = (path, version)
    with _lock:
        known = _overlaps_known.get(key)
    if known is not None:
        return known
    scopes = overlaps(table, ["EffectiveCost"])
    found = bool(_run(ledger, str(ibis.to_sql(scopes.limit(1), dialect=ledger.dialect, pretty=False))))
    with _lock:
        _overlaps_known[key] = found
        while len(_overlaps_known) > _TEMPLATES_KEPT:
            _overlaps_known.popitem(last=False)
    return found


@functools.lru_cache(maxsize=512)
def _literal_sql(dialect: str, value: datetime) -> str:
    """How the ``dialect`` compiler writes a timestamp literal."""
    text = str(ibis.to_sql(ibis.literal(value).name("v"), dialect=dialect, pretty=False))
    return text.removeprefix("SELECT ").rsplit(' AS "v"', 1)[0]


def _run(ledger: Ledger, sql: str) -> list[dict[str, Any]]:
    con = ledger.backend.con  # type: ignore[attr-defined]
    if ledger.dialect == "duckdb":
        return con.sql(sql).to_arrow_table().to_pylist()
    with con.cursor() as cursor:
        cursor.execute(sql)
        names = [d.name for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
