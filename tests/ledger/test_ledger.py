"""The ledger: opened by URL, created with the canonical schema, written only by whole deliveries."""

from __future__ import annotations

from decimal import Decimal

import pytest

from comptroller.errors import ConfigError
from comptroller.ingest.focus_ingest import ingest_focus, inspect_focus_files
from comptroller.ingest.json_lookups import Lookups
from comptroller.ledger.schema import COST_LINE_COLUMNS, FOCUS_COLUMNS, USAGE_EVENT_COLUMNS
from comptroller.ledger.store import open_ledger
from tests.focus_fixtures import ledger_totals, write_focus


def test_cost_lines_have_every_column_focus_first_then_ours(ledger):
    columns = ledger.columns()
    assert columns == [c.name for c in COST_LINE_COLUMNS]
    assert all(not c.startswith("x_") for c in columns[: len(FOCUS_COLUMNS)])
    assert all(c.startswith("x_") for c in columns[len(FOCUS_COLUMNS) :])
    assert ledger.columns("usage_events") == [c.name for c in USAGE_EVENT_COLUMNS]
    assert ledger_totals(ledger) == (0, Decimal(0), Decimal(0))


def test_reopening_keeps_rows_and_schema(ledger_url, tmp_path):
    path = write_focus(tmp_path / "a.csv", [{"cost": "1.5", "ExtraColumn": "e"}])
    with open_ledger(ledger_url) as first:
        ingest_focus(first, [path])
    with open_ledger(ledger_url) as second:
        assert ledger_totals(second) == (1, Decimal("1.5"), Decimal("1.5"))
        assert "x_ExtraColumn" in second.columns()
        assert second.cost_lines().count().execute() == 1


NO_LOOKUPS = Lookups.build([], [])
"""These rows carry no Tags or SkuPriceDetails; the writer, not the mapping, is under test."""


def test_a_delivery_that_raises_writes_nothing(ledger, tmp_path):
    (focus,) = inspect_focus_files([write_focus(tmp_path / "a.csv", [{"cost": "5"}, {"cost": "6"}])])
    with pytest.raises(RuntimeError, match="stop"), ledger.delivery("d-1") as writer:
        writer.add_columns(["x_Halfway"])
        select = focus.select_sql("d-1", NO_LOOKUPS.bind(writer.staging, "_raises"))
        assert writer.insert_cost_lines(select, focus.ledger_columns()) == 2
        raise RuntimeError("stop")
    assert ledger_totals(ledger) == (0, Decimal(0), Decimal(0))
    assert "x_Halfway" not in ledger.columns()


def test_a_clean_delivery_commits(ledger, tmp_path):
    (focus,) = inspect_focus_files([write_focus(tmp_path / "a.csv", [{"cost": "5"}, {"cost": "6"}])])
    with ledger.delivery("d-1") as writer:
        select = focus.select_sql("d-1", NO_LOOKUPS.bind(writer.staging, "_commits"))
        writer.insert_cost_lines(select, focus.ledger_columns())
    assert ledger_totals(ledger) == (2, Decimal(11), Decimal(11))
    assert ledger.execute('SELECT DISTINCT "x_DeliveryId", "x_Source" FROM cost_lines') == [("d-1", "focus")]


def test_duckdb_url_forms(tmp_path):
    path = tmp_path / "sub" / "ledger.duckdb"
    path.parent.mkdir()
    with open_ledger(f"duckdb:///{path}") as ledger:
        assert ledger.dialect == "duckdb"
    assert path.exists()
    with open_ledger(f"duckdb:///{path}", read_only=True) as ledger:
        assert ledger_totals(ledger) == (0, Decimal(0), Decimal(0))
    with open_ledger("duckdb://:memory:") as ledger:
        assert ledger.columns() == [c.name for c in COST_LINE_COLUMNS]


@pytest.mark.parametrize("url", ["sqlite:///x.db", "mysql://u@h/db", "ledger.duckdb"])
def test_unknown_ledger_urls_are_config_errors(url):
    with pytest.raises(ConfigError, match="duckdb"):
        open_ledger(url)


@pytest.mark.postgres
def test_postgres_url_with_driver_suffix(pg_url):
    with open_ledger(pg_url.replace("postgresql://", "postgresql+psycopg://")) as ledger:
        try:
            assert ledger.dialect == "postgres"
            assert ledger.columns() == [c.name for c in COST_LINE_COLUMNS]
        finally:
            ledger.execute("DROP TABLE cost_lines, usage_events")
