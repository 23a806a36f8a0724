"""Ledger backends for tests: a DuckDB file, and a fresh database on the local PostgreSQL."""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import psycopg

from comptroller.ledger.store import Ledger, open_ledger

PG_ADMIN_URL = os.environ.get("COMPTROLLER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")


@contextmanager
def scratch_postgres_database() -> Iterator[str]:
    """A database of its own, dropped afterwards, so tests never see each other's rows."""
    name = f"comptroller_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def open_test_ledger(kind: str, tmp_path: Path) -> Iterator[Ledger]:
    if kind == "duckdb":
        ledger = open_ledger(f"duckdb:///{tmp_path / 'ledger.duckdb'}")
        try:
            yield ledger
        finally:
            ledger.close()
        return
    with scratch_postgres_database() as url:
        ledger = open_ledger(url)
        try:
            yield ledger
        finally:
            ledger.close()
