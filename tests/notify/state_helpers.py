"""One migrated state database per test module and backend, emptied before each test.

Migrating takes a second or two per database; doing it once per module instead of once per
test keeps these suites fast, and emptying every table gives each test the same clean start.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from comptroller.state.db import StateDB
from comptroller.state.models import Base
from tests.conftest import drop_tables, state_tables


def open_module_state(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[StateDB]:
    postgres = request.param == "postgres"
    if postgres:
        url = request.getfixturevalue("pg_url")
        drop_tables(url, state_tables())
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('state') / 'state.db'}"
    db = StateDB(url)
    with db.engine.connect() as connection:  # rows the migrations seed, put back by clear_state
        db.seed_rows = {  # type: ignore[attr-defined]
            table: [dict(row._mapping) for row in connection.execute(table.select())]
            for table in Base.metadata.sorted_tables
        }
    try:
        yield db
    finally:
        db.close()
        if postgres:
            drop_tables(url, state_tables())


def clear_state(db: StateDB) -> StateDB:
    """Every table back to what the migrations left: emptied, then seeded rows restored."""
    with db.engine.begin() as connection:
        for table in reversed(Base.metadata.sorted_tables):
            connection.execute(table.delete())
        for table, rows in db.seed_rows.items():  # type: ignore[attr-defined]
            if rows:
                connection.execute(table.insert(), rows)
    return db
