"""One demo dataset per test session, one demo loaded into a home per session, plus readers
that see the files the way ingest does."""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pyarrow.parquet as pq
import pytest

from comptroller.config import Settings
from comptroller.context import Context
from comptroller.demo import DemoDataset, generate
from comptroller.demo.loader import load_demo
from comptroller.ledger.schema import FOCUS_COLUMNS, Kind

END = dt.date(2025, 6, 18)
SCALE = 0.25
LOADED_SCALE = 0.05
"""The loaded demo is small: its cost files are full size at any scale, and model calls only
need to be there, not many."""
KINDS = {c.name: c.kind for c in FOCUS_COLUMNS}


@pytest.fixture(scope="session")
def demo(tmp_path_factory: pytest.TempPathFactory) -> DemoDataset:
    return generate(tmp_path_factory.mktemp("demo"), end=END, scale=SCALE)


@pytest.fixture(scope="session")
def loaded_demo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Context]:
    """The demo loaded through ``load_demo`` into its own embedded home (DuckDB + SQLite, no
    Redis), the way ``comptroller demo`` loads it; shared by the whole session."""
    home = tmp_path_factory.mktemp("demo-home")
    settings = Settings(
        home=home,
        ledger_url=f"duckdb:///{home / 'ledger.duckdb'}",
        state_url=f"sqlite:///{home / 'state.db'}",
    )
    with Context(settings) as ctx:
        load_demo(ctx, end=END, scale=LOADED_SCALE)
        yield ctx


@pytest.fixture(scope="session")
def files(demo: DemoDataset) -> dict[str, Path]:
    return {p.name: p for p in demo.focus_files}


def csv_text(path: Path) -> str:
    raw = path.read_bytes()
    return (gzip.decompress(raw) if path.name.endswith(".gz") else raw).decode("utf-8")


def null_token(path: Path) -> str:
    return "NULL" if "1.0" in path.name else ""


def typed(name: str, value: Any) -> Any:
    """A cell as Python sees FOCUS: Decimal for decimals, aware datetime for dates, else text."""
    if value is None or not isinstance(value, str):
        return value
    kind = KINDS.get(name)
    if kind is Kind.DECIMAL:
        return Decimal(value)
    if kind is Kind.TIMESTAMP:
        return dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value


def load_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of any demo FOCUS file with typed FOCUS cells (extra columns stay as read)."""
    if path.suffix == ".parquet":
        return pq.read_table(path).to_pylist()
    null = null_token(path)
    reader = csv.DictReader(io.StringIO(csv_text(path)))
    return [{k: typed(k, None if v == null else v) for k, v in row.items()} for row in reader]


def relation_sql(path: Path) -> str:
    """A DuckDB table expression over a demo file, reading every CSV cell as text."""
    if path.suffix == ".parquet":
        return f"read_parquet('{path}')"
    return f"read_csv('{path}', all_varchar = true, nullstr = '{null_token(path)}', header = true)"


def union_sql(paths: list[Path]) -> str:
    """All cost lines of the demo with the columns rules use, as one relation."""
    cols = "SubAccountName, ServiceName, ServiceCategory, ResourceName, ProviderName, Tags"
    parts = [
        f"SELECT {cols}, CAST(EffectiveCost AS DECIMAL(38, 12)) AS EffectiveCost, '{p.name}' AS file "
        f"FROM {relation_sql(p)}"
        for p in paths
    ]
    return "(" + " UNION ALL ".join(parts) + ")"


@pytest.fixture()
def con() -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect()
    yield connection
    connection.close()
