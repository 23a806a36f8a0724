"""Attributed lines compiled once per shape: the per-query Python cost of a report, cut to its question.

Every report reads the same expensive expression: the period's lines, precedence, every rule and
allocation. Building and compiling that expression in Ibis costs about a second of Python on
any ledger, so a console question that the report cache has not seen would pay it each time.
Here the expression is compiled once per *shape* (backend dialect, ledger table and schema,
attribution, amounts, whether allocations apply) with sentinel period bounds, and kept as SQL
text. A question then only substitutes its period into that text and compiles its own small part
(filters, group by, order, limit) against a placeholder table, which is spliced in as a common
table expression. The SQL run is the same as Ibis would run for the whole expression, so results
are the same on DuckDB and PostgreSQL.

A shape resolves every business dimension and always bounds the period (an open end becomes a
bound no charge lies beyond), so what a person varies in the console (group-bys, filters, grain,
period) never makes a new shape: the first question of a kind costs one query, not a compile.
The database reads only the dimensions a question uses, so resolving the others costs nothing.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Hashable
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
from comptroller.reports.dimensions import filter_dimensions

LINES = "_attributed_lines"
"""The placeholder table's name: the common table expression that holds the attributed lines."""

# Period bounds no ledger holds: compiled into the template, then replaced by the question's.
_SENTINEL_START = datetime(1001, 1, 1, 1, 1, 1)
_SENTINEL_END = datetime(1002, 2, 2, 2, 2, 2)
# What an open end of the period becomes: ChargePeriodStart is never null, so every line is within.
_EARLIEST = datetime(1, 1, 1)
_LATEST = datetime(9999, 12, 31)
_TEMPLATES_KEPT = 64


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
        return filter_dimensions(self.table, filters)

    def sql(self, expr: ir.Table) -> str:
        """The ledger's SQL for ``expr`` (an expression over ``table``)."""
        return splice(self.lines_sql, str(ibis.to_sql(expr, dialect=self.ledger.dialect, pretty=False)))

    def fetch(self, expr: ir.Table) -> list[dict[str, Any]]:
        """Rows of ``expr`` (an expression over ``table``), as dicts."""
        return _run(self.ledger, self.sql(expr))


def splice(lines_sql: str, outer: str) -> str:
    """``outer`` (SQL over the placeholder table) reading ``lines_sql`` as that table."""
    head = f'WITH "{LINES}" AS ({lines_sql})'
    return f"{head}, {outer[5:]}" if outer.startswith("WITH ") else f"{head} {outer}"


def prepare(
    ledger: Ledger,
    table: ir.Table,
    attribution: Attribution,
    start: datetime | None,
    end: datetime | None,
    amounts: tuple[str, ...],
    allocate: bool,
) -> PreparedLines:
    """The attributed lines of ``table`` (the ledger's cost lines) with ``ChargePeriodStart`` in
    [start, end), every business dimension resolved, compiled at most once per shape.
    ``start``/``end`` are whole-day bounds (``end`` exclusive; None: open)."""
    precedence = _has_overlaps(ledger, table)
    op = table.op()
    key = (
        precedence,
        ledger.dialect,
        op.name,
        str(getattr(op, "namespace", "")),
        tuple(table.schema().items()),
        attribution_fingerprint(attribution),
        amounts,
        allocate,
    )
    with _lock:
        template = _templates.get(key)
        if template is not None:
            _templates.move_to_end(key)
    if template is None:
        template = _compile(ledger, table, attribution, amounts, allocate, precedence)
        with _lock:
            _templates[key] = template
            while len(_templates) > _TEMPLATES_KEPT:
                _templates.popitem(last=False)
    sql = template.sql.replace(
        _literal_sql(ledger.dialect, _SENTINEL_START), _literal_sql(ledger.dialect, start or _EARLIEST)
    ).replace(_literal_sql(ledger.dialect, _SENTINEL_END), _literal_sql(ledger.dialect, end or _LATEST))
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
    amounts: tuple[str, ...],
    allocate: bool,
    precedence: bool,
) -> _Template:
    # Imported here: spend builds on this module for its own report.
    from comptroller.reports.spend import lines_expression

    lines = lines_expression(
        table,
        attribution,
        list(BUSINESS_DIMENSIONS),
        _SENTINEL_START,
        _SENTINEL_END,
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
    for sentinel in (_SENTINEL_START, _SENTINEL_END):
        if _literal_sql(ledger.dialect, sentinel) not in sql:
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
