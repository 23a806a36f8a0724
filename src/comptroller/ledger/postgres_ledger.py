"""The ledger on PostgreSQL: rows are staged and checked in an in-memory DuckDB, then copied in.

Staging in DuckDB keeps every ingest's SQL and every check in one dialect; PostgreSQL sees only a
COPY and a scoped DELETE inside one transaction, so a failed delivery leaves it untouched.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any
from urllib.parse import urlparse

import duckdb
import ibis
import psycopg
import pyarrow as pa

from comptroller.ledger.arrow_schema import USAGE_SCHEMA
from comptroller.ledger.schema import (
    COST_LINE_COLUMNS,
    COST_LINES_TABLE,
    USAGE_EVENT_COLUMNS,
    USAGE_EVENTS_TABLE,
)
from comptroller.ledger.sqltypes import (
    DUCKDB_TYPES,
    POSTGRES_TYPES,
    create_table_sql,
    ensure_table_sql,
    quote,
)
from comptroller.ledger.store import DeliveryWriter, Ledger, transaction

COPY_BATCH_ROWS = 50_000


class PostgresLedger(Ledger):
    dialect = "postgres"

    def __init__(self, url: str) -> None:
        self.url = url
        self.con = psycopg.connect(url, autocommit=True)
        for table, columns in (
            (COST_LINES_TABLE, COST_LINE_COLUMNS),
            (USAGE_EVENTS_TABLE, USAGE_EVENT_COLUMNS),
        ):
            existing = {
                r[0]
                for r in self.con.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_name = %s AND table_schema = current_schema()",
                    [table],
                ).fetchall()
            }
            for statement in ensure_table_sql(table, columns, POSTGRES_TYPES, existing):
                self.con.execute(statement)
        self.con.execute(
            f"CREATE UNIQUE INDEX IF NOT EXISTS usage_events_event_id ON {quote(USAGE_EVENTS_TABLE)} (event_id)"
        )
        self.con.execute(
            f"CREATE INDEX IF NOT EXISTS cost_lines_scope ON {quote(COST_LINES_TABLE)} "
            '("x_Source", "BillingAccountId", "BillingPeriodStart")'
        )
        self._backend = ibis.postgres.connect(**self._connect_args())

    @property
    def backend(self) -> ibis.BaseBackend:
        return self._backend

    def execute(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        cur = self.con.execute(sql, params or None)
        return cur.fetchall() if cur.description else []

    @contextmanager
    def delivery(self, delivery_id: str) -> Iterator[DeliveryWriter]:
        staging = duckdb.connect(":memory:")
        staging.execute("SET TimeZone = 'UTC'")
        staging.execute(create_table_sql("_delivery", COST_LINE_COLUMNS, DUCKDB_TYPES))
        with psycopg.connect(self.url) as pg:  # one transaction; commits on clean exit
            writer = _PostgresDelivery(pg, staging, delivery_id)
            try:
                with transaction(writer, writer.flush, pg.rollback):
                    yield writer
            finally:
                staging.close()

    def _connect_args(self) -> dict[str, Any]:
        parts = urlparse(self.url)
        return {
            "host": parts.hostname or "localhost",
            "port": parts.port or 5432,
            "user": parts.username,
            "password": parts.password,
            "database": parts.path.lstrip("/") or None,
        }

    def close(self) -> None:
        self._backend.disconnect()
        self.con.close()


class _PostgresDelivery(DeliveryWriter):
    def __init__(self, pg: psycopg.Connection, staging: duckdb.DuckDBPyConnection, delivery_id: str) -> None:
        self.pg = pg
        self._staging = staging
        self.delivery_id = delivery_id
        self._extra: list[str] = []

    @property
    def staging(self) -> duckdb.DuckDBPyConnection:
        return self._staging

    def add_columns(self, names: list[str]) -> None:
        for name in names:
            if name in self._extra:
                continue
            self.pg.execute(
                f"ALTER TABLE {quote(COST_LINES_TABLE)} ADD COLUMN IF NOT EXISTS {quote(name)} TEXT"
            )
            self._staging.execute(f"ALTER TABLE _delivery ADD COLUMN IF NOT EXISTS {quote(name)} VARCHAR")
            self._extra.append(name)

    def insert_cost_lines(self, select_sql: str, columns: list[str]) -> int:
        cols = ", ".join(quote(c) for c in columns)
        row = self._staging.execute(f"INSERT INTO _delivery ({cols}) {select_sql}").fetchone()
        return int(row[0]) if row else 0

    def delivered_relation(self) -> str:
        return "_delivery"

    def replace_scopes(self, scope_columns: tuple[str, ...]) -> int:
        self._copy_staged()
        keys = ", ".join(quote(c) for c in scope_columns)
        cur = self.pg.execute(
            f"DELETE FROM {quote(COST_LINES_TABLE)} WHERE {quote('x_DeliveryId')} <> %s "
            f"AND ({keys}) IN (SELECT DISTINCT {keys} FROM {quote(COST_LINES_TABLE)} "
            f"WHERE {quote('x_DeliveryId')} = %s)",
            [self.delivery_id, self.delivery_id],
        )
        return cur.rowcount

    def _copy_staged(self) -> None:
        """Move staged rows into PostgreSQL; idempotent so flush can call it again."""
        result = self._staging.execute("SELECT * FROM _delivery")
        names = [d[0] for d in result.description]
        if not names:
            return
        cols = ", ".join(quote(c) for c in names)
        with self.pg.cursor().copy(f"COPY {quote(COST_LINES_TABLE)} ({cols}) FROM STDIN") as copy:
            while batch := result.fetchmany(COPY_BATCH_ROWS):
                for record in batch:
                    copy.write_row(record)
        self._staging.execute("DELETE FROM _delivery")

    def insert_usage_events(self, arrow_table: Any, *, replace: bool = False) -> int:
        names = arrow_table.column_names
        cols = ", ".join(quote(c) for c in names)
        self.pg.execute(
            f"CREATE TEMP TABLE _incoming_events (LIKE {quote(USAGE_EVENTS_TABLE)}) ON COMMIT DROP"
        )
        with self.pg.cursor().copy(f"COPY _incoming_events ({cols}) FROM STDIN") as copy:
            for batch in arrow_table.to_batches(COPY_BATCH_ROWS):
                for record in zip(*(col.to_pylist() for col in batch.columns), strict=True):
                    copy.write_row(record)
        if replace:
            self.pg.execute(
                f"DELETE FROM {quote(USAGE_EVENTS_TABLE)} WHERE event_id IN (SELECT event_id FROM _incoming_events)"
            )
        cur = self.pg.execute(
            f"INSERT INTO {quote(USAGE_EVENTS_TABLE)} ({cols}) SELECT DISTINCT ON (event_id) {cols} "
            f"FROM _incoming_events ORDER BY event_id ON CONFLICT (event_id) DO NOTHING"
        )
        return cur.rowcount

    def usage_events_on(self, days: list[date]) -> str:
        cur = self.pg.execute(
            f"SELECT {', '.join(quote(n) for n in USAGE_SCHEMA.names)} FROM {quote(USAGE_EVENTS_TABLE)} "
            "WHERE CAST(timestamp AS DATE) = ANY(%s)",
            [days],
        )
        rows = cur.fetchall()
        columns = list(zip(*rows, strict=True)) if rows else [[] for _ in USAGE_SCHEMA.names]
        table = pa.table(
            [pa.array(list(c), f.type) for c, f in zip(columns, USAGE_SCHEMA, strict=True)],
            schema=USAGE_SCHEMA,
        )
        self._staging.register("_day_events", table)
        return "_day_events"

    def execute(self, sql: str) -> None:
        self._copy_staged()
        self.pg.execute(sql)

    def flush(self) -> None:
        self._copy_staged()
        self.pg.commit()
