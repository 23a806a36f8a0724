"""The embedded ledger: one DuckDB file, written in place within a transaction."""

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
from comptroller.ledger.sqltypes import DUCKDB_TYPES, ensure_table_sql, literal, quote
from comptroller.ledger.store import DeliveryWriter, Ledger, retry_while_locked, transaction


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
            for table, columns in (
                (COST_LINES_TABLE, COST_LINE_COLUMNS),
                (USAGE_EVENTS_TABLE, USAGE_EVENT_COLUMNS),
            ):
                existing = {
                    r[0]
                    for r in self.con.execute(
                        "SELECT column_name FROM information_schema.columns WHERE table_name = ?", [table]
                    ).fetchall()
                }
                for statement in ensure_table_sql(table, columns, DUCKDB_TYPES, existing):
                    self.con.execute(statement)
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
        # DuckDB identifiers ignore case: ResourceGroup and resourcegroup are one column.
        existing = {r[0].lower() for r in self.con.execute(f"DESCRIBE {quote(COST_LINES_TABLE)}").fetchall()}
        for name in names:
            if name.lower() not in existing:
                existing.add(name.lower())
                self.con.execute(f"ALTER TABLE {quote(COST_LINES_TABLE)} ADD COLUMN {quote(name)} VARCHAR")

    def insert_cost_lines(self, select_sql: str, columns: list[str]) -> int:
        cols = ", ".join(quote(c) for c in columns)
        row = self.con.execute(f"INSERT INTO {quote(COST_LINES_TABLE)} ({cols}) {select_sql}").fetchone()
        return int(row[0]) if row else 0

    def delivered_relation(self) -> str:
        return (
            f"(SELECT * FROM {quote(COST_LINES_TABLE)} "
            f"WHERE {quote('x_DeliveryId')} = {literal(self.delivery_id)})"
        )

    def replace_scopes(self, scope_columns: tuple[str, ...]) -> int:
        keys = ", ".join(quote(c) for c in scope_columns)
        row = self.con.execute(
            f"DELETE FROM {quote(COST_LINES_TABLE)} WHERE {quote('x_DeliveryId')} <> ? "
            f"AND ({keys}) IN (SELECT DISTINCT {keys} FROM {quote(COST_LINES_TABLE)} "
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
