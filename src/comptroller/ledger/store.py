"""The Ledger object: owns the ledger's connections and every write to it.

Reads go through Ibis so that one query compiles to DuckDB (embedded default) and PostgreSQL
(tested in CI) alike. Writes are deliveries: a set of rows staged, checked and swapped in within
one transaction, so a reader never sees half an ingest and a failed check leaves nothing behind.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from typing import Any

import duckdb
import ibis

from comptroller.errors import ConfigError
from comptroller.ledger.schema import COST_LINES_TABLE, USAGE_EVENTS_TABLE

LOCK_WAIT_SECONDS = 30.0


def duckdb_path(url: str) -> str | None:
    """The file of a ``duckdb:///relative`` or ``duckdb:////absolute`` URL (``:memory:`` for
    ``duckdb://``); None when the URL names another backend."""
    if not url.startswith("duckdb://"):
        return None
    return url.removeprefix("duckdb://").removeprefix("/") or ":memory:"


def open_ledger(url: str, *, read_only: bool = False) -> Ledger:
    """Open the ledger named by a URL: ``duckdb:///file``, ``duckdb://:memory:`` or ``postgresql://...``."""
    path = duckdb_path(url)
    if path is not None:
        from comptroller.ledger.duckdb_ledger import DuckDBLedger

        return DuckDBLedger(path, read_only)
    if url.startswith(("postgresql://", "postgres://", "postgresql+psycopg://")):
        from comptroller.ledger.postgres_ledger import PostgresLedger

        return PostgresLedger(url.replace("postgresql+psycopg://", "postgresql://"))
    raise ConfigError(f"ledger URL {url!r} is not duckdb:///PATH or postgresql://...")


def retry_while_locked(connect: Any, description: str) -> Any:
    """DuckDB lets one process write a file at a time; the CLI and server take turns."""
    deadline = time.monotonic() + LOCK_WAIT_SECONDS
    while True:
        try:
            return connect()
        except duckdb.IOException as exc:
            if "lock" not in str(exc).lower() or time.monotonic() > deadline:
                raise ConfigError(f"cannot open {description}: {exc}") from exc
            time.sleep(0.1)


class Ledger(ABC):
    """What every ledger backend offers: Ibis tables to read, deliveries to write."""

    dialect: str

    @property
    @abstractmethod
    def backend(self) -> ibis.BaseBackend: ...

    def cost_lines(self) -> ibis.Table:
        return self.backend.table(COST_LINES_TABLE)

    def usage_events(self) -> ibis.Table:
        return self.backend.table(USAGE_EVENTS_TABLE)

    def columns(self, table: str = COST_LINES_TABLE) -> list[str]:
        return list(self.backend.table(table).columns)

    @abstractmethod
    def delivery(self, delivery_id: str) -> Any:
        """A context manager yielding a :class:`DeliveryWriter`; commits on clean exit."""

    @abstractmethod
    def execute(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        """Run SQL on the ledger itself (maintenance, benchmarks' baselines)."""

    @abstractmethod
    def close(self) -> None: ...

    def __enter__(self) -> Ledger:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DeliveryWriter(ABC):
    """One write transaction. Rows are staged where DuckDB can read them, so ingest SQL and
    checks are written once in DuckDB's dialect whatever the ledger's backend is."""

    delivery_id: str

    @property
    @abstractmethod
    def staging(self) -> duckdb.DuckDBPyConnection:
        """The DuckDB connection in which source files are read and checks run."""

    @abstractmethod
    def add_columns(self, names: list[str]) -> None:
        """Add provider columns (already x_-prefixed) as text columns to cost lines."""

    @abstractmethod
    def insert_cost_lines(self, select_sql: str, columns: list[str]) -> int:
        """Insert the rows of a DuckDB SELECT; returns the row count."""

    @abstractmethod
    def delivered_relation(self) -> str:
        """A DuckDB relation (in ``staging``) holding the cost lines this delivery wrote."""

    @abstractmethod
    def replace_scopes(self, scope_columns: tuple[str, ...]) -> int:
        """Delete older rows that share a scope with this delivery's rows; returns how many."""

    @abstractmethod
    def insert_usage_events(self, arrow_table: Any, *, replace: bool = False) -> int:
        """Insert events whose event_id is new; returns how many were inserted. With ``replace``
        the stored events of the same ids are replaced instead (re-pricing history)."""

    @abstractmethod
    def usage_events_on(self, days: list[date]) -> str:
        """A DuckDB relation (in ``staging``) of every stored event on these UTC days,
        including those this delivery inserted."""

    @abstractmethod
    def execute(self, sql: str) -> None:
        """Run backend SQL inside the transaction (compiled by Ibis for the ledger's dialect)."""


@contextmanager
def transaction(writer: DeliveryWriter, commit: Any, rollback: Any) -> Iterator[DeliveryWriter]:
    try:
        yield writer
    except BaseException:
        rollback()
        raise
    commit()
