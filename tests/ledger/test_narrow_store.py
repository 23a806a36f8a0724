"""The DuckDB ledger stores only the cost-line columns some delivery filled, behind a full view."""

from __future__ import annotations

from decimal import Decimal

import duckdb
import pytest

from comptroller.ingest.focus_ingest import ingest_focus
from comptroller.ledger.duckdb_ledger import CORE_COLUMNS, STORED_COST_LINES, stored_columns
from comptroller.ledger.schema import COST_LINE_COLUMNS
from comptroller.ledger.sqltypes import DUCKDB_TYPES, create_table_sql
from comptroller.ledger.store import open_ledger
from comptroller.reports.cache import duckdb_file_version
from tests.focus_fixtures import ledger_totals, write_focus


@pytest.fixture
def url(tmp_path) -> str:
    return f"duckdb:///{tmp_path / 'ledger.duckdb'}"


def _stored_via(ledger) -> list[str]:
    return stored_columns(ledger.con)


def test_a_new_ledger_stores_only_the_columns_every_line_has(url):
    with open_ledger(url) as ledger:
        assert _stored_via(ledger) == list(CORE_COLUMNS)
        assert ledger.columns() == [c.name for c in COST_LINE_COLUMNS]


def test_an_ingest_stores_what_its_file_fills_and_the_view_keeps_every_column(url, tmp_path):
    path = write_focus(
        tmp_path / "a.csv", [{"cost": "2.5", "Tags": {"team": "search"}, "ResourceGroup": "rg-1"}]
    )
    with open_ledger(url) as ledger:
        ingest_focus(ledger, [path])
        assert ledger.columns() == [c.name for c in COST_LINE_COLUMNS] + ["x_ResourceGroup"]
        row = ledger.execute(
            'SELECT "x_Team", "x_ResourceGroup", "CommitmentDiscountId", "x_FxRate" FROM cost_lines'
        )
        stored = _stored_via(ledger)
    assert row == [("search", "rg-1", None, None)]
    assert {"x_Team", "x_ResourceGroup", "x_SourceFile", "Tags"} <= set(stored)
    # Nothing in the file fills these, so nothing stores them.
    assert not {"x_FxRate", "x_OriginalCurrency", "x_Agent", "x_UsageSource"} & set(stored)
    assert len(stored) < len(COST_LINE_COLUMNS)


def test_a_later_file_adds_its_new_columns_and_earlier_lines_read_null(url, tmp_path):
    first = write_focus(tmp_path / "one.csv", [{"cost": "1", "BillingAccountId": "acct-1"}])
    second = write_focus(
        tmp_path / "two.csv", [{"cost": "2", "Tags": {"agent": "triage"}, "BillingAccountId": "acct-2"}]
    )
    with open_ledger(url) as ledger:
        ingest_focus(ledger, [first])
        assert "x_Agent" not in _stored_via(ledger)
        ingest_focus(ledger, [second])
        assert "x_Agent" in _stored_via(ledger)
        rows = ledger.execute('SELECT "BilledCost", "x_Agent" FROM cost_lines ORDER BY 1')
    assert rows == [(Decimal(1), None), (Decimal(2), "triage")]


def test_a_rejected_delivery_adds_no_column(url, tmp_path):
    good = write_focus(tmp_path / "good.csv", [{"cost": "1"}])
    bad = write_focus(tmp_path / "bad.csv", [{"cost": "1", "Tags": {"agent": "x"}, "ChargeCategory": "Nope"}])
    with open_ledger(url) as ledger:
        ingest_focus(ledger, [good])
        before = _stored_via(ledger)
        with pytest.raises(Exception, match="ChargeCategory"):
            ingest_focus(ledger, [bad])
        assert _stored_via(ledger) == before
        assert ledger.columns() == [c.name for c in COST_LINE_COLUMNS]
        assert ledger_totals(ledger) == (1, Decimal(1), Decimal(1))


def test_a_full_width_ledger_from_an_older_version_keeps_its_lines(tmp_path):
    path = tmp_path / "old.duckdb"
    con = duckdb.connect(str(path))
    con.execute(create_table_sql("cost_lines", COST_LINE_COLUMNS, DUCKDB_TYPES))
    con.execute(
        'INSERT INTO cost_lines ("BilledCost", "EffectiveCost", "x_Source", "x_DeliveryId", "x_Team") '
        "VALUES (4.25, 4.25, 'focus', 'old', 'search')"
    )
    con.execute('ALTER TABLE cost_lines ADD COLUMN "x_Provider_Extra" VARCHAR')
    con.close()
    url = f"duckdb:///{path}"
    with open_ledger(url) as ledger:
        assert ledger_totals(ledger) == (1, Decimal("4.25"), Decimal("4.25"))
        assert ledger.columns() == [c.name for c in COST_LINE_COLUMNS] + ["x_Provider_Extra"]
        assert ledger.execute('SELECT "x_Team" FROM cost_lines') == [("search",)]
        tables = dict(ledger.execute("SELECT table_name, table_type FROM information_schema.tables"))
    assert tables["cost_lines"] == "VIEW"
    assert tables[STORED_COST_LINES] == "BASE TABLE"


def test_reopening_writes_nothing(url, tmp_path):
    """Report caches key on the file's version, so opening a ledger must not change the file."""
    with open_ledger(url) as ledger:
        ingest_focus(ledger, [write_focus(tmp_path / "a.csv", [{"cost": "1", "Tags": {"team": "x"}}])])
    before = duckdb_file_version(url)
    with open_ledger(url) as ledger:
        assert ledger_totals(ledger) == (1, Decimal(1), Decimal(1))
    assert duckdb_file_version(url) == before
