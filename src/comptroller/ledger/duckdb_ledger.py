"""The embedded ledger: one DuckDB file, written in place within a transaction.

Cost lines are stored narrow. DuckDB spends about as long storing a column that is NULL on every
row as a filled one (each row group's compression analysis and validity, ~35 ns a cell), and a
FOCUS export fills about a third of the ledger's hundred columns, so a full-width table made an
ingest twice as slow as reading the same file. ``cost_lines_stored`` therefore holds only the
columns some delivery has filled; it gains a column (a cheap, lazy ``ADD COLUMN``) the first time
a delivery writes one. ``cost_lines`` is a view over it with every ledger column in the
canonical order, the missing ones as typed NULLs, so every reader sees the full schema and
DuckDB folds the NULL columns away in queries.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import duckdb
import ibis

from comptroller.ledger.schema import (
    COST_LINE_COLUMNS,
    COST_LINES_TABLE,
    USAGE_EVENT_COLUMNS,
    USAGE_EVENTS_TABLE,
)
from comptroller.ledger.sqltypes import (
    DUCKDB_TYPES,
    create_table_sql,
    ensure_table_sql,
    literal,
    quote,
)
from comptroller.ledger.store import DeliveryWriter, Ledger, retry_while_locked, transaction

STORED_COST_LINES = "cost_lines_stored"
"""The table behind the ``cost_lines`` view: only the columns some delivery has filled."""

_CORE = tuple(c for c in COST_LINE_COLUMNS if not c.nullable)
CORE_COLUMNS: tuple[str, ...] = tuple(c.name for c in _CORE)
"""What a new store starts with: the columns every cost line has."""

_CANONICAL = {c.name.lower(): c for c in COST_LINE_COLUMNS}


def connect_duckdb(path: str, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    con = retry_while_locked(lambda: duckdb.connect(path, read_only=read_only), f"ledger {path}")
    con.execute("SET TimeZone = 'UTC'")
    return con


class DuckDBLedger(Ledger):
    dialect = "duckdb"

    def __init__(self, path: str, read_only: bool = False) -> None:
        self.path = path
        self.con = connect_duckdb(path, read_only and path != ":memory:")
        if not read_only:
            existing = set(_columns_of(self.con, USAGE_EVENTS_TABLE))
            for statement in ensure_table_sql(
                USAGE_EVENTS_TABLE, USAGE_EVENT_COLUMNS, DUCKDB_TYPES, existing
            ):
                self.con.execute(statement)
            prepare_cost_line_store(self.con)
        self._backend: ibis.BaseBackend | None = None

    @property
    def backend(self) -> ibis.BaseBackend:
        # Made on first read: loading Ibis's DuckDB backend takes ~0.5 s, which an ingest never needs.
        if self._backend is None:
            self._backend = ibis.duckdb.from_connection(self.con)
        return self._backend

    def execute(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, params or []).fetchall()

    @contextmanager
    def delivery(self, delivery_id: str) -> Iterator[DeliveryWriter]:
        self.con.execute("BEGIN TRANSACTION")
        writer = _DuckDBDelivery(self.con, delivery_id)
        with transaction(writer, lambda: self.con.execute("COMMIT"), lambda: self.con.execute("ROLLBACK")):
            yield writer

    def close(self) -> None:
        self.con.close()


class _DuckDBDelivery(DeliveryWriter):
    def __init__(self, con: duckdb.DuckDBPyConnection, delivery_id: str) -> None:
        self.con = con
        self.delivery_id = delivery_id

    @property
    def staging(self) -> duckdb.DuckDBPyConnection:
        return self.con

    def add_columns(self, names: list[str]) -> None:
        store_columns(self.con, names)

    def insert_cost_lines(self, select_sql: str, columns: list[str]) -> int:
        store_columns(self.con, columns)
        cols = ", ".join(quote(c) for c in columns)
        row = self.con.execute(f"INSERT INTO {quote(STORED_COST_LINES)} ({cols}) {select_sql}").fetchone()
        return int(row[0]) if row else 0

    def delivered_relation(self) -> str:
        return (
            f"(SELECT * FROM {quote(COST_LINES_TABLE)} "
            f"WHERE {quote('x_DeliveryId')} = {literal(self.delivery_id)})"
        )

    def replace_scopes(self, scope_columns: tuple[str, ...]) -> int:
        store_columns(self.con, list(scope_columns))
        keys = ", ".join(quote(c) for c in scope_columns)
        row = self.con.execute(
            f"DELETE FROM {quote(STORED_COST_LINES)} WHERE {quote('x_DeliveryId')} <> ? "
            f"AND ({keys}) IN (SELECT DISTINCT {keys} FROM {quote(STORED_COST_LINES)} "
            f"WHERE {quote('x_DeliveryId')} = ?)",
            [self.delivery_id, self.delivery_id],
        ).fetchone()
        return int(row[0]) if row else 0

    def insert_usage_events(self, arrow_table: Any, *, replace: bool = False) -> int:
        self.con.register("_incoming_events", arrow_table)
        try:
            if replace:
                self.con.execute(
                    f"DELETE FROM {quote(USAGE_EVENTS_TABLE)} WHERE event_id IN (SELECT event_id FROM _incoming_events)"
                )
            cols = ", ".join(quote(c) for c in arrow_table.column_names)
            row = self.con.execute(
                f"INSERT INTO {quote(USAGE_EVENTS_TABLE)} ({cols}) "
                f"SELECT {cols} FROM (SELECT *, row_number() OVER (PARTITION BY event_id) AS _n "
                f"FROM _incoming_events) s WHERE _n = 1 AND NOT EXISTS "
                f"(SELECT 1 FROM {quote(USAGE_EVENTS_TABLE)} u WHERE u.event_id = s.event_id)"
            ).fetchone()
        finally:
            self.con.unregister("_incoming_events")
        return int(row[0]) if row else 0

    def usage_events_on(self, days: list[date]) -> str:
        listed = ", ".join(f"DATE {literal(d.isoformat())}" for d in days)
        return f"(SELECT * FROM {quote(USAGE_EVENTS_TABLE)} WHERE CAST(timestamp AS DATE) IN ({listed}))"

    def execute(self, sql: str) -> None:
        self.con.execute(sql)


def prepare_cost_line_store(con: duckdb.DuckDBPyConnection) -> None:
    """Create the store and its view, or bring a ledger written by an older version to them: a
    full-width ``cost_lines`` table becomes the store as it is (renaming is instant)."""
    kind = con.execute(
        "SELECT table_type FROM information_schema.tables WHERE table_name = ?", [COST_LINES_TABLE]
    ).fetchone()
    if kind and kind[0] == "BASE TABLE":
        con.execute(f"ALTER TABLE {quote(COST_LINES_TABLE)} RENAME TO {quote(STORED_COST_LINES)}")
    if not stored_columns(con):
        con.execute(create_table_sql(STORED_COST_LINES, _CORE, DUCKDB_TYPES))
    # Only when it changed: a write on every open would change the file, and with it the version
    # that report caches key on.
    if _columns_of(con, COST_LINES_TABLE) != list(_view_expressions(con)):
        refresh_cost_lines_view(con)


def stored_columns(con: duckdb.DuckDBPyConnection) -> list[str]:
    return _columns_of(con, STORED_COST_LINES)


def _columns_of(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    return [
        r[0]
        for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position",
            [table],
        ).fetchall()
    ]


def store_columns(con: duckdb.DuckDBPyConnection, names: list[str]) -> None:
    """Make sure the store has these columns: ledger columns with their type, provider columns as
    text. DuckDB identifiers ignore case, so ResourceGroup and resourcegroup are one column."""
    present = {n.lower() for n in stored_columns(con)}
    added = False
    for name in names:
        if name.lower() in present:
            continue
        present.add(name.lower())
        column = _CANONICAL.get(name.lower())
        kind = DUCKDB_TYPES[column.kind] if column else "VARCHAR"
        con.execute(f"ALTER TABLE {quote(STORED_COST_LINES)} ADD COLUMN {quote(name)} {kind}")
        added = True
    if added:
        refresh_cost_lines_view(con)


def refresh_cost_lines_view(con: duckdb.DuckDBPyConnection) -> None:
    """``cost_lines``: every ledger column in canonical order (NULL where nothing is stored), then
    the provider columns deliveries kept, in the order they arrived."""
    exprs = ", ".join(f"{e} AS {quote(name)}" for name, e in _view_expressions(con).items())
    con.execute(
        f"CREATE OR REPLACE VIEW {quote(COST_LINES_TABLE)} AS SELECT {exprs} FROM {quote(STORED_COST_LINES)}"
    )


def _view_expressions(con: duckdb.DuckDBPyConnection) -> dict[str, str]:
    stored = {n.lower(): n for n in stored_columns(con)}
    exprs = {
        c.name: quote(stored[c.name.lower()])
        if c.name.lower() in stored
        else f"CAST(NULL AS {DUCKDB_TYPES[c.kind]})"
        for c in COST_LINE_COLUMNS
    }
    exprs |= {name: quote(name) for folded, name in stored.items() if folded not in _CANONICAL}
    return exprs
