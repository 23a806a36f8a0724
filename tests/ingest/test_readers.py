"""CSV on Arrow's typed reader (opt-in) or DuckDB's; either way the ledger is the same."""

from __future__ import annotations

import pytest

from comptroller.ingest.focus_ingest import ingest_focus
from comptroller.ledger.schema import COST_LINE_COLUMNS
from comptroller.ledger.store import open_ledger
from tests.focus_fixtures import write_focus

COMPARED = [c.name for c in COST_LINE_COLUMNS if c.name not in ("x_DeliveryId", "x_SourceFile")]


def rows(tags_team: str = "search", start: str = "2025-01-10T00:00:00Z") -> list[dict]:
    return [
        {
            "cost": "1.123456789012345",
            "Tags": {"team": tags_team, "Env": 3},
            "ChargePeriodStart": start,
            "SkuPriceDetails": {"ModelId": "gpt-4o", "ModelDeveloper": "OpenAI"},
        },
        {"cost": "2", "Tags": " ", "SubAccountName": "Atlas"},
        {"cost": "3", "Tags": {"user:team": "growth", "Product": "assistant"}},
    ]


def stored(ledger) -> list[tuple]:
    columns = ", ".join(f'"{c}"' for c in COMPARED)
    return ledger.execute(f'SELECT {columns} FROM cost_lines ORDER BY "BilledCost"')


@pytest.mark.parametrize("name", ["export.csv", "export.csv.gz"])
def test_clean_csv_takes_the_arrow_reader_when_asked(ledger, tmp_path, name):
    result = ingest_focus(ledger, [write_focus(tmp_path / name, rows())], csv_reader="arrow")
    assert [f.reader for f in result.files] == ["arrow"]
    teams = ledger.execute(
        'SELECT "x_Team", "x_Product", "x_Model", "x_Vendor" FROM cost_lines ORDER BY "BilledCost"'
    )
    assert teams == [
        ("search", None, "gpt-4o", "OpenAI"),
        (None, None, None, "Anthropic"),
        ("growth", "assistant", None, "Anthropic"),
    ]


def test_csv_reads_with_duckdb_by_default(ledger, tmp_path):
    assert ingest_focus(ledger, [write_focus(tmp_path / "a.csv", rows())]).files[0].reader == "duckdb"


def test_naive_timestamps_fall_back_to_duckdb(ledger, tmp_path):
    path = write_focus(tmp_path / "naive.csv", rows(start="2025-01-10 00:00:00"))
    result = ingest_focus(ledger, [path], csv_reader="arrow")
    assert [f.reader for f in result.files] == ["duckdb"]
    assert ledger.execute("SELECT count(*) FROM cost_lines")[0][0] == 3


def test_both_readers_store_identical_rows(tmp_path):
    csv = write_focus(tmp_path / "a.csv", rows())
    parquet = write_focus(tmp_path / "a.parquet", rows())
    with (
        open_ledger(f"duckdb:///{tmp_path / 'one.duckdb'}") as one,
        open_ledger(f"duckdb:///{tmp_path / 'two.duckdb'}") as two,
    ):
        assert ingest_focus(one, [csv], csv_reader="arrow").files[0].reader == "arrow"
        assert ingest_focus(two, [parquet]).files[0].reader == "duckdb"
        assert stored(one) == stored(two)
