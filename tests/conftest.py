"""Shared fixtures: the ledger and the state database on every backend they run on.

PostgreSQL tests share one scratch database per session (created on the local server, dropped
with FORCE at the end); each test gets empty tables, because the fixtures drop what they created.
Subpackages that define their own ``ledger`` fixture keep it; these are the defaults.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest

import comptroller.agents.models  # agents, alerts, approvals, notify: state tables to drop
import comptroller.budgets.alert_models
import comptroller.budgets.store  # its tables are state tables to drop
import comptroller.governance.approval_models
import comptroller.governance.models  # its tables are state tables to drop
import comptroller.keys.models  # its tables are state tables to drop
import comptroller.notify.models  # noqa: F401  (every model module: state tables to drop)
from comptroller.ledger.schema import COST_LINES_TABLE, USAGE_EVENTS_TABLE
from comptroller.ledger.store import Ledger, open_ledger
from comptroller.state.db import StateDB
from comptroller.state.models import Base

PG_ADMIN_URL = os.environ.get("COMPTROLLER_TEST_PG", "postgresql://postgres@127.0.0.1:5432/test")
LEDGER_TABLES = (COST_LINES_TABLE, USAGE_EVENTS_TABLE)
STATE_TABLES = (*Base.metadata.tables, "alembic_version")


def state_tables(url: str | None = None) -> tuple[str, ...]:
    """Read when a test runs, so models declared in packages imported later are dropped too;
    with ``url``, also every other non-ledger table there (each capability's migrations create
    tables whose models this session may never have imported)."""
    names = [*Base.metadata.tables, "alembic_version"]
    if url is not None:
        with psycopg.connect(url) as con:
            names += [
                r[0] for r in con.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ]
    return tuple(n for n in dict.fromkeys(names) if n not in LEDGER_TABLES)


BACKENDS = ["duckdb", pytest.param("postgres", marks=pytest.mark.postgres)]
STATE_BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(scope="session")
def pg_url() -> Iterator[str]:
    """URL of a database created for this test session and dropped after it."""
    name = f"comptroller_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield PG_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def drop_tables(url: str, tables: tuple[str, ...]) -> None:
    with psycopg.connect(url, autocommit=True) as con:
        con.execute("DROP TABLE IF EXISTS " + ", ".join(f'"{t}"' for t in tables) + " CASCADE")


def scratch_ledger_url(kind: str, directory: Path, request: pytest.FixtureRequest) -> str:
    """A URL of an empty ledger: a new DuckDB file, or the session database with no ledger tables."""
    if kind == "duckdb":
        return f"duckdb:///{directory / 'ledger.duckdb'}"
    url = request.getfixturevalue("pg_url")
    drop_tables(url, LEDGER_TABLES)
    return url


@pytest.fixture(params=BACKENDS)
def ledger_url(request, tmp_path) -> Iterator[str]:
    """An empty ledger's URL (``duckdb:////abs/path`` or ``postgresql://...``), cleared afterwards."""
    url = scratch_ledger_url(request.param, tmp_path, request)
    yield url
    if request.param == "postgres":
        drop_tables(url, LEDGER_TABLES)


@pytest.fixture
def ledger(ledger_url) -> Iterator[Ledger]:
    opened = open_ledger(ledger_url)
    try:
        yield opened
    finally:
        opened.close()


@pytest.fixture(scope="module", params=BACKENDS)
def module_ledger(request, tmp_path_factory) -> Iterator[Ledger]:
    """One empty ledger per module and backend, for modules whose tests only read what a module
    fixture loaded. A module using it must not also use ``ledger``: both own the same tables."""
    url = scratch_ledger_url(request.param, tmp_path_factory.mktemp("ledger"), request)
    opened = open_ledger(url)
    try:
        yield opened
    finally:
        opened.close()
        if request.param == "postgres":
            drop_tables(url, LEDGER_TABLES)


@pytest.fixture(params=STATE_BACKENDS)
def state_url(request, tmp_path) -> Iterator[str]:
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    url = request.getfixturevalue("pg_url")
    drop_tables(url, state_tables(url))
    yield url
    drop_tables(url, state_tables(url))


@pytest.fixture
def state(state_url) -> Iterator[StateDB]:
    db = StateDB(state_url)
    try:
        yield db
    finally:
        db.close()


@pytest.fixture
def home(tmp_path, monkeypatch):
    """An embedded Comptroller home of its own, for tests that drive the CLI or the app."""
    monkeypatch.setenv("COMPTROLLER_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("COMPTROLLER_LEDGER_URL", raising=False)
    monkeypatch.delenv("COMPTROLLER_STATE_URL", raising=False)
    return tmp_path
