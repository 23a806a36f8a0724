"""What a FOCUS row must satisfy before it enters the ledger, and where a bad one sits.

Checks run twice at most: once as a single aggregate over the delivered rows (cheap; the
normal case ends there) and, only when something failed, again over the source file with row
numbers on one thread, so the report can name file, row and column.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from comptroller.errors import Problem
from comptroller.ingest.focus_mapping import FocusFile
from comptroller.ingest.json_lookups import Lookups
from comptroller.ledger.schema import FOCUS_COLUMNS, Kind
from comptroller.ledger.sqltypes import DUCKDB_TYPES, quote

CHARGE_CATEGORIES = ("Usage", "Purchase", "Tax", "Credit", "Adjustment")
CHARGE_FREQUENCIES = ("One-Time", "Recurring", "Usage-Based")
MAX_PROBLEMS_PER_CHECK = 5


@dataclass(frozen=True, slots=True)
class Check:
    column: str
    bad_when: str
    """A DuckDB predicate, true for a row that breaks the rule."""
    message: str
    distinct: bool = False
    """The rule reads only this column's value, so it is checked once per distinct value."""


def _in_list(values: tuple[str, ...]) -> str:
    return ", ".join("'" + v + "'" for v in values)


def row_checks() -> list[Check]:
    checks = [
        Check(c.name, f"{quote(c.name)} IS NULL", "is empty, but FOCUS requires a value")
        for c in FOCUS_COLUMNS
        if c.requirement == "M" and not c.nullable
    ]
    checks += [
        Check(
            "ChargeCategory",
            f'"ChargeCategory" NOT IN ({_in_list(CHARGE_CATEGORIES)})',
            f"must be one of {', '.join(CHARGE_CATEGORIES)}",
        ),
        Check("ChargeClass", "\"ChargeClass\" <> 'Correction'", "must be empty or Correction"),
        Check(
            "ChargeFrequency",
            f'"ChargeFrequency" NOT IN ({_in_list(CHARGE_FREQUENCIES)})',
            f"must be one of {', '.join(CHARGE_FREQUENCIES)}",
        ),
        Check(
            "BillingCurrency",
            "NOT regexp_full_match(\"BillingCurrency\", '[A-Z]{3}')",
            "must be an ISO 4217 currency code such as USD",
        ),
        Check(
            "ChargePeriodEnd",
            '"ChargePeriodEnd" < "ChargePeriodStart"',
            "is before ChargePeriodStart",
        ),
        Check(
            "BillingPeriodEnd",
            '"BillingPeriodEnd" <= "BillingPeriodStart"',
            "must be after BillingPeriodStart",
        ),
    ]
    checks += [
        Check(
            c.name,
            f"{quote(c.name)} IS NOT NULL AND (CASE WHEN json_valid({quote(c.name)}) "
            f"THEN json_type({quote(c.name)}) <> 'OBJECT' ELSE true END)",
            "must be a JSON object",
            distinct=True,
        )
        for c in FOCUS_COLUMNS
        if c.kind is Kind.JSON
    ]
    return checks


def failing_checks(con: duckdb.DuckDBPyConnection, relation: str) -> list[Check]:
    """The checks that some delivered row breaks, from one aggregate scan; a check of a JSON
    cell runs once per distinct text (an export repeats a few hundred tag sets on every line)."""
    checks = row_checks()
    per_row = [c for c in checks if not c.distinct]
    per_value = [c for c in checks if c.distinct]
    parts = [f"(SELECT {', '.join(_count(c) for c in per_row)} FROM {relation}) AS r"]
    parts += [
        f"(SELECT {_count(c)} FROM (SELECT DISTINCT {quote(c.column)} FROM {relation})) AS d{i}"
        for i, c in enumerate(per_value)
    ]
    row = con.execute(f"SELECT * FROM {', '.join(parts)}").fetchone() or ()
    return [c for c, n in zip([*per_row, *per_value], row, strict=True) if n]


def _count(check: Check) -> str:
    return f"count(*) FILTER (WHERE {check.bad_when})"


def locate(file: FocusFile, checks: list[Check], lookups: Lookups) -> list[Problem]:
    """Name the rows of the source file that break the given checks (or fail to convert)."""
    con = diagnostic_connection()
    try:
        problems = locate_conversion_errors(con, file)
        if problems:
            return problems
        bound = lookups.bind(con, "_diagnostic")
        relation = f"({file.select_sql('diagnostic', bound, cast='TRY_CAST', row_numbers=True)})"
        for check in checks:
            rows = con.execute(
                f"SELECT _row, CAST({quote(check.column)} AS VARCHAR) FROM {relation} "
                f"WHERE {check.bad_when} ORDER BY _row LIMIT {MAX_PROBLEMS_PER_CHECK}"
            ).fetchall()
            problems += [
                Problem(str(file.path), f"{check.message} (found {_show(value)})", int(r), check.column)
                for r, value in rows
            ]
        return problems
    finally:
        con.close()


def locate_conversion_errors(con: duckdb.DuckDBPyConnection, file: FocusFile) -> list[Problem]:
    """Cells that do not parse as the column's type: decimals, timestamps."""
    problems: list[Problem] = []
    relation = f"({file.inner_select(cast='TRY_CAST', row_numbers=True)})"
    raw = f"(SELECT *, {file.row_number_sql()} AS _row FROM {file.reader(row_numbers=True)})"
    for col in FOCUS_COLUMNS:
        if col.name not in file.source_types or col.kind not in (Kind.DECIMAL, Kind.TIMESTAMP):
            continue
        if file.source_types[col.name].upper() != "VARCHAR":
            continue
        rows = con.execute(
            f"SELECT r._row, CAST(r.{quote(col.name)} AS VARCHAR) FROM {raw} r JOIN {relation} t "
            f"ON r._row = t._row WHERE NULLIF(TRIM(r.{quote(col.name)}), '') IS NOT NULL "
            f"AND t.{quote(col.name)} IS NULL ORDER BY r._row LIMIT {MAX_PROBLEMS_PER_CHECK}"
        ).fetchall()
        expected = "a decimal number" if col.kind is Kind.DECIMAL else "an ISO 8601 date-time"
        problems += [
            Problem(
                str(file.path),
                f"{_show(value)} is not {expected} ({DUCKDB_TYPES[col.kind]})",
                int(r),
                col.name,
            )
            for r, value in rows
        ]
    return problems


def diagnostic_connection() -> duckdb.DuckDBPyConnection:
    """One thread, so that row_number() follows the file's own order."""
    con = duckdb.connect(":memory:")
    con.execute("SET threads = 1")
    con.execute("SET preserve_insertion_order = true")
    con.execute("SET TimeZone = 'UTC'")
    return con


def _show(value: object) -> str:
    text = "empty" if value is None else repr(value)
    return text if len(text) <= 60 else text[:57] + "..."
