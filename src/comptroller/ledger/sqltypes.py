"""How each logical column kind is stored on each backend, and identifier quoting."""

from __future__ import annotations

from comptroller.ledger.schema import Column, Kind

DECIMAL_PRECISION = 38
DECIMAL_SCALE = 16
"""Sixteen places keep real exports' 11+ decimal places exactly; 22 integer digits remain."""

DUCKDB_TYPES: dict[Kind, str] = {
    Kind.STRING: "VARCHAR",
    Kind.DECIMAL: f"DECIMAL({DECIMAL_PRECISION},{DECIMAL_SCALE})",
    Kind.TIMESTAMP: "TIMESTAMP",
    Kind.JSON: "VARCHAR",
    Kind.INTEGER: "BIGINT",
    Kind.FLOAT: "DOUBLE",
    Kind.BOOLEAN: "BOOLEAN",
}

POSTGRES_TYPES: dict[Kind, str] = {
    Kind.STRING: "TEXT",
    Kind.DECIMAL: f"NUMERIC({DECIMAL_PRECISION},{DECIMAL_SCALE})",
    Kind.TIMESTAMP: "TIMESTAMP",
    Kind.JSON: "TEXT",
    Kind.INTEGER: "BIGINT",
    Kind.FLOAT: "DOUBLE PRECISION",
    Kind.BOOLEAN: "BOOLEAN",
}


def quote(identifier: str) -> str:
    """Quote an identifier for DuckDB and PostgreSQL alike; FOCUS names are case-sensitive."""
    return '"' + identifier.replace('"', '""') + '"'


def literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def create_table_sql(table: str, columns: tuple[Column, ...], types: dict[Kind, str]) -> str:
    body = ",\n  ".join(f"{quote(c.name)} {types[c.kind]}" for c in columns)
    return f"CREATE TABLE IF NOT EXISTS {quote(table)} (\n  {body}\n)"


def ensure_table_sql(
    table: str, columns: tuple[Column, ...], types: dict[Kind, str], existing: set[str]
) -> list[str]:
    """Statements that create ``table``, or add the columns a ledger made by an older version lacks.

    The ledger's schema only ever grows by nullable columns, so adding them is the whole migration.
    """
    if not existing:
        return [create_table_sql(table, columns, types)]
    folded = {name.lower() for name in existing}
    return [
        f"ALTER TABLE {quote(table)} ADD COLUMN {quote(c.name)} {types[c.kind]}"
        for c in columns
        if c.name.lower() not in folded
    ]
