"""A control-plane context over the state backends (SQLite, PostgreSQL) and a DuckDB ledger."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from comptroller.config import Settings
from comptroller.context import Context


@pytest.fixture
def settings(state_url, tmp_path) -> Settings:
    return Settings(
        home=tmp_path / "home",
        ledger_url=f"duckdb:///{tmp_path / 'ledger.duckdb'}",
        state_url=state_url,
    )


@pytest.fixture
def ctx(settings) -> Iterator[Context]:
    with Context(settings) as opened:
        yield opened
